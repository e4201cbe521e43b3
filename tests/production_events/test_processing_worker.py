"""request_processing through a real Celery worker: a committed pending delivery gets processed in its
tenant's schema, and the debounce flag is gone afterwards."""

from __future__ import annotations

import time

from django.db import connection
from django_tenants.utils import tenant_context

from apps.production_events.models import DeliveryStatus, ProductionEvent, WebhookLog
from apps.production_events.processing import BATCH_SIZE, _redis, helpers_key, request_processing, scheduled_key
from tests.production_events.processing_deliveries import generic_error, stored_delivery


def _wait_for(predicate, worker, seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, worker.stuck_report()
        assert worker.process.poll() is None, worker.log()[-3000:]
        time.sleep(0.2)


def test_request_processing_gets_a_pending_delivery_processed_by_a_worker(session_orgs, committed_project,
                                                                          celery_worker, django_db_blocker):
    alpha = session_orgs["alpha"]
    project = committed_project(alpha, name="Intake shop")
    schema_name = alpha.organization.schema_name
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        logs = [stored_delivery(project, "generic", generic_error(f"WORKER-{index}")) for index in range(3)]
    worker = celery_worker(queues="default")
    _process_through_the_worker(alpha, project, logs, schema_name, worker, django_db_blocker)


def _process_through_the_worker(alpha, project, logs, schema_name, worker, django_db_blocker) -> None:
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        request_processing(schema_name)
        request_processing(schema_name)  # debounced: one task does all three

        def all_processed() -> bool:
            with tenant_context(alpha.organization):
                return not WebhookLog.objects.filter(pk__in=[log.pk for log in logs]).exclude(
                    status=DeliveryStatus.PROCESSED).exists()

        _wait_for(all_processed, worker)
        with tenant_context(alpha.organization):
            assert ProductionEvent.objects.filter(project=project).count() == 3
        _wait_for(lambda: not _redis().exists(scheduled_key(schema_name)), worker, seconds=10)
    assert worker.log().count("production_events.process_pending") >= 1


def test_a_backlog_is_shared_by_a_helper_task_and_each_delivery_is_processed_once(
        session_orgs, committed_project, celery_worker, django_db_blocker):
    alpha = session_orgs["alpha"]
    project = committed_project(alpha, name="Backlog shop")
    schema_name = alpha.organization.schema_name
    count = BATCH_SIZE * 3
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        logs = [stored_delivery(project, "generic", generic_error(f"BACKLOG-{index % 7}")) for index in range(count)]
    worker = celery_worker(queues="default", concurrency=2)
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        request_processing(schema_name)

        def all_processed() -> bool:
            with tenant_context(alpha.organization):
                return not WebhookLog.objects.filter(pk__in=[log.pk for log in logs]).exclude(
                    status=DeliveryStatus.PROCESSED).exists()

        _wait_for(all_processed, worker, seconds=90)
        with tenant_context(alpha.organization):
            # 7 issues, each repeated: one event each, and every delivery counted exactly once.
            events = ProductionEvent.objects.filter(project=project)
            assert events.count() == 7
            assert sum(event.occurrence_count for event in events) == count
        _wait_for(lambda: int(_redis().get(helpers_key(schema_name)) or 0) == 0, worker, seconds=20)
    # The first task found a full batch and started a helper: two tasks shared the backlog.
    assert worker.log().count("Task production_events.process_pending[") >= 2 * 2, worker.log()[-3000:]
