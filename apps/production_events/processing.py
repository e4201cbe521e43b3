"""From a stored delivery to grouped events: the asynchronous half of the intake.

Intake stores a WebhookLog (status pending) and calls `request_processing(schema)`. That is cheap and
debounced: one Redis `SET NX EX` per delivery, and only the call that sets the flag enqueues the
`production_events.process_pending` task in that tenant's schema. The task claims pending deliveries in
batches with `SELECT ... FOR UPDATE SKIP LOCKED` (several workers share the work and never do a delivery
twice), processes each in its own savepoint (all events of a delivery or none), deletes the flag, then
looks once more for unclaimed pending rows: a delivery stored between its last batch and the delete
would otherwise wait for the beat sweep.

Per delivery: normalize (per source) → for each event: fingerprint → upsert the group (counts, users,
first/last seen, severity, place) and its day → upsert the event by (project, source, external id): a
repeat updates counts and reopens a resolved event (a regression) → embed new or changed groups →
propose or merge near-duplicates → status processed. Any exception marks that delivery failed with the
error in `reason` (attempts + 1); the rest of the batch goes on. After each batch, risk is recalculated
(debounced) for every project it touched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from psycopg.errors import DeadlockDetected

from apps.audit.services import audit_record
from apps.integrations.events import emit
from apps.production_events import embeddings, similarity
from apps.production_events.grouping import group_key, normalize_message
from apps.production_events.models import (
    DeliveryStatus,
    ErrorGroup,
    ErrorGroupDay,
    EventStatus,
    ProductionEvent,
    Severity,
    WebhookLog,
)

logger = logging.getLogger(__name__)

PROCESS_TASK = "production_events.process_pending"
BATCH_SIZE = 50
SCHEDULE_TTL_SECONDS = 120
REPROCESSABLE = (DeliveryStatus.FAILED, DeliveryStatus.IGNORED)
SEVERITY_RANK = similarity.SEVERITY_RANK


def scheduled_key(schema_name: str) -> str:
    return f"argus:{schema_name}:intake:scheduled"


def helpers_key(schema_name: str) -> str:
    return f"argus:{schema_name}:intake:helpers"


@cache
def _redis() -> redis.Redis:
    # redis-py's pool notices a fork and reconnects, so one client per process is safe under prefork.
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def send_process_task(schema_name: str, *, helper: bool = False) -> None:
    from argus.celery import app

    app.send_task(PROCESS_TASK, kwargs={"helper": True} if helper else {}, headers={"_schema_name": schema_name},
                  queue="default")


def _start_helper(schema_name: str) -> None:
    """A backlog is shared with up to ARGUS_INTAKE_PROCESSORS - 1 helper tasks (SKIP LOCKED keeps them apart),
    so a burst uses every worker process instead of one. The counter expires in case a helper dies."""
    key = helpers_key(schema_name)
    if _redis().incr(key) > settings.ARGUS_INTAKE_PROCESSORS - 1:
        _redis().decr(key)
        return
    _redis().expire(key, 600)
    send_process_task(schema_name, helper=True)


def request_processing(schema_name: str) -> None:
    """Make sure a worker will look at `schema_name`'s pending deliveries soon. Cheap: one Redis round trip
    when a task is already scheduled."""
    key = scheduled_key(schema_name)
    if not _redis().set(key, 1, nx=True, ex=SCHEDULE_TTL_SECONDS):
        return
    try:
        send_process_task(schema_name)
    except Exception:
        # Without the task the flag would silence every trigger for two minutes.
        _redis().delete(key)
        raise


# -- one delivery -----------------------------------------------------------------------------------------


@dataclass
class BatchOutcome:
    deliveries: int = 0
    processed: int = 0
    failed: int = 0
    ignored: int = 0
    events_created: int = 0
    project_ids: set = field(default_factory=set)
    group_ids: set = field(default_factory=set)


def _clip(value: Any, size: int) -> str:
    return str(value or "")[:size]


def _aware(value: datetime | None, default: datetime) -> datetime:
    if value is None:
        return default
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def _severity(value: str) -> str:
    return value if value in Severity.values else Severity.ERROR


def _max_severity(first: str, second: str) -> str:
    return first if SEVERITY_RANK.get(first, 0) >= SEVERITY_RANK.get(second, 0) else second


def _add_day(group_id, day, occurrences: int) -> None:
    """occurrences += n for (group, day), in one statement whoever else is counting the same day."""
    if occurrences <= 0:
        return
    table = connection.ops.quote_name(ErrorGroupDay._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (group_id, day, occurrences) VALUES (%s, %s, %s) "  # noqa: S608 - table name
            f"ON CONFLICT ON CONSTRAINT errorgroupday_once DO UPDATE SET occurrences = {table}.occurrences "
            "+ EXCLUDED.occurrences",
            [group_id, day, occurrences],
        )


def _root_group(group: ErrorGroup) -> ErrorGroup:
    """Events of a merged group's fingerprint go to the group it was merged into."""
    seen = set()
    while group.merged_into_id is not None and group.pk not in seen:
        seen.add(group.pk)
        group = ErrorGroup.objects.select_for_update().get(pk=group.merged_into_id)
    return group


