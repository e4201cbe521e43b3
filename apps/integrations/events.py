"""Emitting domain events: `emit` writes an outbox row in the caller's transaction and, once that commits,
asks a worker to dispatch this schema's pending events (debounced with one Redis `SET NX EX`, as
apps.production_events.processing.request_processing does). A rolled-back change leaves no event and sends
nothing; an event whose trigger is lost is picked up by the beat sweep (`integrations.sweep_events`)."""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from apps.integrations.models import EventType, OutboxEvent

logger = logging.getLogger(__name__)

DISPATCH_TASK = "integrations.dispatch_events"
SCHEDULE_TTL_SECONDS = 60


def scheduled_key(schema_name: str) -> str:
    return f"argus:{schema_name}:events:scheduled"


@cache
def _redis() -> redis.Redis:
    # redis-py's pool notices a fork and reconnects, so one client per process is safe under prefork.
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any]:
    # UUIDs, datetimes and Decimals become strings, so the row and every subscriber see plain JSON.
    return json.loads(json.dumps(value or {}, cls=DjangoJSONEncoder))


def send_dispatch_task(schema_name: str, *, countdown: float | None = None) -> None:
    from argus.celery import app

    app.send_task(DISPATCH_TASK, headers={"_schema_name": schema_name}, queue="default", countdown=countdown)


def request_dispatch(schema_name: str) -> None:
    """Make sure a worker dispatches `schema_name`'s pending events soon; one Redis round trip when a task is
    already scheduled. Never raises: the events are stored, and the beat sweep finds them if this fails."""
    key = scheduled_key(schema_name)
    try:
        if not _redis().set(key, 1, nx=True, ex=SCHEDULE_TTL_SECONDS):
            return
    except Exception:  # noqa: BLE001 - Redis down: the sweep dispatches the stored events later
        logger.warning("Could not schedule event dispatch for %s", schema_name, exc_info=True)
        return
    try:
        send_dispatch_task(schema_name)
    except Exception:  # noqa: BLE001 - without the task the flag would silence every trigger for a minute
        logger.warning("Could not enqueue event dispatch for %s", schema_name, exc_info=True)
        _redis().delete(key)


def emit(event_type: str, payload: dict[str, Any], *, source: str, correlation_id: str | None = None,
         metadata: dict[str, Any] | None = None) -> OutboxEvent:
    """Record a domain event in the current transaction; it is dispatched only if that transaction commits."""
    if event_type not in EventType.values:
        raise ValueError(f"Unknown event type {event_type!r}")
    schema_name = connection.schema_name
    event = OutboxEvent.objects.create(event_type=event_type, source=source, tenant=schema_name,
                                       correlation_id=str(correlation_id or "")[:200], payload=_jsonable(payload),
                                       metadata=_jsonable(metadata))
    transaction.on_commit(lambda: request_dispatch(schema_name))
    return event
