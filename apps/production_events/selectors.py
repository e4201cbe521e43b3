"""Reads of production errors for the API and the pages: filtered events with facet counts, groups with
their trend, recent deliveries, the grouping policy."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields, replace
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.production_events import intake
from apps.production_events.models import (
    DeliveryStatus,
    ErrorGroup,
    ErrorSettings,
    EventStatus,
    GroupSimilarity,
    IntakeEndpoint,
    ProductionEvent,
    Severity,
    SimilarityStatus,
    Source,
    WebhookLog,
)

# Shown instead of an intake secret to members who are not admins.
SECRET_MASK = "••••••••"  # noqa: S105 - the mask, not a secret
FACETS = {"source": Source, "severity": Severity, "status": EventStatus}
TREND_DAYS = 30
# Entity kinds an event is attached to (risk scores use the same three).
ENTITY_FIELDS = ("url_path", "component", "api_endpoint")


@dataclass(frozen=True)
class EventFilters:
    """What the events list may be narrowed by; empty values mean "any". `entity` matches the page path,
    component or API endpoint, whichever it is; `q` searches title, message and exception type."""

    project: Any = None
    source: str = ""
    severity: str = ""
    status: str = ""
    entity: str = ""
    url_path: str = ""
    component: str = ""
    api_endpoint: str = ""
    group: Any = None
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None
    q: str = ""

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> EventFilters:
        names = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names and value not in (None, "")})

    @property
    def is_filtered(self) -> bool:
        return any(getattr(self, item.name) not in (None, "") for item in fields(self))


def _pk(value: Any) -> Any:
    return getattr(value, "pk", value)


def _apply(queryset: QuerySet[ProductionEvent], filters: EventFilters) -> QuerySet[ProductionEvent]:
    if filters.project:
        queryset = queryset.filter(project_id=_pk(filters.project))
    if filters.group:
        queryset = queryset.filter(group_id=_pk(filters.group))
    for name in ("source", "severity", "status", *ENTITY_FIELDS):
        value = getattr(filters, name)
        if value:
            queryset = queryset.filter(**{name: value})
    if filters.entity:
        queryset = queryset.filter(Q(url_path=filters.entity) | Q(component=filters.entity)
                                   | Q(api_endpoint=filters.entity))
    # An event spans first_seen..last_seen: it is in a window when the two overlap.
    if filters.since:
        queryset = queryset.filter(last_seen__gte=filters.since)
    if filters.until:
        queryset = queryset.filter(first_seen__lte=filters.until)
    if filters.q:
        text = filters.q.strip()
        queryset = queryset.filter(Q(title__icontains=text) | Q(message__icontains=text)
                                   | Q(exception_type__icontains=text))
    return queryset


def event_list(filters: EventFilters | None = None) -> QuerySet[ProductionEvent]:
    """Events, most recently seen first."""
    queryset = (ProductionEvent.objects.select_related("project", "group", "status_changed_by")
                .order_by("-last_seen", "-id"))
    return _apply(queryset, filters or EventFilters())


def event_facets(filters: EventFilters | None = None) -> dict[str, dict[str, int]]:
    """Counts per source, severity and status, each under every filter except its own, so the list shows
    what choosing another value would give. Every choice is present (0 when none)."""
    filters = filters or EventFilters()
    facets: dict[str, dict[str, int]] = {}
    for name, choices in FACETS.items():
        rows = (_apply(ProductionEvent.objects.all(), replace(filters, **{name: ""}))
                .order_by().values(name).annotate(count=Count("id")))
        counted = {row[name]: row["count"] for row in rows}
        facets[name] = {value: counted.get(value, 0) for value in choices.values}
    return facets


def event_detail_queryset() -> QuerySet[ProductionEvent]:
    """Events with what their page and API detail show in one query."""
    return ProductionEvent.objects.select_related("project", "group", "delivery", "status_changed_by")


def group_list(*, project=None, severity: str = "", q: str = "", since: datetime.datetime | None = None,
               include_merged: bool = False) -> QuerySet[ErrorGroup]:
    queryset = ErrorGroup.objects.select_related("project").order_by("-last_seen", "-id")
    if project:
        queryset = queryset.filter(project_id=_pk(project))
    if severity:
        queryset = queryset.filter(severity=severity)
    if since:
        queryset = queryset.filter(last_seen__gte=since)
    if q:
        queryset = queryset.filter(Q(title__icontains=q) | Q(normalized_message__icontains=q)
                                   | Q(exception_type__icontains=q))
    if not include_merged:
        queryset = queryset.filter(merged_into__isnull=True)
    return queryset


def group_trend(group: ErrorGroup, *, days: int = TREND_DAYS, today: datetime.date | None = None) -> list[dict]:
    """Occurrences per day for the last `days` days, oldest first, zero-filled."""
    today = today or timezone.localdate()
    start = today - datetime.timedelta(days=days - 1)
    counted = dict(group.days.filter(day__gte=start, day__lte=today).values_list("day", "occurrences"))
    return [{"day": start + datetime.timedelta(days=offset),
             "occurrences": counted.get(start + datetime.timedelta(days=offset), 0)} for offset in range(days)]


def group_events(group: ErrorGroup, *, limit: int = 50) -> QuerySet[ProductionEvent]:
    return event_list(EventFilters(group=group))[:limit]


def merge_proposals(group: ErrorGroup) -> QuerySet[GroupSimilarity]:
    """Pending near-duplicate proposals that involve the group, best first."""
    return (GroupSimilarity.objects.filter(Q(group=group) | Q(similar_group=group), status=SimilarityStatus.PROPOSED)
            .select_related("group", "similar_group").order_by("-score"))


def error_settings_for(project) -> ErrorSettings:
    """The project's grouping policy; the defaults (unsaved) until someone changes them, so reading it
    never writes."""
    return ErrorSettings.objects.filter(project=project).first() or ErrorSettings(project=project)


def delivery_list(*, project=None, status: str = "") -> QuerySet[WebhookLog]:
    queryset = WebhookLog.objects.select_related("endpoint").defer("payload", "headers").order_by("-received_at")
    if project:
        queryset = queryset.filter(project_id=_pk(project))
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def delivery_counts(project) -> dict[str, int]:
    rows = WebhookLog.objects.filter(project=project).order_by().values("status").annotate(count=Count("id"))
    counted = {row["status"]: row["count"] for row in rows}
    return {value: counted.get(value, 0) for value in DeliveryStatus.values}


def _masked(value: Any, secrets: list[str]) -> Any:
    """`value` with every secret replaced by the mask, deep (setup instructions quote the secret)."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, SECRET_MASK)
        return value
    if isinstance(value, dict):
        return {key: _masked(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, secrets) for item in value]
    return value


def intake_endpoint_summary(endpoint: IntakeEndpoint, request, *, show_secret: bool) -> dict[str, Any]:
    """One source's intake as the API and the settings page show it; only admins see the secrets."""
    secrets = [secret for secret in (endpoint.secret, endpoint.previous_secret) if secret]
    # A DRF request wraps Django's; the URL is built from the host the caller used.
    url = intake.intake_url(endpoint, getattr(request, "_request", request))
    instructions = intake.setup_instructions(endpoint, url=url)
    return {
        "source": endpoint.source,
        "source_label": endpoint.get_source_display(),
        "url": url,
        "key": endpoint.key,
        "secret": endpoint.secret if show_secret else SECRET_MASK,
        "secret_visible": show_secret,
        "enabled": endpoint.enabled,
        "rotated_at": endpoint.rotated_at,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at,
        "last_delivery_at": endpoint.last_delivery_at,
        "instructions": instructions if show_secret else _masked(instructions, secrets),
    }