def _group_for(log: WebhookLog, event, fingerprint: str, method: str, frames: list[str],
               first_seen: datetime, last_seen: datetime) -> tuple[ErrorGroup, bool]:
    """The group of a fingerprint, locked; created when new. Returns (group, created)."""
    group = ErrorGroup.objects.select_for_update().filter(project_id=log.project_id, fingerprint=fingerprint).first()
    if group is not None:
        return _root_group(group), False
    try:
        with transaction.atomic():
            group = ErrorGroup.objects.create(
                project_id=log.project_id, fingerprint=fingerprint, grouping_method=method,
                title=_clip(event.title or event.message or event.exception_type or "Error", 300),
                exception_type=_clip(event.exception_type, 200),
                normalized_message=normalize_message(event.message or event.title or ""),
                in_app_frames=frames, severity=_severity(event.severity), first_seen=first_seen, last_seen=last_seen,
                url_path=_clip(event.url_path, 500), component=_clip(event.component, 200),
                api_endpoint=_clip(event.api_endpoint, 300),
            )
        return group, True
    except IntegrityError:
        # Another worker created it between our read and our insert.
        group = ErrorGroup.objects.select_for_update().get(project_id=log.project_id, fingerprint=fingerprint)
        return _root_group(group), False


def _event_for(log: WebhookLog, external_id: str) -> ProductionEvent | None:
    return (ProductionEvent.objects.select_for_update()
            .filter(project_id=log.project_id, source=log.source, external_id=external_id).first())


def _event_fields(log: WebhookLog, event) -> dict[str, Any]:
    """What the newest delivery says about an event (kept up to date on repeats)."""
    return {
        "delivery": log, "event_type": _clip(event.event_type, 100), "severity": _severity(event.severity),
        "title": _clip(event.title or event.message or event.exception_type or "Error", 300),
        "message": str(event.message or ""), "exception_type": _clip(event.exception_type, 200),
        "stack_trace": list(event.stack_trace or []), "tracker_fingerprint": _clip(event.tracker_fingerprint, 300),
        "url": _clip(event.url, 2000), "url_path": _clip(event.url_path, 500), "component": _clip(event.component, 200),
        "api_endpoint": _clip(event.api_endpoint, 300), "release": _clip(event.release, 200),
        "environment": _clip(event.environment, 100), "tags": dict(event.tags or {}),
        "session_url": _clip(event.session_url, 2000), "link": _clip(event.link, 2000),
    }


