"""Error pages, mounted at /errors/: the events list, an event's page, error groups, and each project's intake
settings (tracker URLs and secrets, recent deliveries, the grouping policy)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import ApplicationError
from apps.core.ui import is_htmx, member_required, safe_next_url
from apps.organizations.models import Role
from apps.production_events import intake, processing, similarity
from apps.production_events.forms import (
    BulkStatusForm,
    DeliveryFilterForm,
    ErrorSettingsForm,
    EventFilterForm,
    EventStatusForm,
    GroupFilterForm,
)
from apps.production_events.models import (
    DeliveryStatus,
    ErrorGroup,
    ErrorGroupDay,
    EventStatus,
    GroupSimilarity,
    ProductionEvent,
    Source,
)
from apps.production_events.selectors import (
    FACETS,
    EventFilters,
    delivery_counts,
    delivery_list,
    error_settings_for,
    event_detail_queryset,
    event_facets,
    event_list,
    group_events,
    group_list,
    group_trend,
    intake_endpoint_summary,
    merge_proposals,
)
from apps.production_events.services import allowed_transitions, error_settings_update, event_status_change
from apps.production_events.services import events_status_change as bulk_status_change
from apps.projects.models import Project
from apps.risk_scores.selectors import risk_for_event

PAGE_SIZE = 50
DELIVERIES_SHOWN = 50
SIMILAR_SHOWN = 5
LIST_TREND_DAYS = 14
FACET_LABELS = {"source": "Source", "severity": "Severity", "status": "Status"}


def _can_write(request: HttpRequest) -> bool:
    return request.membership.has_role(Role.DEVELOPER)


def _is_admin(request: HttpRequest) -> bool:
    return request.membership.has_role(Role.ADMIN)


def sparkline(trend: list[dict], *, width: int = 100, height: int = 24) -> dict[str, Any]:
    """An SVG polyline of daily occurrences (drawn by the server: no script, no style attribute)."""
    counts = [day["occurrences"] for day in trend]
    peak = max(counts, default=0)
    step = width / max(len(counts) - 1, 1)
    points = " ".join(f"{index * step:.2f},{height - (count / peak * (height - 2) if peak else 0) - 1:.2f}"
                      for index, count in enumerate(counts))
    return {"points": points, "peak": peak, "total": sum(counts), "width": width, "height": height,
            "days": len(counts), "first": trend[0]["day"] if trend else None}


def _trends_of(groups: list[ErrorGroup], days: int = LIST_TREND_DAYS) -> dict[Any, dict]:
    """Sparklines of many groups in one query."""
    today = timezone.localdate()
    start = today - datetime.timedelta(days=days - 1)
    counts: dict[Any, dict] = {}
    for group_id, day, occurrences in ErrorGroupDay.objects.filter(
            group__in=groups, day__gte=start).values_list("group_id", "day", "occurrences"):
        counts.setdefault(group_id, {})[day] = occurrences
    window = [start + datetime.timedelta(days=offset) for offset in range(days)]
    return {group.pk: sparkline([{"day": day, "occurrences": counts.get(group.pk, {}).get(day, 0)} for day in window])
            for group in groups}


# ------------------------------------------------------------------------------------------- events


def _facet_links(request: HttpRequest, facets: dict[str, dict[str, int]], filters: EventFilters) -> list[dict]:
    """Each facet's values with counts, as links that choose the value (or clear it when chosen)."""
    rows = []
    for name, choices in FACETS.items():
        items = []
        for value, label in choices.choices:
            query = request.GET.copy()
            query.pop("page", None)
            active = getattr(filters, name) == value
            if active:
                query.pop(name, None)
            else:
                query[name] = value
            items.append({"value": value, "label": label, "count": facets.get(name, {}).get(value, 0),
                          "active": active, "url": f"?{query.urlencode()}" if query else "?"})
        rows.append({"name": name, "label": FACET_LABELS[name], "items": items})
    return rows


def _event_list_page(request: HttpRequest, *, bulk_form: BulkStatusForm | None = None, status: int = 200,
                     ) -> HttpResponse:
    form = EventFilterForm(request.GET)
    valid = form.is_valid()
    filters = form.filters() if valid else EventFilters()
    events = event_list(filters) if valid else ProductionEvent.objects.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    facets = event_facets(filters) if valid else {}
    context = {
        "section": "errors", "filters": form, "page": page, "events": list(page.object_list),
        "facets": _facet_links(request, facets, filters), "filtered": filters.is_filtered,
        "can_write": _can_write(request), "total": page.paginator.count,
        "bulk_form": bulk_form or BulkStatusForm(), "status_choices": EventStatus.choices,
        "has_any_event": ProductionEvent.objects.exists(),
        "projects": Project.objects.filter(archived_at__isnull=True).order_by("name"),
        "query": request.GET.urlencode(),
    }
    template = "production_events/_event_results.html" if is_htmx(request) else "production_events/event_list.html"
    return render(request, template, context, status=status if valid else 400)


