"""Writes for runs: create (fan out per test and device), cancel, rerun failed, and the result
life cycle the workers report through (start, heartbeat, finish) that keeps the run's counts."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.context import current_request_context
from apps.core.errors import ApplicationError
from apps.generated_tests.models import Suite, Test, TestStatus
from apps.integrations.events import emit
from apps.projects.models import Environment, Project
from apps.test_runs import live
from apps.test_runs.devices import DEFAULT_DEVICE, DEVICES
from apps.test_runs.models import (
    FINISHED_RESULT_STATUSES,
    ResultStatus,
    Run,
    RunKind,
    RunStatus,
    RunTrigger,
    TestResult,
)

SCREENSHOT_POLICIES = ("every_step", "on_failure")
MAX_RESULTS_PER_RUN = 2000


def started_by_label(actor) -> str:
    """Who started a run, as text that survives the user: an e-mail, an API key prefix or ''."""
    context = current_request_context()
    if context.api_key_prefix:
        return f"API key {context.api_key_prefix}"
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor.email
    return ""


def next_run_number(project: Project) -> int:
    # The project row lock serializes numbering between concurrent run creations.
    Project.objects.select_for_update().filter(pk=project.pk).first()
    return (Run.objects.filter(project=project).aggregate(top=Max("number"))["top"] or 0) + 1


def resolve_environment(project: Project, name: str | None) -> Environment | None:
    if not name:
        return None
    environment = Environment.objects.filter(project=project, name=name).first()
    if environment is None:
        raise ApplicationError(f"The project has no “{name}” environment.", code="invalid",
                               details={"environment": [f"Configure the {name} URL on the project first."]})
    return environment


def _clean_devices(devices: Iterable[str] | None) -> list[str]:
    devices = list(dict.fromkeys(devices or [])) or [DEFAULT_DEVICE]
    unknown = [device for device in devices if device not in DEVICES]
    if unknown:
        raise ApplicationError(f"Unknown device(s): {', '.join(unknown)}.", code="invalid",
                               details={"devices": [f"Use one of: {', '.join(DEVICES)}."]})
    return devices


def _enqueue_results(result_ids: list) -> None:
    from apps.test_runs.tasks import execute_result  # tasks import services

    for result_id in result_ids:
        execute_result.delay(str(result_id))


@transaction.atomic
def run_create(
    *, project: Project, actor, trigger: str = RunTrigger.MANUAL, suite: Suite | None = None,
    tests: list[Test] | None = None, environment: str | None = None, devices: list[str] | None = None,
    retries: int = 0, screenshots: str = "every_step", schedule=None, label: str | None = None,
    metadata: dict | None = None,
) -> Run:
    """Queue a browser run of a suite or of chosen tests, one result per test and device."""
    if project.is_archived:
        raise ApplicationError("Archived projects cannot run tests.", code="archived", status_code=409)
    if suite is not None and suite.project_id != project.pk:
        raise ApplicationError("The suite is not in this project.", code="invalid")
    if suite is None and not tests:
        raise ApplicationError("Choose a suite or at least one test.", code="invalid",
                               details={"tests": ["Give a suite or a list of tests."]})
    if screenshots not in SCREENSHOT_POLICIES:
        raise ApplicationError("Unknown screenshot policy.", code="invalid",
                               details={"screenshots": [f"Use one of {SCREENSHOT_POLICIES}."]})
    if not 0 <= retries <= 3:
        raise ApplicationError("Retries must be between 0 and 3.", code="invalid", details={"retries": ["0-3"]})
    chosen = list(suite.ordered_tests()) if suite is not None and not tests else list(tests or [])
    # Re-read: the caller's objects may be stale, and the frozen definition must be the current one.
    current = Test.objects.in_bulk([test.pk for test in chosen])
    selected = [current[test.pk] for test in chosen if test.pk in current]
    foreign = [test for test in selected if test.project_id != project.pk]
    if foreign:
        raise ApplicationError("Some tests are not in this project.", code="invalid",
                               details={"tests": [f"Not in this project: {test.pk}" for test in foreign]})
    runnable = [test for test in selected if test.status not in (TestStatus.ARCHIVED, TestStatus.REJECTED)]
    if not runnable:
        raise ApplicationError("There is no runnable test (archived and rejected tests are skipped).",
                               code="nothing_to_run")
    environment_row = resolve_environment(project, environment or (suite.default_environment if suite else ""))
    devices = _clean_devices(devices or (suite.default_devices if suite else None))
    if len(runnable) * len(devices) > MAX_RESULTS_PER_RUN:
        raise ApplicationError(f"A run holds at most {MAX_RESULTS_PER_RUN} test × device results.",
                               code="run_too_large")
    run = Run.objects.create(
        project=project, number=next_run_number(project), kind=RunKind.BROWSER, environment=environment_row,
        target_url=environment_row.url if environment_row else project.base_url, suite=suite,
        schedule=schedule, devices=devices, trigger=trigger, retries=retries, screenshots=screenshots,
        started_by=actor if getattr(actor, "is_authenticated", False) else None,
        started_by_label=label if label is not None else started_by_label(actor),
        metadata=metadata or {},
    )
    results = TestResult.objects.bulk_create([
        TestResult(run=run, test=test, test_version=test.version, definition=test.definition, name=test.name,
                   device=device, position=position)
        for position, test in enumerate(runnable) for device in devices
    ])
    run.total = len(results)
    run.save(update_fields=["total", "updated_at"])
    audit_record(actor=actor, action="run.created", target=run,
                 changes={"trigger": trigger, "tests": len(runnable), "devices": devices,
                          "environment": environment_row.name if environment_row else ""})
    result_ids = [result.pk for result in results]
    transaction.on_commit(lambda: _enqueue_results(result_ids))
    live.publish(run.pk, "run.queued", run_summary(run), feed=True)  # sent on commit
    return run


def run_summary(run: Run) -> dict:
    """The compact state of a run, as sent on the feed and in progress deltas."""
    return {
        "id": str(run.pk), "number": run.number, "project": str(run.project_id), "kind": run.kind,
        "status": run.status, "total": run.total, "passed": run.passed, "failed": run.failed,
        "errored": run.errored, "skipped": run.skipped, "cancelled": run.cancelled,
        "completed": run.completed, "devices": run.devices,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_ms": run.duration_ms, "error_message": run.error_message,
    }


@transaction.atomic
def run_cancel(*, run: Run, actor) -> Run:
    """Stop a run: queued results are cancelled now; running ones stop at their next step
    (the worker sees `cancel_requested_at`, closes its browser and marks the result)."""
    run = Run.objects.select_for_update().get(pk=run.pk)
    if run.is_finished:
        raise ApplicationError(f"The run already finished ({run.status}).", code="run_finished", status_code=409)
    run.cancel_requested_at = timezone.now()
    run.save(update_fields=["cancel_requested_at", "updated_at"])
    now = timezone.now()
    run.results.filter(status=ResultStatus.QUEUED).update(
        status=ResultStatus.CANCELLED, finished_at=now, error_message="Cancelled before it started.")
    audit_record(actor=actor, action="run.cancelled", target=run)
    transaction.on_commit(lambda: _cancel_commands(run))
    return run_refresh(run.pk)


def _cancel_commands(run: Run) -> None:
    if run.kind == RunKind.COMMAND:
        from apps.test_runs.runners.command import signal_cancel

        signal_cancel(run)


@transaction.atomic
def run_rerun_failed(*, run: Run, actor, trigger: str = RunTrigger.MANUAL) -> Run:
    """A new run of the tests that failed, errored or were cancelled, on the devices they did so."""
    if run.kind != RunKind.BROWSER:
        raise ApplicationError("Only browser runs can be re-run from Argus.", code="not_rerunnable")
    if not run.is_finished:
        raise ApplicationError("Wait for the run to finish (or cancel it) first.", code="run_active",
                               status_code=409)
    failing = list(run.results.filter(
        status__in=[ResultStatus.FAILED, ResultStatus.ERROR, ResultStatus.CANCELLED], test__isnull=False,
    ).select_related("test"))
    if not failing:
        raise ApplicationError("Nothing failed in this run.", code="nothing_to_run")
    rerun = Run.objects.create(
        project=run.project, number=next_run_number(run.project), kind=RunKind.BROWSER,
        environment=run.environment, target_url=run.target_url, suite=run.suite,
        devices=sorted({result.device for result in failing}), trigger=trigger, retries=run.retries,
        screenshots=run.screenshots, started_by=actor if getattr(actor, "is_authenticated", False) else None,
        started_by_label=started_by_label(actor), metadata={"rerun_of": str(run.pk), "rerun_of_number": run.number},
    )
    results = TestResult.objects.bulk_create([
        TestResult(run=rerun, test=result.test, test_version=result.test.version,
                   definition=result.test.definition, name=result.test.name, device=result.device,
                   position=result.position)
        for result in failing
    ])
    rerun.total = len(results)
    rerun.save(update_fields=["total", "updated_at"])
    audit_record(actor=actor, action="run.rerun", target=rerun, changes={"rerun_of": run.number})
    result_ids = [result.pk for result in results]
    transaction.on_commit(lambda: _enqueue_results(result_ids))
    live.publish(rerun.pk, "run.queued", run_summary(rerun), feed=True)  # sent on commit
    return rerun


def _derive_status(run: Run) -> str:
    if run.cancel_requested_at is not None:
        return RunStatus.CANCELLED
    if run.failed:
        return RunStatus.FAILED
    if run.errored or run.error_message:
        return RunStatus.ERROR
    return RunStatus.PASSED


def run_refresh(run_id) -> Run:
    """Recount a run's results and move it forward: running once a result starts, finished when
    every result is. Idempotent, and safe from many workers at once (row lock)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        counts = run.results.aggregate(
            total=Count("pk"),
            passed=Count("pk", filter=Q(status=ResultStatus.PASSED)),
            failed=Count("pk", filter=Q(status=ResultStatus.FAILED)),
            errored=Count("pk", filter=Q(status=ResultStatus.ERROR)),
            skipped=Count("pk", filter=Q(status=ResultStatus.SKIPPED)),
            cancelled=Count("pk", filter=Q(status=ResultStatus.CANCELLED)),
            started=Count("pk", filter=~Q(status=ResultStatus.QUEUED)),
        )
        was_finished = run.is_finished
        for field in ("passed", "failed", "errored", "skipped", "cancelled"):
            setattr(run, field, counts[field])
        if run.kind != RunKind.COMMAND:
            run.total = counts["total"]
        now = timezone.now()
        if run.status == RunStatus.QUEUED and counts["started"]:
            run.status = RunStatus.RUNNING
            run.started_at = run.started_at or now
        all_done = run.completed >= run.total and run.kind != RunKind.COMMAND
        if not was_finished and all_done:
            run.status = _derive_status(run)
            run.started_at = run.started_at or now
            run.finished_at = now
            run.duration_ms = int((run.finished_at - run.started_at).total_seconds() * 1000)
        run.save()
        if not was_finished and run.is_finished:
            emit("run.finished", run_summary(run), source="test_runs", correlation_id=str(run.pk))
    finished_now = not was_finished and run.is_finished
    # live.publish sends on commit: a client that reloads on this event finds the database agreeing.
    live.publish(run.pk, "run.finished" if finished_now else "run.progress", run_summary(run), feed=True)
    if finished_now:
        transaction.on_commit(lambda: _after_run_finished(run))
    return run