def _apply_event(log: WebhookLog, event, outcome: BatchOutcome, new_groups: list[ErrorGroup]) -> bool:
    """Upsert one normalized event and its group. Returns True when the event is new."""
    fingerprint, method, frames = group_key(event, log.source)
    first_seen = _aware(event.first_seen, log.received_at)
    last_seen = max(_aware(event.last_seen, first_seen), first_seen)
    external_id = _clip(event.external_id or f"fingerprint:{fingerprint}", 200)
    sent_count = int(event.occurrence_count or 0)
    sent_users = max(0, int(event.affected_users or 0))
    # "resolved" when the tracker itself closed the issue: a status change, not one more occurrence.
    tracker_status = getattr(event, "status", "") or ""
    tracker_resolved = tracker_status == EventStatus.RESOLVED
    fields = _event_fields(log, event)

    existing = _event_for(log, external_id)
    if existing is None:
        group, created = _group_for(log, event, fingerprint, method, frames, first_seen, last_seen)
        occurrences = max(1, sent_count)
        try:
            with transaction.atomic():
                created_event = ProductionEvent.objects.create(
                    project_id=log.project_id, group=group, source=log.source, external_id=external_id,
                    fingerprint=group.fingerprint, occurrence_count=occurrences, affected_users=sent_users,
                    first_seen=first_seen, last_seen=last_seen, trail=list(event.trail or []),
                    status=EventStatus.RESOLVED if tracker_resolved else EventStatus.NEW,
                    status_changed_at=timezone.now() if tracker_resolved else None, **fields)
                emit("production_event.received", {
                    "event": created_event.pk, "group": group.pk, "source": log.source, "title": created_event.title,
                    "severity": created_event.severity, "url_path": created_event.url_path},
                    source="production_events", correlation_id=str(log.pk))
        except IntegrityError:
            # The same tracker event arrived in two deliveries processed at once: update it instead.
            existing = _event_for(log, external_id)
            if existing is None:
                raise
        else:
            users_delta, is_new = sent_users, True
            if created:
                new_groups.append(group)
    if existing is not None:
        group = _root_group(ErrorGroup.objects.select_for_update().get(pk=existing.group_id))
        # A tracker that counts sends its cumulative total; one that doesn't (count 0 or 1) means "once more".
        if sent_count > 1 or tracker_resolved:
            total = max(existing.occurrence_count, sent_count)
        else:
            total = existing.occurrence_count + 1
        occurrences = total - existing.occurrence_count
        users = max(existing.affected_users, sent_users)
        users_delta, is_new = users - existing.affected_users, False
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.group = group
        existing.fingerprint = group.fingerprint
        existing.occurrence_count, existing.affected_users = total, users
        existing.first_seen, existing.last_seen = min(existing.first_seen, first_seen), max(existing.last_seen,
                                                                                             last_seen)
        if event.trail:
            existing.trail = list(event.trail)
        if tracker_resolved and existing.status != EventStatus.RESOLVED:
            existing.status, existing.status_changed_by, existing.status_changed_at = EventStatus.RESOLVED, None, \
                timezone.now()
        elif existing.status == EventStatus.RESOLVED and occurrences > 0 and not tracker_resolved:
            # It happened again after being resolved: a regression, back to the inbox.
            existing.status, existing.status_changed_by, existing.status_changed_at = EventStatus.NEW, None, \
                timezone.now()
        existing.save()

    group.event_count += 1 if is_new else 0
    group.occurrence_count += occurrences
    group.affected_users += users_delta
    group.first_seen, group.last_seen = min(group.first_seen, first_seen), max(group.last_seen, last_seen)
    group.severity = _max_severity(group.severity, _severity(event.severity))
    for name, size in (("url_path", 500), ("component", 200), ("api_endpoint", 300)):
        if not getattr(group, name) and getattr(event, name, ""):
            setattr(group, name, _clip(getattr(event, name), size))
    group.save(update_fields=["event_count", "occurrence_count", "affected_users", "first_seen", "last_seen",
                              "severity", "url_path", "component", "api_endpoint", "updated_at"])
    _add_day(group.pk, last_seen.date(), occurrences)
    outcome.group_ids.add(group.pk)
    return is_new


def _index_new_groups(groups: list[ErrorGroup]) -> None:
    if not groups:
        return
    # A delivery belongs to one project: its settings are read once.
    settings_row = similarity.error_settings_for(groups[0].project_id)
    for group in groups:
        group.refresh_from_db()
        if group.merged_into_id is not None:
            continue
        group.embedding = embeddings.embed_group(group)
        group.save(update_fields=["embedding"])
        similarity.near_duplicates_check(group, settings_row=settings_row)