@require_GET
@member_required()
def event_list_view(request: HttpRequest) -> HttpResponse:
    return _event_list_page(request)


def _bulk_message(result, status: str) -> str:
    label = EventStatus(status).label.lower()
    message = f"{len(result.changed)} event{'s' if len(result.changed) != 1 else ''} set to {label}."
    if result.skipped:
        reasons = "; ".join(sorted({reason for _event, reason in result.skipped}))
        message += f" {len(result.skipped)} left as they were: {reasons}"
    return message


@require_POST
@member_required(Role.DEVELOPER)
def event_bulk_status_view(request: HttpRequest) -> HttpResponse:
    form = BulkStatusForm(request.POST)
    if form.is_valid():
        ids = form.cleaned_data["events"]
        if any(not _is_uuid(value) for value in ids):
            form.add_error("events", "Unknown events.")
        else:
            try:
                result = bulk_status_change(ids, status=form.cleaned_data["status"], actor=request.user,
                                            note=form.cleaned_data["note"])
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                level = messages.success if result.changed else messages.warning
                level(request, _bulk_message(result, form.cleaned_data["status"]))
                query = request.GET.urlencode()
                return redirect(f"{reverse('errors_event_list')}{'?' + query if query else ''}")
    return _event_list_page(request, bulk_form=form, status=400)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _risk_rows(event: ProductionEvent) -> list[dict]:
    rows = []
    for score in risk_for_event(event):
        bars = [{**factor, "percent": round(100 * factor["contribution"] / factor["weight"], 1)
                 if factor.get("weight") else 0} for factor in score.factors]
        level = "high" if score.score >= 60 else "medium" if score.score >= 30 else "low"
        rows.append({"score": score, "bars": bars, "level": level})
    return rows


def _similar(group: ErrorGroup) -> list:
    return similarity.similar_groups(group.project, group=group, limit=SIMILAR_SHOWN)


def _event_page(request: HttpRequest, event: ProductionEvent, *, status_form: EventStatusForm | None = None,
                status: int = 200) -> HttpResponse:
    group = event.group
    trend = group_trend(group)
    frames = list(reversed(event.stack_trace or []))
    return render(request, "production_events/event_detail.html", {
        "section": "errors", "event": event, "group": group, "can_write": _can_write(request),
        "transitions": [(value, EventStatus(value).label) for value in allowed_transitions(event.status)],
        "status_form": status_form or EventStatusForm(), "frames": frames,
        "in_app_count": sum(1 for frame in frames if frame.get("in_app")),
        "trail": event.trail or [], "tags": sorted((event.tags or {}).items()),
        "trend": trend, "spark": sparkline(trend), "similar": _similar(group),
        "proposals": list(merge_proposals(group)), "risks": _risk_rows(event),
    }, status=status)


@require_GET
@member_required()
def event_detail(request: HttpRequest, event_id) -> HttpResponse:
    return _event_page(request, get_object_or_404(event_detail_queryset(), pk=event_id))


