"""API table of production_events (events) for the isolation and role tests; endpoints.py joins the three."""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from apps.production_events.intake import intake_endpoints_for
from apps.production_events.models import (
    ErrorGroup,
    ErrorSettings,
    GroupingMethod,
    IntakeEndpoint,
    ProductionEvent,
    Severity,
    Source,
)
from tests.api_endpoints import ADMIN_ONLY, DEVELOPER_WRITE, Endpoint

ENDPOINTS = [
    Endpoint("get", "/api/v1/production-events"),
    Endpoint("get", "/api/v1/production-events/facets"),
    Endpoint("post", "/api/v1/production-events/status", {"events": ["{event}"], "status": "triaged"},
             roles=DEVELOPER_WRITE),
    Endpoint("get", "/api/v1/production-events/{event}"),
    Endpoint("patch", "/api/v1/production-events/{event}", {"status": "resolved", "note": "fixed in 1.2"},
             roles=DEVELOPER_WRITE),
    Endpoint("get", "/api/v1/error-groups"),
    Endpoint("get", "/api/v1/error-groups/{group}"),
    Endpoint("get", "/api/v1/projects/{project}/intake"),
    Endpoint("post", "/api/v1/projects/{project}/intake/{source}/rotate", roles=ADMIN_ONLY),
    Endpoint("get", "/api/v1/projects/{project}/error-settings"),
    Endpoint("patch", "/api/v1/projects/{project}/error-settings", {"similarity_threshold": 0.85, "auto_merge": True},
             roles=ADMIN_ONLY),
]
LIST_MODELS = {"/api/v1/production-events": ProductionEvent, "/api/v1/error-groups": ErrorGroup}
LIST_PATHS = list(LIST_MODELS)
MODELS = [ProductionEvent, ErrorGroup, ErrorSettings, IntakeEndpoint]
PLACEHOLDERS = {"event_id": "event", "group_id": "group", "source": "source"}
PUBLIC_OPERATIONS: set[tuple[str, str]] = set()


def make_event(project, *, title: str = "TypeError: cart is undefined", source: str = Source.SENTRY,
               severity: str = Severity.ERROR, url_path: str = "/cart", component: str = "", api_endpoint: str = "",
               external_id: str | None = None, group: ErrorGroup | None = None, hours_ago: float = 0,
               **fields) -> ProductionEvent:
    """An event (and its group, unless given) straight through the ORM, as processing would leave them."""
    last_seen = timezone.now() - datetime.timedelta(hours=hours_ago)
    key = external_id or f"{source}-{title}-{url_path}"[:150]
    if group is None:
        group = ErrorGroup.objects.create(
            project=project, fingerprint=uuid.uuid4().hex,
            grouping_method=GroupingMethod.STACK, title=title, exception_type=title.split(":")[0],
            severity=severity, event_count=1, occurrence_count=3, affected_users=2,
            first_seen=last_seen - datetime.timedelta(hours=2), last_seen=last_seen, url_path=url_path,
            in_app_frames=["app/cart.js:addToCart"])
    defaults = {
        "event_type": "error", "message": title.split(":")[-1].strip(), "exception_type": title.split(":")[0],
        "url": f"https://site.example.com{url_path}", "occurrence_count": 3, "affected_users": 2,
        "first_seen": last_seen - datetime.timedelta(hours=2), "last_seen": last_seen,
        "stack_trace": [
            {"filename": "node_modules/react-dom/index.js", "function": "invokeCallback", "module": "react-dom",
             "lineno": 3990, "colno": 14, "in_app": False, "context_line": ""},
            {"filename": "app/cart.js", "function": "addToCart", "module": "cart", "lineno": 12, "colno": 3,
             "in_app": True, "context_line": "cart.items.push(item)"},
        ],
    }
    return ProductionEvent.objects.create(
        project=project, group=group, source=source, external_id=key, severity=severity, title=title,
        fingerprint=group.fingerprint, url_path=url_path, component=component, api_endpoint=api_endpoint,
        **{**defaults, **fields})


def create(org, project, ids: dict[str, str]) -> dict[str, str]:
    """A group with one new event, and the project's intake endpoints (so that reading them writes nothing)."""
    event = make_event(project, external_id=f"api-table-{project.pk.hex[:12]}")
    intake_endpoints_for(project, actor=org.admin)
    return {"event": str(event.pk), "group": str(event.group_id), "source": Source.SENTRY.value}
