"""Writes of integrations: replaying dead letters. (Events are written by `apps.integrations.events.emit`.)"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import ApplicationError
from apps.integrations.events import request_dispatch
from apps.integrations.models import DeadLetter, OutboxEvent, OutboxStatus


def _user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def dead_letter_replay(*, dead_letter: DeadLetter, actor) -> DeadLetter:
    """Put a dead letter's event back to pending with its attempts reset, and dispatch it after commit.
    Subscribers that already had the event are skipped (their delivery rows stay)."""
    dead_letter = DeadLetter.objects.select_for_update().get(pk=dead_letter.pk)
    if dead_letter.replayed_at is not None:
        raise ApplicationError("This dead letter was already replayed.", code="already_replayed", status_code=409)
    event = OutboxEvent.objects.select_for_update().get(pk=dead_letter.event_id)
    now = timezone.now()
    dead_letter.replayed_at, dead_letter.replayed_by = now, _user(actor)
    dead_letter.save(update_fields=["replayed_at", "replayed_by", "updated_at"])
    if event.status != OutboxStatus.PENDING:
        # A dispatched event can only have dead letters from an earlier death: replaying re-runs the
        # subscribers that never got it, which is what was asked.
        event.status, event.attempts, event.next_attempt_at, event.last_error = OutboxStatus.PENDING, 0, now, ""
        event.save(update_fields=["status", "attempts", "next_attempt_at", "last_error", "updated_at"])
    audit_record(actor=actor, action="dead_letter.replayed", target=dead_letter,
                 changes={"event": str(event.event_id), "event_type": event.event_type,
                          "subscriber": dead_letter.subscriber})
    schema_name = connection.schema_name
    transaction.on_commit(lambda: request_dispatch(schema_name))
    return dead_letter
