"""Reads of risk_scores: scores, coverage gaps, history, and the dashboard's chart data."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from apps.production_events.models import ErrorGroupDay, ProductionEvent
from apps.projects.models import Project
from apps.risk_scores.models import EntityType, RiskScore, RiskSnapshot

CHART_DAYS = 30
CHART_TOP_ENTITIES = 5


def risk_score_list(*, project: Project | None = None, entity_type: str = "", trend: str = "") -> QuerySet[RiskScore]:
    queryset = RiskScore.objects.select_related("project").order_by("-score", "entity_type", "entity")
    if project is not None:
        queryset = queryset.filter(project=project)
    if entity_type:
        queryset = queryset.filter(entity_type=entity_type)
    if trend:
        queryset = queryset.filter(trend=trend)
    return queryset


def coverage_gaps(*, project: Project | None = None) -> QuerySet[RiskScore]:
    """Entities with errors and no approved test, the riskiest first."""
    return risk_score_list(project=project).filter(has_approved_test=False, groups_count__gt=0)


def risk_history(score: RiskScore, *, days: int = 90) -> list[dict]:
    """The entity's daily scores, oldest first."""
    since = timezone.now().date() - timedelta(days=days - 1)
    snapshots = RiskSnapshot.objects.filter(project_id=score.project_id, entity_type=score.entity_type,
                                            entity=score.entity, day__gte=since).order_by("day")
    return [{"day": day, "score": value} for day, value in snapshots.values_list("day", "score")]


def risk_for_event(event: ProductionEvent) -> list[RiskScore]:
    """The risk rows of the event's page, component and API endpoint (those that have one), riskiest first."""
    keys = Q(pk__in=[])
    for entity_type, key in ((EntityType.PAGE, event.url_path), (EntityType.COMPONENT, event.component),
                             (EntityType.API_ENDPOINT, event.api_endpoint)):
        if key:
            keys |= Q(entity_type=entity_type, entity=key)
    return list(RiskScore.objects.filter(keys, project_id=event.project_id).order_by("-score", "entity_type"))


def _days(today: date, count: int) -> list[date]:
    return [today - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def dashboard_chart_data(project: Project, *, days: int = CHART_DAYS, top: int = CHART_TOP_ENTITIES) -> dict:
    """What risk-dashboard.js draws: the top entities' daily scores and the project's daily error occurrences.

    Days without a snapshot are null (Chart.js leaves a gap rather than inventing a score)."""
    today = timezone.now().date()
    window = _days(today, days)
    leaders = list(risk_score_list(project=project)[:top])
    snapshots = RiskSnapshot.objects.filter(project=project, day__gte=window[0],
                                            entity_type__in={score.entity_type for score in leaders},
                                            entity__in={score.entity for score in leaders})
    by_entity: dict[tuple[str, str], dict[date, float]] = {}
    for entity_type, entity, day, value in snapshots.values_list("entity_type", "entity", "day", "score"):
        by_entity.setdefault((entity_type, entity), {})[day] = value
    series = []
    for score in leaders:
        points = by_entity.get((score.entity_type, score.entity), {})
        series.append({"label": f"{score.get_entity_type_display()} {score.entity}",
                       "data": [points.get(day) for day in window]})
    occurrences = dict(ErrorGroupDay.objects.filter(group__project=project, group__merged_into__isnull=True,
                                                    day__gte=window[0], day__lte=today)
                       .values("day").annotate(total=Sum("occurrences")).values_list("day", "total"))
    return {
        "labels": [day.isoformat() for day in window],
        "scores": series,
        "occurrences": [occurrences.get(day, 0) for day in window],
    }
