"""Writes of the team's side of production errors: the status workflow of events and the per-project
grouping policy. Intake (intake.py) and processing (processing.py) write the rest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record, diff
from apps.core.errors import ApplicationError
from apps.production_events.models import ErrorSettings, EventStatus, ProductionEvent

# Where an event may go from each status. Resolved and ignored events come back only through "new"
# (reopen), so a regression or a second look is always visible as a reopening in the audit trail.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    EventStatus.NEW: frozenset({EventStatus.TRIAGED, EventStatus.TEST_GENERATED, EventStatus.RESOLVED,
                                EventStatus.IGNORED}),
    EventStatus.TRIAGED: frozenset({EventStatus.NEW, EventStatus.TEST_GENERATED, EventStatus.RESOLVED,
                                    EventStatus.IGNORED}),
    EventStatus.TEST_GENERATED: frozenset({EventStatus.TRIAGED, EventStatus.RESOLVED, EventStatus.IGNORED}),
    EventStatus.RESOLVED: frozenset({EventStatus.NEW}),
    EventStatus.IGNORED: frozenset({EventStatus.NEW}),
}
MAX_NOTE_LENGTH = 1000
MAX_BULK_EVENTS = 500
SIMILARITY_THRESHOLD_RANGE = (0.5, 1.0)


def allowed_transitions(status: str) -> list[str]:
    """The statuses an event in `status` may move to, in the workflow's order."""
    allowed = STATUS_TRANSITIONS.get(status, frozenset())
    return [value for value in EventStatus.values if value in allowed]


def _check_transition(current: str, target: str) -> None:
    if target not in EventStatus.values:
        raise ApplicationError(f"Unknown status “{target}”.", code="invalid",
                               details={"status": [f"Use one of {EventStatus.values}."]})
    if target == current:
        raise ApplicationError(f"The event is already {EventStatus(current).label.lower()}.",
                               code="invalid_transition", details={"status": ["Unchanged."]})
    if target not in STATUS_TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(allowed_transitions(current)) or "nothing"
        raise ApplicationError(
            f"An event that is {EventStatus(current).label.lower()} cannot become "
            f"{EventStatus(target).label.lower()}; it can become: {allowed}.",
            code="invalid_transition", details={"status": [f"Allowed from {current}: {allowed}."]})


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ApplicationError(f"The note is longer than {MAX_NOTE_LENGTH} characters.", code="invalid",
                               details={"note": [f"At most {MAX_NOTE_LENGTH} characters."]})
    return note


def _apply_status(event: ProductionEvent, *, status: str, actor, note: str) -> ProductionEvent:
    previous = event.status
    event.status = status
    event.status_changed_by = actor if getattr(actor, "is_authenticated", False) else None
    event.status_changed_at = timezone.now()
    event.save(update_fields=["status", "status_changed_by", "status_changed_at", "updated_at"])
    changes = {"status": {"from": previous, "to": status}}
    if note:
        changes["note"] = note
    audit_record(actor=actor, action="production_event.status_changed", target=event, changes=changes)
    return event


@transaction.atomic
def event_status_change(event: ProductionEvent, *, status: str, actor, note: str = "") -> ProductionEvent:
    """Move one event along the workflow, recording who and when. 400 `invalid_transition` when the
    workflow does not allow it (including "already in that status")."""
    note = _clean_note(note)
    # The row lock makes two people triaging at once see each other's change instead of overwriting it.
    locked = ProductionEvent.objects.select_for_update().get(pk=event.pk)
    _check_transition(locked.status, status)
    return _apply_status(locked, status=status, actor=actor, note=note)


@dataclass
class BulkStatusResult:
    changed: list[ProductionEvent] = field(default_factory=list)
    # (event, why it was left as it was)
    skipped: list[tuple[ProductionEvent, str]] = field(default_factory=list)


@transaction.atomic
def events_status_change(event_ids: Iterable, *, status: str, actor, note: str = "") -> BulkStatusResult:
    """The same status for many events at once (the list page's bulk action). Events already in that status
    or whose workflow does not allow it are skipped with the reason; the others all change, or none does.
    Unknown ids are refused as a whole (400), so another organization's ids change nothing."""
    note = _clean_note(note)
    if status not in EventStatus.values:
        raise ApplicationError(f"Unknown status “{status}”.", code="invalid",
                               details={"status": [f"Use one of {EventStatus.values}."]})
    ids = list(dict.fromkeys(str(event_id) for event_id in event_ids))
    if not ids:
        raise ApplicationError("Select at least one event.", code="invalid", details={"events": ["Empty."]})
    if len(ids) > MAX_BULK_EVENTS:
        raise ApplicationError(f"At most {MAX_BULK_EVENTS} events at once.", code="invalid",
                               details={"events": [f"At most {MAX_BULK_EVENTS}."]})
    events = {str(event.pk): event
              for event in ProductionEvent.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    missing = [event_id for event_id in ids if event_id not in events]
    if missing:
        raise ApplicationError("Some events do not exist.", code="invalid",
                               details={"events": [f"Unknown event: {event_id}" for event_id in missing]})
    result = BulkStatusResult()
    for event_id in ids:
        event = events[event_id]
        try:
            _check_transition(event.status, status)
        except ApplicationError as refusal:
            result.skipped.append((event, refusal.message))
            continue
        result.changed.append(_apply_status(event, status=status, actor=actor, note=note))
    return result


def _error_settings_row(project) -> ErrorSettings:
    settings, _created = ErrorSettings.objects.select_for_update().get_or_create(project=project)
    return settings


@transaction.atomic
def error_settings_update(project, *, actor, similarity_threshold: float | None = None,
                          auto_merge: bool | None = None) -> ErrorSettings:
    """The project's grouping policy: near-duplicate groups scoring at least `similarity_threshold` are
    proposed as merges, or merged at once when `auto_merge` is on."""
    settings = _error_settings_row(project)
    before = {"similarity_threshold": settings.similarity_threshold, "auto_merge": settings.auto_merge}
    if similarity_threshold is not None:
        low, high = SIMILARITY_THRESHOLD_RANGE
        if not low <= float(similarity_threshold) <= high:
            raise ApplicationError(f"The similarity threshold must be between {low} and {high}.", code="invalid",
                                   details={"similarity_threshold": [f"Between {low} and {high}."]})
        settings.similarity_threshold = float(similarity_threshold)
    if auto_merge is not None:
        settings.auto_merge = bool(auto_merge)
    changes = diff(before, {"similarity_threshold": settings.similarity_threshold, "auto_merge": settings.auto_merge})
    if changes:
        settings.save()
        audit_record(actor=actor, action="error_settings.updated", target=project, object_type="error_settings",
                     changes=changes)
    return settings
