"""The reaper: finds results whose worker died (no heartbeat for ARGUS_RESULT_STALE_SECONDS) and
re-queues them (up to ARGUS_RESULT_MAX_REQUEUES times, same attempt) or errors them with the reason;
queued results of cancelled runs are cancelled. Run by the beat every 30 s in every tenant.

Idempotent and safe to run concurrently: rows are taken with SELECT ... FOR UPDATE SKIP LOCKED, so
two reapers never handle the same result, and a result a worker is finishing right now is left alone.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.organizations.tenants import sum_over_tenants
from apps.test_runs import live, services
from apps.test_runs.models import ResultStatus, RunKind, StepResult, StepStatus, TestResult

logger = logging.getLogger(__name__)

WORKER_LOST_STEP_ERROR = "The worker running this step stopped responding."


def reap_all_tenants() -> int:
    return sum_over_tenants(reap_stale_results, label="reaping stale results")


def _lost_message(result: TestResult, now) -> str:
    last = result.heartbeat_at or result.started_at
    seen = (f"last heartbeat {last.strftime('%Y-%m-%d %H:%M:%S')} UTC, {int((now - last).total_seconds())} s ago"
            if last else "no heartbeat")
    return (f"The worker running this test stopped responding ({seen}); "
            f"gave up after {result.requeues} re-queue(s).")


def reap_stale_results() -> int:
    """Handle this schema's lost results and its cancelled runs' queued ones; returns how many changed."""
    now = timezone.now()
    cutoff = services.stale_results_cutoff()
    changed: list[tuple[TestResult, str]] = []
    requeued: list[str] = []
    with transaction.atomic():
        stale = list(
            TestResult.objects.select_for_update(skip_locked=True, of=("self",)).select_related("run")
            .filter(status=ResultStatus.RUNNING, run__kind=RunKind.BROWSER)
            .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
        )
        for result in stale:
            StepResult.objects.filter(result=result, attempt=result.attempt, status=StepStatus.RUNNING).update(
                status=StepStatus.ERROR, error=WORKER_LOST_STEP_ERROR, updated_at=now)
            if result.run.cancel_requested_at is not None:
                _finish(result, now, status=ResultStatus.CANCELLED, error_type="cancelled",
                        message="The run was cancelled while its worker was lost.")
                changed.append((result, "test.finished"))
            elif result.requeues < settings.ARGUS_RESULT_MAX_REQUEUES:
                result.status = ResultStatus.QUEUED
                result.requeues += 1
                result.heartbeat_at = result.started_at = None
                result.celery_task_id = result.worker = ""
                result.save(update_fields=["status", "requeues", "heartbeat_at", "started_at", "celery_task_id",
                                           "worker", "updated_at"])
                requeued.append(str(result.pk))
                changed.append((result, "test.retrying"))
            else:
                _finish(result, now, status=ResultStatus.ERROR, error_type="worker_lost",
                        message=_lost_message(result, now))
                changed.append((result, "test.finished"))
        orphans = list(TestResult.objects.select_for_update(skip_locked=True, of=("self",))
                       .filter(status=ResultStatus.QUEUED, run__cancel_requested_at__isnull=False))
        for result in orphans:
            _finish(result, now, status=ResultStatus.CANCELLED, error_type="cancelled",
                    message="Cancelled before it started.")
            changed.append((result, "test.finished"))
        transaction.on_commit(lambda: _enqueue(requeued))
    for result, event in changed:
        live.publish(result.run_id, event, services.result_summary(result))
    for run_id in {result.run_id for result, _ in changed}:
        services.run_refresh(run_id)
    if changed:
        logger.warning("reaped %d result(s): %d re-queued", len(changed), len(requeued))
    return len(changed)


def _finish(result: TestResult, now, *, status: str, error_type: str, message: str) -> None:
    result.status = status
    result.finished_at = now
    if result.started_at:
        result.duration_ms = int((now - result.started_at).total_seconds() * 1000)
    result.error_type = error_type
    result.error_message = message
    result.heartbeat_at = None
    result.save(update_fields=["status", "finished_at", "duration_ms", "error_type", "error_message", "heartbeat_at",
                               "updated_at"])


def _enqueue(result_ids: list[str]) -> None:
    from apps.test_runs.tasks import execute_result  # tasks import this module lazily

    for result_id in result_ids:
        execute_result.delay(result_id)
