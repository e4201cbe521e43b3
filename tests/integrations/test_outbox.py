"""The event outbox: emit in the caller's transaction, dispatch to subscribers (once each), retries with
backoff, dead letters and replay, the realtime group, and the emits wired into other apps."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tenants.utils import tenant_context

import tests.api_endpoints  # noqa: F401 - loads the API tables in the order they expect
from apps.audit.models import AuditEntry
from apps.core.errors import ApplicationError
from apps.generated_tests.services import test_create
from apps.healing.services import heal_accept
from apps.integrations.dispatch import MAX_RETRIES, dispatch_batch, events_group
from apps.integrations.events import emit
from apps.integrations.models import DeadLetter, OutboxDelivery, OutboxEvent, OutboxStatus
from apps.integrations.services import dead_letter_replay
from apps.projects.services import project_create
from apps.test_runs.models import ResultStatus, StepResult, StepStatus
from apps.test_runs.services import result_claim, result_finish, run_create
from tests.api_endpoints import DEFINITION
from tests.healing.endpoints import HEALED_SELECTOR, make_heal


class Listener:
    """A socket's view of `<schema>.events`: its own channel-layer instance on one event loop in a thread
    (channels_redis binds a channel's receive buffer to the loop that first reads it)."""

    def __init__(self, schema_name: str) -> None:
        self.layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.channel = self._run(self.layer.new_channel())
        self._run(self.layer.group_add(events_group(schema_name), self.channel))

    def _run(self, coroutine, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def receive(self, timeout: float) -> dict | None:
        try:
            return self._run(asyncio.wait_for(self.layer.receive(self.channel), timeout), timeout + 5)
        except TimeoutError:
            return None

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def listen() -> Iterator[Callable[[str], Listener]]:
    listeners: list[Listener] = []

    def make(schema_name: str) -> Listener:
        listeners.append(Listener(schema_name))
        return listeners[-1]

    yield make
    for listener in listeners:
        listener.close()


def _receive_event(channel: Listener, event_id: str, seconds: float) -> dict | None:
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        message = channel.receive(remaining)
        if message is None or message["event_id"] == event_id:
            return message
    return None


def _project(org):
    return project_create(actor=org.admin, name=f"Outbox {uuid.uuid4().hex[:6]}", base_url="https://shop.example.com/")


def _time_passes(event: OutboxEvent) -> None:
    """The event's backoff is over (instead of sleeping 2, 4 and 8 seconds)."""
    OutboxEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_emit_writes_json_in_the_callers_transaction_and_a_rollback_leaves_nothing(alpha):
    with tenant_context(alpha.organization):
        project = _project(alpha)
        moment = timezone.now()
        with pytest.raises(RuntimeError), transaction.atomic():
            rolled_back = emit("test.created", {"test": uuid.uuid4()}, source="tests")
            raise RuntimeError("the change fails after the emit")
        assert not OutboxEvent.objects.filter(pk=rolled_back.pk).exists()

        event = emit("test.created", {"project": project.pk, "at": moment}, source="tests",
                     correlation_id=project.pk, metadata={"by": alpha.admin.pk})
        stored = OutboxEvent.objects.get(pk=event.pk)
        assert stored.payload["project"] == str(project.pk)
        # DjangoJSONEncoder writes datetimes as ISO 8601 to the millisecond.
        assert parse_datetime(stored.payload["at"]) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        assert stored.metadata == {"by": str(alpha.admin.pk)}
        assert stored.tenant == alpha.organization.schema_name and stored.status == OutboxStatus.PENDING
        assert stored.correlation_id == str(project.pk)
        with pytest.raises(ValueError):
            emit("test.teleported", {}, source="tests")


def test_each_subscriber_gets_an_event_once_even_when_it_is_dispatched_again(alpha, subscriber, listen):
    received: list[str] = []
    subscriber("recorder", lambda event: received.append(str(event.event_id)))
    with tenant_context(alpha.organization):
        channel = listen(connection.schema_name)
        event = emit("run.finished", {"status": "passed"}, source="tests")
        outcome, delays = dispatch_batch()
        assert (outcome.dispatched, delays) == (1, [])
        message = channel.receive(5)
        assert message == {"type": "outbox.event", "event_type": "run.finished", "event_id": str(event.event_id),
                            "payload": {"status": "passed"}}
        assert received == [str(event.event_id)]
        event.refresh_from_db()
        assert event.status == OutboxStatus.DISPATCHED and event.dispatched_at is not None
        assert sorted(event.deliveries.values_list("subscriber", flat=True)) == ["realtime", "recorder"]

        # A duplicate dispatch (a redelivered task, a replay) finds both deliveries and sends nothing.
        OutboxEvent.objects.filter(pk=event.pk).update(status=OutboxStatus.PENDING)
        outcome, _delays = dispatch_batch()
        assert outcome.dispatched == 1
        assert received == [str(event.event_id)]
        assert channel.receive(1) is None
        assert OutboxDelivery.objects.filter(event=event).count() == 2


def test_a_failing_subscriber_retries_with_backoff_then_dead_letters_and_replay_delivers(alpha, subscriber, listen,
                                                                                         caplog):
    calls: list[str] = []
    broken = {"on": True}

    def webhook(event: OutboxEvent) -> None:
        calls.append(str(event.event_id))
        if broken["on"]:
            raise ConnectionError("hooks.example.com refused the connection")

    subscriber("webhook", webhook)
    with tenant_context(alpha.organization):
        channel = listen(connection.schema_name)
        event = emit("test.failed", {"name": "Checkout"}, source="tests")
        for attempt in range(1, MAX_RETRIES + 1):
            started = timezone.now()
            outcome, delays = dispatch_batch()
            assert (outcome.retrying, delays) == (1, [2 ** attempt])
            event.refresh_from_db()
            assert (event.status, event.attempts) == (OutboxStatus.PENDING, attempt)
            assert "webhook: ConnectionError: hooks.example.com refused" in event.last_error
            assert timedelta(seconds=2 ** attempt - 1) < event.next_attempt_at - started < timedelta(
                seconds=2 ** attempt + 1)
            # Not due yet: a dispatch now leaves it alone.
            assert dispatch_batch()[0].handled == 0
            _time_passes(event)
        with caplog.at_level(logging.ERROR, logger="apps.integrations.dispatch"):
            outcome, delays = dispatch_batch()
        assert (outcome.dead, delays) == (1, [])
        assert len(calls) == MAX_RETRIES + 1
        event.refresh_from_db()
        assert event.status == OutboxStatus.DEAD
        letter = DeadLetter.objects.get(event=event)
        assert (letter.subscriber, letter.retry_count) == ("webhook", MAX_RETRIES)
        assert "refused the connection" in letter.error
        assert any("is dead after 3 retries" in record.getMessage() for record in caplog.records)
        assert AuditEntry.objects.filter(action="event.dead_lettered", object_id=str(event.pk)).exists()
        # The realtime subscriber succeeded on the first round and was never called again.
        assert channel.receive(2)["event_id"] == str(event.event_id)
        assert channel.receive(0.5) is None

        broken["on"] = False
        dead_letter_replay(dead_letter=letter, actor=alpha.admin)
        event.refresh_from_db()
        assert (event.status, event.attempts, event.last_error) == (OutboxStatus.PENDING, 0, "")
        assert dispatch_batch()[0].dispatched == 1
        event.refresh_from_db()
        assert event.status == OutboxStatus.DISPATCHED
        assert len(calls) == MAX_RETRIES + 2
        assert sorted(event.deliveries.values_list("subscriber", flat=True)) == ["realtime", "webhook"]
        assert channel.receive(0.5) is None
        assert AuditEntry.objects.filter(action="dead_letter.replayed", object_id=str(letter.pk)).exists()
        with pytest.raises(ApplicationError) as refused:
            dead_letter_replay(dead_letter=letter, actor=alpha.admin)
        assert refused.value.code == "already_replayed"


def test_domain_changes_emit_their_events(alpha):
    with tenant_context(alpha.organization):
        project = _project(alpha)
        test = test_create(project=project, actor=alpha.admin, name="Add to cart", definition=DEFINITION)
        created = OutboxEvent.objects.get(event_type="test.created", payload__test=str(test.pk))
        assert created.source == "generated_tests" and created.payload["steps"] == 2

        run = run_create(project=project, actor=alpha.admin, tests=[test])
        result = result_claim(run.results.get().pk, task_id="outbox", worker="outbox")
        step = StepResult.objects.create(result=result, index=1, action="click", description="Click add-to-cart",
                                         status=StepStatus.FAILED, started_at=timezone.now(), duration_ms=10)
        result_finish(result, status=ResultStatus.FAILED, error_type="ElementNotFound", error_message="gone")
        by_result = OutboxEvent.objects.filter(payload__result=str(result.pk))
        assert sorted(by_result.values_list("event_type", flat=True)) == ["test.executed", "test.failed"]
        assert by_result.first().payload["run"] == str(run.pk)
        finished = OutboxEvent.objects.get(event_type="run.finished", payload__id=str(run.pk))
        assert (finished.payload["status"], finished.payload["failed"], finished.correlation_id) == (
            "failed", 1, str(run.pk))

        heal = heal_accept(heal=make_heal(project, step), actor=alpha.developer)
        completed = OutboxEvent.objects.get(event_type="healing.completed", payload__heal=str(heal.pk))
        assert completed.payload == {"heal": str(heal.pk), "test": str(test.pk), "step_index": 1,
                                     "old_locator": "test_id=add-to-cart", "new_locator": HEALED_SELECTOR,
                                     "confidence": 0.93, "status": "accepted"}


def test_a_committed_event_is_dispatched_by_a_worker_to_the_realtime_group(session_orgs, celery_worker, listen,
                                                                           django_db_blocker):
    alpha = session_orgs["alpha"]
    schema_name = alpha.organization.schema_name
    channel = listen(schema_name)
    worker = celery_worker(queues="default")
    with django_db_blocker.unblock():
        event = None
        try:
            with tenant_context(alpha.organization):
                with transaction.atomic():
                    event = emit("codebase.ingested", {"files": 3}, source="tests")
                # Events committed by earlier tests (finished runs, say) may reach the group first.
                message = _receive_event(channel, str(event.event_id), seconds=40)
                assert message is not None, worker.log()[-3000:]
                assert message["payload"] == {"files": 3}
                deadline = time.monotonic() + 20
                while OutboxEvent.objects.get(pk=event.pk).status != OutboxStatus.DISPATCHED:
                    assert time.monotonic() < deadline, worker.stuck_report()
                    time.sleep(0.2)
                assert list(event.deliveries.values_list("subscriber", flat=True)) == ["realtime"]
        finally:
            if event is not None:
                with tenant_context(alpha.organization):
                    OutboxEvent.objects.filter(pk=event.pk).delete()
            connection.set_schema_to_public()
    assert "integrations.dispatch_events" in worker.log()
