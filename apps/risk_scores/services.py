"""Risk recalculation: gathers, per entity of a project, what apps.risk_scores.scoring needs and stores the result.

Entities come from the project's error groups (merged groups excluded: their events live in the group they
were merged into). A group belongs to the page of its `url_path`, the component of its `component` and the
endpoint of its `api_endpoint`, so one group can raise the risk of up to three entities.

Coverage: an approved test covers a page when its definition visits the page's path (`start_url` or a
`goto` step, both reduced with apps.production_events.entities.page_path, so "/orders/42?x=1" and
"https://shop.example.com/orders/7" both visit "/orders/:id"). It covers a component or an API endpoint when
it visits one of the pages where that component's or endpoint's errors happened. Recent failures are the
failed or errored results of the covering approved tests in the last 7 days.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.audit.services import audit_record
from apps.generated_tests.models import Test, TestStatus
from apps.production_events.entities import page_path
from apps.production_events.models import ErrorGroup, ErrorGroupDay, ProductionEvent, Severity
from apps.projects.models import Project
from apps.risk_scores.models import EntityType, RiskScore, RiskSnapshot
from apps.risk_scores.scoring import FAILURE_WINDOW_DAYS, TREND_WINDOW_DAYS, EntityInputs, compute_risk, worse_severity
from apps.test_runs.models import ResultStatus, TestResult

# Daily snapshots older than this are pruned: the history chart never shows more.
HISTORY_DAYS = 90
# `{{ env.BASE_URL }}/checkout` visits /checkout: template expressions are dropped before the path is read.
_TEMPLATE_EXPRESSION = re.compile(r"\{\{.*?\}\}")


@dataclass
class _Entity:
    entity_type: str
    entity: str
    group_ids: list[uuid.UUID] = field(default_factory=list)
    pages: set[str] = field(default_factory=set)
    occurrences: int = 0
    events: int = 0
    affected_users: int = 0
    worst_severity: str = Severity.INFO


def visited_pages(definition: dict) -> set[str]:
    """The page paths a test definition navigates to: its start URL and every goto step."""
    urls = [definition.get("start_url") or ""]
    urls += [step.get("url") or "" for step in definition.get("steps") or [] if isinstance(step, dict)
             and step.get("action") == "goto"]
    pages = set()
    for url in urls:
        if not isinstance(url, str):
            continue
        url = _TEMPLATE_EXPRESSION.sub("", url).strip()
        if url:
            pages.add(page_path(url))
    return pages


def _page_key(path: str) -> str:
    return page_path(path) if path else ""


def _entities_of(groups: list[dict], event_pages: dict[uuid.UUID, set[str]]) -> dict[tuple[str, str], _Entity]:
    entities: dict[tuple[str, str], _Entity] = {}
    for group in groups:
        page = _page_key(group["url_path"])
        pages = {page} if page else set()
        pages |= event_pages.get(group["id"], set())
        for entity_type, key in ((EntityType.PAGE, page), (EntityType.COMPONENT, group["component"]),
                                 (EntityType.API_ENDPOINT, group["api_endpoint"])):
            if not key:
                continue
            entity = entities.setdefault((entity_type, key), _Entity(entity_type, key))
            entity.group_ids.append(group["id"])
            entity.pages |= {page} if entity_type == EntityType.PAGE else pages
            entity.occurrences += group["occurrence_count"]
            entity.events += group["event_count"]
            entity.affected_users += group["affected_users"]
            entity.worst_severity = worse_severity(entity.worst_severity, group["severity"])
    return entities


def _event_pages(group_ids: list[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    pages: dict[uuid.UUID, set[str]] = defaultdict(set)
    rows = (ProductionEvent.objects.filter(group_id__in=group_ids).exclude(url_path="")
            .values_list("group_id", "url_path").distinct())
    for group_id, path in rows:
        pages[group_id].add(_page_key(path))
    return pages


def _weekly_occurrences(group_ids: list[uuid.UUID], today: date) -> dict[uuid.UUID, tuple[int, int]]:
    """Per group: (occurrences of the last 7 days, of the 7 days before)."""
    recent_start = today - timedelta(days=TREND_WINDOW_DAYS - 1)
    previous_start = recent_start - timedelta(days=TREND_WINDOW_DAYS)
    weeks: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0])
    rows = ErrorGroupDay.objects.filter(group_id__in=group_ids, day__gte=previous_start, day__lte=today)
    for group_id, day, occurrences in rows.values_list("group_id", "day", "occurrences"):
        weeks[group_id][0 if day >= recent_start else 1] += occurrences
    return {group_id: (recent, previous) for group_id, (recent, previous) in weeks.items()}


def _approved_tests(project: Project) -> list[tuple[uuid.UUID, str, set[str]]]:
    tests = Test.objects.filter(project=project, status=TestStatus.APPROVED).order_by("name")
    return [(pk, name, visited_pages(definition or {})) for pk, name, definition in
            tests.values_list("pk", "name", "definition")]


def _recent_failures(test_ids: Iterable[uuid.UUID], now) -> dict[uuid.UUID, int]:
    rows = (TestResult.objects.filter(test_id__in=list(test_ids), status__in=[ResultStatus.FAILED, ResultStatus.ERROR],
                                      finished_at__gte=now - timedelta(days=FAILURE_WINDOW_DAYS))
            .values("test_id").annotate(count=Count("pk")).values_list("test_id", "count"))
    return dict(rows)


def compute_project_risk(project: Project) -> list[RiskScore]:
    """The risk of each of the project's entities, unsaved."""
    now = timezone.now()
    today = now.date()
    groups = list(ErrorGroup.objects.filter(project=project, merged_into__isnull=True).values(
        "id", "severity", "event_count", "occurrence_count", "affected_users", "url_path", "component",
        "api_endpoint"))
    group_ids = [group["id"] for group in groups]
    entities = _entities_of(groups, _event_pages(group_ids))
    weeks = _weekly_occurrences(group_ids, today)
    tests = _approved_tests(project)
    failures = _recent_failures((pk for pk, _name, _pages in tests), now)

    scores = []
    for (entity_type, key), entity in entities.items():
        covering = [(pk, name) for pk, name, pages in tests if pages & entity.pages]
        recent = sum(weeks.get(group_id, (0, 0))[0] for group_id in entity.group_ids)
        previous = sum(weeks.get(group_id, (0, 0))[1] for group_id in entity.group_ids)
        risk = compute_risk(EntityInputs(
            occurrences=entity.occurrences, worst_severity=entity.worst_severity,
            affected_users=entity.affected_users, recent_occurrences=recent, previous_occurrences=previous,
            covering_tests=[name for _pk, name in covering],
            recent_failures=sum(failures.get(pk, 0) for pk, _name in covering)))
        scores.append(RiskScore(
            project=project, entity_type=entity_type, entity=key, score=risk.score, factors=risk.factors,
            trend=risk.trend, groups_count=len(entity.group_ids), events_count=entity.events,
            occurrences=entity.occurrences, affected_users=entity.affected_users,
            has_approved_test=bool(covering), calculated_at=now))
    scores.sort(key=lambda score: (-score.score, score.entity_type, score.entity))
    return scores


