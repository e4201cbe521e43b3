"""The API table of risk_scores for the isolation and role tests (see APP_TABLES in tests/api_endpoints.py).

Import tests.api_endpoints before this module: that module loads this one while it is being built.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.production_events.models import ErrorGroup, ErrorGroupDay, GroupingMethod, ProductionEvent, Severity
from apps.risk_scores.models import RiskScore, RiskSnapshot
from apps.risk_scores.services import recalculate_project_risk
from tests.api_endpoints import DEVELOPER_WRITE, Endpoint

ENDPOINTS = [
    Endpoint("get", "/api/v1/risk-scores", query={"project": "{project}"}),
    Endpoint("get", "/api/v1/risk-scores/{risk_score}"),
    Endpoint("get", "/api/v1/coverage-gaps", query={"project": "{project}"}),
    Endpoint("post", "/api/v1/quality/calculate-risk", {"project": "{project}"}, roles=DEVELOPER_WRITE),
]
# Risk lists are checked by tests/risk_scores/test_risk_api.py (test_isolation's _rows_of knows only core lists).
LIST_PATHS: list[str] = []
MODELS = [RiskScore, RiskSnapshot]
PLACEHOLDERS = {"risk_score_id": "risk_score"}
PUBLIC_OPERATIONS: set[tuple[str, str]] = set()


def make_error(project, *, fingerprint: str = "checkout-typeerror", url_path: str = "/checkout",
               component: str = "CheckoutForm", api_endpoint: str = "POST /api/orders", severity=Severity.ERROR,
               occurrences: int = 12, users: int = 4, daily: dict[int, int] | None = None) -> ErrorGroup:
    """An error group with one event and daily counts ({days ago: occurrences}), made directly with the ORM."""
    now = timezone.now()
    group = ErrorGroup.objects.create(
        project=project, fingerprint=fingerprint, grouping_method=GroupingMethod.TRACKER,
        title=f"TypeError on {url_path or component}", exception_type="TypeError", severity=severity,
        event_count=1, occurrence_count=occurrences, affected_users=users, first_seen=now - timedelta(days=10),
        last_seen=now, url_path=url_path, component=component, api_endpoint=api_endpoint)
    ProductionEvent.objects.create(
        project=project, group=group, source="sentry", external_id=f"ext-{fingerprint}", event_type="error",
        severity=severity, title=group.title, fingerprint=fingerprint, url=f"https://shop.example.com{url_path}",
        url_path=url_path, component=component, api_endpoint=api_endpoint, occurrence_count=occurrences,
        affected_users=users, first_seen=group.first_seen, last_seen=now)
    today = now.date()
    for days_ago, count in (daily if daily is not None else {0: occurrences}).items():
        ErrorGroupDay.objects.create(group=group, day=today - timedelta(days=days_ago), occurrences=count)
    return group


def create(org, project, ids: dict[str, str]) -> dict[str, str]:
    """An error on the project's checkout page, scored: the risk row the object endpoints name."""
    make_error(project)
    scores = recalculate_project_risk(project)
    page = next(score for score in scores if score.entity_type == "page")
    return {"risk_score": str(page.pk)}
