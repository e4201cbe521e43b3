"""The events page: the organization's recent domain events (filterable) and the dead letters to replay."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import ApplicationError
from apps.core.ui import member_required
from apps.integrations.models import EventType, OutboxStatus
from apps.integrations.selectors import dead_letter_list, event_list
from apps.integrations.services import dead_letter_replay
from apps.organizations.models import Role

RECENT_EVENTS = 100
DEAD_LETTERS_SHOWN = 50


def _since(value: str) -> datetime | None:
    try:
        return parse_datetime(value) if value else None
    except ValueError:
        return None


@require_GET
@member_required()
def event_log(request: HttpRequest) -> HttpResponse:
    # Unknown filter values are ignored rather than refused: the page always shows something useful.
    event_type = request.GET.get("event_type", "")
    status = request.GET.get("status", "")
    since = _since(request.GET.get("since", ""))
    events = event_list()
    if event_type in EventType.values:
        events = events.filter(event_type=event_type)
    if status in OutboxStatus.values:
        events = events.filter(status=status)
    if since is not None:
        events = events.filter(timestamp__gte=since)
    context = {"section": "events", "events": list(events[:RECENT_EVENTS]),
               "dead_letters": list(dead_letter_list()[:DEAD_LETTERS_SHOWN]),
               "event_types": EventType.choices, "statuses": OutboxStatus.choices,
               "chosen": {"event_type": event_type, "status": status, "since": request.GET.get("since", "")},
               "is_admin": request.membership.has_role(Role.ADMIN)}
    return render(request, "integrations/events.html", context)


@require_POST
@member_required(Role.ADMIN)
def dead_letter_replay_view(request: HttpRequest, dead_letter_id) -> HttpResponse:
    dead_letter = get_object_or_404(dead_letter_list(), pk=dead_letter_id)
    try:
        dead_letter_replay(dead_letter=dead_letter, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Event {dead_letter.event.event_type} is queued for delivery again.")
    return redirect(reverse("events_log"))