@transaction.atomic
def recalculate_project_risk(project: Project, *, actor=None) -> list[RiskScore]:
    """Recompute and store every entity's risk of the project, ordered by score (highest first).

    Entities without errors any more lose their row; each entity's score of today is kept as a snapshot for
    the history chart. Recalculations of one project are serialized by a lock on the project row. A user's
    recalculation is audited; the automatic ones after new events are not (they would flood the trail).
    """
    Project.objects.select_for_update().filter(pk=project.pk).first()
    scores = compute_project_risk(project)
    fields = ["score", "factors", "trend", "groups_count", "events_count", "occurrences", "affected_users",
              "has_approved_test", "calculated_at", "updated_at"]
    for score in scores:
        score.updated_at = score.calculated_at
    RiskScore.objects.bulk_create(scores, update_conflicts=True, unique_fields=["project", "entity_type", "entity"],
                                  update_fields=fields)
    keys = {(score.entity_type, score.entity) for score in scores}
    stale = [pk for pk, entity_type, entity in
             RiskScore.objects.filter(project=project).values_list("pk", "entity_type", "entity")
             if (entity_type, entity) not in keys]
    RiskScore.objects.filter(pk__in=stale).delete()
    _take_snapshots(project, scores)
    if actor is not None:
        audit_record(actor=actor, action="risk.recalculated", target=project,
                     changes={"entities": len(scores), "top": [f"{s.entity_type} {s.entity}" for s in scores[:3]]})
    return list(RiskScore.objects.filter(project=project).order_by("-score", "entity_type", "entity"))


def _take_snapshots(project: Project, scores: list[RiskScore]) -> None:
    if not scores:
        return
    now = scores[0].calculated_at
    today = now.date()
    RiskSnapshot.objects.bulk_create(
        [RiskSnapshot(project=project, entity_type=score.entity_type, entity=score.entity, day=today,
                      score=score.score, taken_at=now) for score in scores],
        update_conflicts=True, unique_fields=["project", "entity_type", "entity", "day"],
        update_fields=["score", "taken_at"])
    RiskSnapshot.objects.filter(project=project, day__lt=today - timedelta(days=HISTORY_DAYS)).delete()


def recalculate_project_risk_by_id(project_id) -> int:
    """The background recalculation (apps.risk_scores.tasks): the project may be gone by then."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return 0
    return len(recalculate_project_risk(project))


def recalculate_all_projects() -> int:
    """Every project of the current tenant that has errors or scores (the periodic tick): the entities scored."""
    projects = Project.objects.filter(pk__in=ErrorGroup.objects.values("project_id")) | Project.objects.filter(
        pk__in=RiskScore.objects.values("project_id"))
    return sum(len(recalculate_project_risk(project)) for project in projects.distinct())
