"""Delivering outbox events to subscribers (ARCHITECTURE.md, "Events").

A dispatch task claims due pending events with `SELECT ... FOR UPDATE SKIP LOCKED` (several workers share
the work and never hold the same event), then calls every subscriber in `SUBSCRIBERS` that has no delivery
row for the event yet. A subscriber's delivery row is written when it returns, so a retry or a replay never
delivers twice to a subscriber that already got the event (consumers are idempotent by event_id).

A round in which any subscriber raised counts one failed attempt: the event waits 2**attempts seconds (a
task is scheduled for then; the beat sweep is the safety net). After MAX_RETRIES retries the event is dead:
one DeadLetter per subscriber still failing, an error log line and an audit entry (the alert).
`dead_letter_replay` in services.py puts it back to pending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.audit.services import audit_record
from apps.integrations.events import _redis, request_dispatch, scheduled_key, send_dispatch_task
from apps.integrations.models import DeadLetter, OutboxDelivery, OutboxEvent, OutboxStatus

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
MAX_RETRIES = 3
BACKOFF_BASE_SECONDS = 2
REALTIME_MESSAGE_TYPE = "outbox.event"  # a consumer's `outbox_event` method relays it

Subscriber = Callable[[OutboxEvent], None]


def events_group(schema_name: str | None = None) -> str:
    """The organization's event feed, prefixed by its schema like apps.test_runs.live's groups."""
    return f"{schema_name or connection.schema_name}.events"


def realtime_subscriber(event: OutboxEvent) -> None:
    """Publish the event to `<schema>.events`; raising (Redis down) makes the dispatcher retry."""
    async_to_sync(get_channel_layer().group_send)(events_group(event.tenant), {
        "type": REALTIME_MESSAGE_TYPE, "event_type": event.event_type, "event_id": str(event.event_id),
        "payload": event.payload,
    })


# name -> callable(event). Webhook, Slack and GitHub subscribers register here when they exist.
SUBSCRIBERS: dict[str, Subscriber] = {"realtime": realtime_subscriber}


def backoff_seconds(attempts: int) -> int:
    return BACKOFF_BASE_SECONDS ** attempts


@dataclass
class DispatchOutcome:
    dispatched: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.dispatched + self.retrying + self.dead


def _deliver(event: OutboxEvent) -> dict[str, str]:
    """Call each subscriber that has not had the event yet; returns {subscriber: error} of those that raised."""
    done = set(event.deliveries.values_list("subscriber", flat=True))
    errors: dict[str, str] = {}
    for name, subscriber in list(SUBSCRIBERS.items()):
        if name in done:
            continue
        try:
            subscriber(event)
        except Exception as exc:  # noqa: BLE001 - any subscriber failure is recorded on the event and retried
            logger.warning("Subscriber %s failed on event %s (%s)", name, event.event_id, event.event_type,
                           exc_info=True)
            errors[name] = f"{type(exc).__name__}: {exc}"[:4000]
        else:
            OutboxDelivery.objects.create(event=event, subscriber=name)
    return errors


def _kill(event: OutboxEvent, errors: dict[str, str]) -> None:
    event.status = OutboxStatus.DEAD
    for name, error in errors.items():
        DeadLetter.objects.create(event=event, subscriber=name, error=error, retry_count=MAX_RETRIES)
    logger.error("Event %s (%s) is dead after %d retries; failing subscribers: %s", event.event_id,
                 event.event_type, MAX_RETRIES, ", ".join(sorted(errors)))
    audit_record(actor=None, action="event.dead_lettered", target=event,
                 changes={"event_type": event.event_type, "subscribers": sorted(errors), "retries": MAX_RETRIES,
                          "error": event.last_error})


def dispatch_event(event: OutboxEvent, outcome: DispatchOutcome) -> float | None:
    """Deliver one claimed event and record the result. Returns the retry delay when it has to wait."""
    errors = _deliver(event)
    now = timezone.now()
    if not errors:
        event.status, event.dispatched_at, event.last_error = OutboxStatus.DISPATCHED, now, ""
        event.save(update_fields=["status", "dispatched_at", "last_error", "updated_at"])
        outcome.dispatched += 1
        return None
    event.attempts += 1
    event.last_error = "; ".join(f"{name}: {error}" for name, error in errors.items())[:4000]
    delay = None
    if event.attempts > MAX_RETRIES:
        _kill(event, errors)
        outcome.dead += 1
    else:
        delay = backoff_seconds(event.attempts)
        event.next_attempt_at = now + timedelta(seconds=delay)
        outcome.retrying += 1
    event.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "updated_at"])
    return delay


def _due() -> QuerySet[OutboxEvent]:
    return OutboxEvent.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=timezone.now())


def dispatch_batch(limit: int = BATCH_SIZE) -> tuple[DispatchOutcome, list[float]]:
    """Claim up to `limit` due events no other worker holds and dispatch them, in one transaction."""
    outcome, delays = DispatchOutcome(), []
    with transaction.atomic():
        events = list(_due().select_for_update(skip_locked=True).order_by("next_attempt_at")[:limit])
        for event in events:
            delay = dispatch_event(event, outcome)
            if delay is not None:
                delays.append(delay)
    return outcome, delays


def dispatch_due_events(*, max_batches: int | None = None) -> DispatchOutcome:
    """The task body, in the current tenant schema: batches until nothing is due, then clear the flag."""
    schema_name = connection.schema_name
    total, delays, batches = DispatchOutcome(), [], 0
    while max_batches is None or batches < max_batches:
        outcome, batch_delays = dispatch_batch()
        batches += 1
        delays += batch_delays
        for name in ("dispatched", "retrying", "dead"):
            setattr(total, name, getattr(total, name) + getattr(outcome, name))
        if outcome.handled < BATCH_SIZE:
            break
    _redis().delete(scheduled_key(schema_name))
    # An event committed after our last claim but before the delete found the flag set and sent nothing.
    if _due().exists():
        request_dispatch(schema_name)
    if delays:
        send_dispatch_task(schema_name, countdown=min(delays))
    return total


def sweep_current_tenant() -> int:
    """Beat: enqueue a dispatch for this schema when events are due (lost triggers, retries). 1 when it did."""
    if not _due().exists():
        return 0
    send_dispatch_task(connection.schema_name)
    return 1