def _apply_delivery(log: WebhookLog, outcome: BatchOutcome) -> None:
    from apps.production_events import normalizers

    normalized = normalizers.normalize(log.source, log.payload, log.headers or {})
    now = timezone.now()
    log.attempts += 1
    log.processed_at = now
    if normalized.ignored_reason or not normalized.events:
        log.status = DeliveryStatus.IGNORED
        log.reason = normalized.ignored_reason or "The delivery holds no error event."
        log.events_created = 0
        outcome.ignored += 1
        log.save(update_fields=["status", "reason", "attempts", "processed_at", "events_created", "updated_at"])
        return
    new_groups: list[ErrorGroup] = []
    created = sum(1 for event in normalized.events if _apply_event(log, event, outcome, new_groups))
    _index_new_groups(new_groups)
    log.status, log.reason, log.events_created = DeliveryStatus.PROCESSED, "", created
    log.save(update_fields=["status", "reason", "attempts", "processed_at", "events_created", "updated_at"])
    outcome.processed += 1
    outcome.events_created += created
    outcome.project_ids.add(log.project_id)


def _process_locked(log: WebhookLog, outcome: BatchOutcome) -> None:
    """Process one claimed delivery in a savepoint; a failure is recorded on the delivery, not raised."""
    outcome.deliveries += 1
    attempts = log.attempts
    try:
        with transaction.atomic():
            _apply_delivery(log, outcome)
    except OperationalError as exc:
        if not isinstance(exc.__cause__, DeadlockDetected):
            _record_failure(log, exc, attempts, outcome)
            return
        # Another worker held what this delivery needed: nothing of it was written, it stays pending and
        # the next claim takes it again.
        logger.info("Delivery %s met a deadlock; it stays pending", log.pk)
    except Exception as exc:  # noqa: BLE001 - any failure of one delivery is stored with it, the batch goes on
        _record_failure(log, exc, attempts, outcome)


def _record_failure(log: WebhookLog, exc: Exception, attempts: int, outcome: BatchOutcome) -> None:
    logger.warning("Delivery %s (%s) failed to process", log.pk, log.source, exc_info=(type(exc), exc, None))
    log.status = DeliveryStatus.FAILED
    log.reason = f"{type(exc).__name__}: {exc}"[:4000]
    log.attempts = attempts + 1
    log.processed_at = None
    log.events_created = 0
    log.save(update_fields=["status", "reason", "attempts", "processed_at", "events_created", "updated_at"])
    outcome.failed += 1


def _refresh_group_places(group_ids: Iterable) -> None:
    """A group's page / component / endpoint is the most frequent one among its events; a change of place
    changes the group's embedding too."""
    group_ids = list(group_ids)
    if not group_ids:
        return
    events = connection.ops.quote_name(ProductionEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT group_id, "  # noqa: S608 - table name
            "mode() WITHIN GROUP (ORDER BY url_path) FILTER (WHERE url_path <> ''), "
            "mode() WITHIN GROUP (ORDER BY component) FILTER (WHERE component <> ''), "
            "mode() WITHIN GROUP (ORDER BY api_endpoint) FILTER (WHERE api_endpoint <> '') "
            f"FROM {events} WHERE group_id = ANY(%s) GROUP BY group_id",
            [group_ids],
        )
        places = {row[0]: (row[1] or "", row[2] or "", row[3] or "") for row in cursor.fetchall()}
    for group in ErrorGroup.objects.filter(pk__in=list(places)).defer("embedding"):
        url_path, component, api_endpoint = places[group.pk]
        if (group.url_path, group.component, group.api_endpoint) == (url_path, component, api_endpoint):
            continue
        group.url_path, group.component, group.api_endpoint = url_path, component, api_endpoint
        group.embedding = embeddings.embed_group(group)
        group.save(update_fields=["url_path", "component", "api_endpoint", "embedding", "updated_at"])


def _request_risk(project_ids: Iterable) -> None:
    from apps.risk_scores.tasks import request_risk_recalculation  # risk_scores reads this app's models

    for project_id in project_ids:
        try:
            request_risk_recalculation(project_id)
        except Exception:  # noqa: BLE001 - risk is derived data; the next batch or the beat asks again
            logger.exception("Risk recalculation request failed for project %s", project_id)


def _pending() -> QuerySet[WebhookLog]:
    return WebhookLog.objects.filter(status=DeliveryStatus.PENDING, is_duplicate=False)