@require_POST
@member_required(Role.DEVELOPER)
def event_status_view(request: HttpRequest, event_id) -> HttpResponse:
    event = get_object_or_404(event_detail_queryset(), pk=event_id)
    form = EventStatusForm(request.POST)
    if form.is_valid():
        try:
            event_status_change(event, status=form.cleaned_data["status"], actor=request.user,
                                note=form.cleaned_data["note"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Status set to {EventStatus(form.cleaned_data['status']).label.lower()}.")
            return redirect("errors_event_detail", event_id=event.pk)
    return _event_page(request, event, status_form=form, status=400)


# ------------------------------------------------------------------------------------------- groups


@require_GET
@member_required()
def group_list_view(request: HttpRequest) -> HttpResponse:
    form = GroupFilterForm(request.GET)
    valid = form.is_valid()
    groups = group_list(**{key: value for key, value in form.cleaned_data.items() if value}) if valid else \
        ErrorGroup.objects.none()
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    trends = _trends_of(rows)
    return render(request, "production_events/group_list.html", {
        "section": "errors", "filters": form, "page": page,
        "groups": [{"group": group, "spark": trends[group.pk]} for group in rows],
        "filtered": valid and any(form.cleaned_data.values()), "trend_days": LIST_TREND_DAYS,
    }, status=200 if valid else 400)


@require_GET
@member_required()
def group_detail(request: HttpRequest, group_id) -> HttpResponse:
    group = get_object_or_404(ErrorGroup.objects.select_related("project", "merged_into"), pk=group_id)
    trend = group_trend(group)
    return render(request, "production_events/group_detail.html", {
        "section": "errors", "group": group, "trend": trend, "spark": sparkline(trend),
        "events": list(group_events(group)), "similar": [] if group.merged_into_id else _similar(group),
        "proposals": list(merge_proposals(group)), "can_write": _can_write(request),
    })


def _similarity_decision(request: HttpRequest, similarity_id, decide) -> HttpResponse:
    pair = get_object_or_404(GroupSimilarity.objects.select_related("group", "similar_group"), pk=similarity_id)
    try:
        decided = decide(similarity=pair, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{pair.group.title}” merged into “{pair.similar_group.title}”."
                         if decided.status == "merged" else "Proposal dismissed: the groups stay apart.")
    return redirect(safe_next_url(request, reverse("errors_group_detail", kwargs={"group_id": pair.similar_group_id})))


@require_POST
@member_required(Role.DEVELOPER)
def similarity_merge_view(request: HttpRequest, similarity_id) -> HttpResponse:
    return _similarity_decision(request, similarity_id, similarity.similarity_merge)


@require_POST
@member_required(Role.DEVELOPER)
def similarity_dismiss_view(request: HttpRequest, similarity_id) -> HttpResponse:
    return _similarity_decision(request, similarity_id, similarity.similarity_dismiss)


# ------------------------------------------------------------------------------- intake and settings


@require_GET
@member_required()
def intake_index(request: HttpRequest) -> HttpResponse:
    projects = Project.objects.filter(archived_at__isnull=True).order_by("name")
    return render(request, "production_events/intake_index.html", {"section": "errors", "projects": projects})


def _intake_page(request: HttpRequest, project: Project, *, settings_form: ErrorSettingsForm | None = None,
                 status: int = 200) -> HttpResponse:
    show_secret = _is_admin(request)
    endpoints = intake.intake_endpoints_for(project, actor=request.user)
    delivery_filter = DeliveryFilterForm(request.GET)
    chosen = delivery_filter.cleaned_data["delivery_status"] if delivery_filter.is_valid() else ""
    current = error_settings_for(project)
    return render(request, "production_events/intake_settings.html", {
        "section": "errors", "project": project, "is_admin": show_secret, "can_write": _can_write(request),
        "endpoints": [intake_endpoint_summary(endpoint, request, show_secret=show_secret) for endpoint in endpoints],
        "deliveries": list(delivery_list(project=project, status=chosen)[:DELIVERIES_SHOWN]),
        "delivery_counts": delivery_counts(project), "delivery_filter": delivery_filter,
        "reprocessable": (DeliveryStatus.FAILED, DeliveryStatus.IGNORED),
        "settings_form": settings_form or ErrorSettingsForm(initial={
            "similarity_threshold": current.similarity_threshold, "auto_merge": current.auto_merge}),
    }, status=status)


def _project_or_404(project_id) -> Project:
    # Tenant tables: the host's schema holds this organization's projects only.
    return get_object_or_404(Project, pk=project_id)


@require_GET
@member_required()
def intake_settings(request: HttpRequest, project_id) -> HttpResponse:
    return _intake_page(request, _project_or_404(project_id))


def _intake_url(project: Project, anchor: str = "") -> str:
    return reverse("errors_intake", kwargs={"project_id": project.pk}) + (f"#{anchor}" if anchor else "")


@require_POST
@member_required(Role.ADMIN)
def intake_rotate_view(request: HttpRequest, project_id, source: str) -> HttpResponse:
    project = _project_or_404(project_id)
    if source not in Source.values:
        raise Http404
    endpoints = {endpoint.source: endpoint for endpoint in intake.intake_endpoints_for(project, actor=request.user)}
    endpoint = intake.intake_endpoint_rotate(endpoints[source], actor=request.user)
    until = timezone.localtime(endpoint.previous_secret_expires_at).strftime("%Y-%m-%d %H:%M") \
        if endpoint.previous_secret_expires_at else None
    messages.success(request, f"New {endpoint.get_source_display()} secret." + (
        f" The previous one keeps working until {until} UTC: update the tracker before then." if until else ""))
    return redirect(_intake_url(project, f"intake-{source}"))


@require_POST
@member_required(Role.DEVELOPER)
def deliveries_reprocess_view(request: HttpRequest, project_id) -> HttpResponse:
    project = _project_or_404(project_id)
    deliveries = delivery_list(project=project).filter(status__in=(DeliveryStatus.FAILED, DeliveryStatus.IGNORED))
    if request.POST.get("scope") != "all":
        ids = [value for value in request.POST.getlist("deliveries") if _is_uuid(value)]
        deliveries = deliveries.filter(pk__in=ids)
    count = processing.deliveries_reprocess(deliveries, actor=request.user)
    if count:
        messages.success(request, f"{count} deliver{'ies' if count != 1 else 'y'} queued for processing again.")
    else:
        messages.warning(request, "Nothing to reprocess: only failed or ignored deliveries can be.")
    return redirect(_intake_url(project, "deliveries"))


@require_POST
@member_required(Role.ADMIN)
def error_settings_view(request: HttpRequest, project_id) -> HttpResponse:
    project = _project_or_404(project_id)
    form = ErrorSettingsForm(request.POST)
    if form.is_valid():
        try:
            error_settings_update(project, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Grouping settings saved.")
            return redirect(_intake_url(project, "grouping"))
    return _intake_page(request, project, settings_form=form, status=400)