def _after_run_finished(run: Run) -> None:
    if run.schedule_id:
        from apps.test_runs.models import Schedule

        Schedule.objects.filter(pk=run.schedule_id).update(last_run=run)


def run_finish_command(*, run: Run, status: str, exit_code: int | None, error_message: str = "") -> Run:
    """Command runs end when their process does (not when a result count is reached)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if run.is_finished:
            return run
        now = timezone.now()
        run.status = RunStatus.CANCELLED if run.cancel_requested_at else status
        run.exit_code = exit_code
        run.error_message = error_message
        run.started_at = run.started_at or now
        run.finished_at = now
        run.duration_ms = int((now - run.started_at).total_seconds() * 1000)
        run.save()
        emit("run.finished", run_summary(run), source="test_runs", correlation_id=str(run.pk))
    live.publish(run.pk, "run.finished", run_summary(run), feed=True)
    return run


def result_claim(result_id, *, task_id: str, worker: str) -> TestResult | None:
    """A worker takes a result. None when there is nothing to do (finished, cancelled, or the run
    was cancelled), so a redelivered task never runs a test twice."""
    with transaction.atomic():
        result = TestResult.objects.select_for_update().select_related("run").filter(pk=result_id).first()
        if result is None or result.is_finished:
            return None
        held = result.status == ResultStatus.RUNNING and result.heartbeat_at is not None
        if held and result.heartbeat_at > stale_results_cutoff():
            # Another worker holds it (e.g. the broker redelivered a message the reaper already re-queued).
            return None
        if result.run.cancel_requested_at is not None:
            result.status = ResultStatus.CANCELLED
            result.finished_at = timezone.now()
            result.error_message = "The run was cancelled."
            result.save()
            transaction.on_commit(lambda: run_refresh(result.run_id))
            return None
        now = timezone.now()
        result.status = ResultStatus.RUNNING
        result.started_at = now
        result.heartbeat_at = now
        result.celery_task_id = task_id
        result.worker = worker
        result.save()
    run_refresh(result.run_id)
    live.publish(result.run_id, "test.started", {"result": str(result.pk), "name": result.name,
                                                 "device": result.device, "attempt": result.attempt})
    return result


def result_heartbeat(result: TestResult) -> None:
    running = TestResult.objects.filter(pk=result.pk, status=ResultStatus.RUNNING)
    if result.celery_task_id:
        # Only while this claim holds it: a worker the reaper gave up on must not revive a re-queued result.
        running = running.filter(celery_task_id=result.celery_task_id)
    running.update(heartbeat_at=timezone.now())


def result_finish(result: TestResult, *, status: str, error_type: str = "", error_message: str = "") -> TestResult:
    """Record a result's outcome (once: a result already finished by the reaper or a cancel stays)."""
    assert status in FINISHED_RESULT_STATUSES, status
    now = timezone.now()
    with transaction.atomic():
        locked = TestResult.objects.select_for_update().get(pk=result.pk)
        # Finished already, or (for a worker's claim) re-queued by the reaper and maybe claimed by another.
        if locked.is_finished or (result.celery_task_id and locked.celery_task_id != result.celery_task_id):
            return locked
        locked.status = status
        locked.finished_at = now
        locked.duration_ms = int((now - (locked.started_at or now)).total_seconds() * 1000)
        locked.error_type = error_type[:100]
        locked.error_message = error_message
        locked.heartbeat_at = None
        locked.save()
        payload = {**result_summary(locked), "run": locked.run_id, "test": locked.test_id}
        for event_type in ("test.executed", "test.failed") if status == ResultStatus.FAILED else ("test.executed",):
            emit(event_type, payload, source="test_runs", correlation_id=str(locked.run_id))
    live.publish(locked.run_id, "test.finished", result_summary(locked))
    run_refresh(locked.run_id)
    return locked


def result_retry(result: TestResult) -> TestResult:
    """Put a failed attempt back in the queue for another attempt (the run's retry policy)."""
    TestResult.objects.filter(pk=result.pk).update(
        status=ResultStatus.QUEUED, attempt=F("attempt") + 1, heartbeat_at=None, started_at=None,
        error_type="", error_message="")
    result.refresh_from_db()
    live.publish(result.run_id, "test.retrying", result_summary(result))
    return result


def result_summary(result: TestResult) -> dict:
    return {"result": str(result.pk), "name": result.name, "device": result.device, "status": result.status,
            "attempt": result.attempt, "duration_ms": result.duration_ms, "error_type": result.error_type,
            "error_message": result.error_message}


def stale_results_cutoff():
    return timezone.now() - timezone.timedelta(seconds=settings.ARGUS_RESULT_STALE_SECONDS)