def process_batch(limit: int = BATCH_SIZE) -> BatchOutcome:
    """Process up to `limit` pending deliveries no other worker holds, each claimed and committed on its own.

    One short transaction per delivery: a group row is locked only while one delivery updates it, so two
    workers sharing a backlog wait for each other briefly instead of holding many groups each (which
    deadlocked when they took them in different orders)."""
    outcome = BatchOutcome()
    for _ in range(limit):
        with transaction.atomic():
            log = _pending().select_for_update(skip_locked=True).order_by("received_at").first()
            if log is None:
                break
            _process_locked(log, outcome)
    with transaction.atomic():
        _refresh_group_places(sorted(outcome.group_ids))
    _request_risk(outcome.project_ids)
    return outcome


def process_pending_deliveries(*, max_batches: int | None = None, helper: bool = False) -> BatchOutcome:
    """The task body, in the current tenant schema: batches until nothing is left, then the flag.
    A helper (started when the first batch was full) only works the backlog down."""
    schema_name = connection.schema_name
    try:
        total = _process_batches(max_batches, helper=helper)
    finally:
        if helper:
            _redis().decr(helpers_key(schema_name))
    if helper:
        return total
    _redis().delete(scheduled_key(schema_name))
    # A delivery stored after our last claim but before the delete found the flag set and sent nothing.
    with transaction.atomic():
        unclaimed = _pending().select_for_update(skip_locked=True).exists()
    if unclaimed:
        request_processing(schema_name)
    return total


def _process_batches(max_batches: int | None, *, helper: bool) -> BatchOutcome:
    total = BatchOutcome()
    batches = 0
    while max_batches is None or batches < max_batches:
        outcome = process_batch()
        if batches == 0 and not helper and outcome.deliveries == BATCH_SIZE:
            _start_helper(connection.schema_name)
        batches += 1
        for name in ("deliveries", "processed", "failed", "ignored", "events_created"):
            setattr(total, name, getattr(total, name) + getattr(outcome, name))
        total.project_ids |= outcome.project_ids
        if outcome.deliveries < BATCH_SIZE:
            break
    return total


def process_delivery(log: WebhookLog) -> None:
    """Process one delivery now (idempotent: a delivery that is no longer pending or failed is left alone;
    transactional: all of its events or none)."""
    outcome = BatchOutcome()
    with transaction.atomic():
        locked = WebhookLog.objects.select_for_update().filter(pk=log.pk, is_duplicate=False).first()
        if locked is None or locked.status not in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
            return
        _process_locked(locked, outcome)
        _refresh_group_places(outcome.group_ids)
    _request_risk(outcome.project_ids)
    log.refresh_from_db()


def stuck_pending_exists(older_than_seconds: int = 30) -> bool:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return _pending().filter(received_at__lt=cutoff).exists()


def sweep_current_tenant() -> int:
    """Beat: enqueue processing for this schema when deliveries have waited too long (a lost task, an
    expired flag). Returns 1 when it did."""
    if not stuck_pending_exists():
        return 0
    send_process_task(connection.schema_name)
    return 1


# -- reprocessing -----------------------------------------------------------------------------------------


def deliveries_reprocess(deliveries: QuerySet[WebhookLog] | Iterable, *, actor, trigger: bool = True) -> int:
    """Failed or ignored deliveries → pending again, audited, and processing requested after commit.
    Others (pending, processed, duplicate) are left as they are. Returns how many were reset."""
    if isinstance(deliveries, QuerySet):
        queryset = deliveries
    else:
        queryset = WebhookLog.objects.filter(pk__in=[getattr(item, "pk", item) for item in deliveries])
    with transaction.atomic():
        logs = list(queryset.filter(status__in=REPROCESSABLE, is_duplicate=False).select_for_update()
                    .defer("payload", "headers"))
        for log in logs:
            audit_record(actor=actor, action="webhook_delivery.reprocess", target=log,
                         changes={"status": [log.status, DeliveryStatus.PENDING], "reason": log.reason[:500]})
        WebhookLog.objects.filter(pk__in=[log.pk for log in logs]).update(
            status=DeliveryStatus.PENDING, reason="", processed_at=None, updated_at=timezone.now())
        if logs and trigger:
            schema_name = connection.schema_name
            transaction.on_commit(lambda: request_processing(schema_name))
    return len(logs)
