"""Lost workers: the heartbeat lets the reaper tell a dead worker from a slow one; a lost result is
re-queued (and finished by another worker) until its re-queues run out, then errors with the reason.

The kill tests SIGKILL a real worker's whole process group mid-test, as when a machine dies.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.generated_tests.services import test_create
from apps.projects.services import project_create
from apps.test_runs.engine.reaper import WORKER_LOST_STEP_ERROR, reap_all_tenants, reap_stale_results
from apps.test_runs.models import ResultStatus, RunStatus, StepResult, StepStatus, TestResult
from apps.test_runs.services import result_claim, result_finish, result_heartbeat, run_cancel, run_create
from tests.runtime import stop_process
from tests.test_runs.test_engine import add_tests, css, serve_directory, wait_until_finished, worker_processes

STEPS = {"version": 1, "start_url": "/", "steps": [{"action": "goto", "url": "/"}]}
STALE_SECONDS = 2
SLOW_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Slow</title></head>
<body><h1>Slow page</h1><script src="slow.js"></script></body></html>
"""
# The element the test waits for shows up 5 s after the page loads: long enough to kill a worker mid-step.
SLOW_JS = """setTimeout(() => {
  const ready = document.createElement("p");
  ready.id = "ready";
  ready.textContent = "Ready at last";
  document.body.append(ready);
}, 5000);
"""
WAITS_FOR_SLOW_PAGE = {"version": 1, "start_url": "/slow.html", "steps": [
    {"action": "wait_for", "target": css("#ready"), "timeout_ms": 30_000},
    {"action": "assert_text", "target": css("#ready"), "text": "Ready at last"},
]}


@pytest.fixture
def alpha_org(session_orgs):
    return session_orgs["alpha"]


@pytest.fixture
def in_alpha(alpha_org, django_db_blocker):
    """`with in_alpha():` — committed database access in alpha's schema (workers see what it writes)."""

    @contextlib.contextmanager
    def enter() -> Iterator[None]:
        with django_db_blocker.unblock(), tenant_context(alpha_org.organization):
            yield
        connection.set_schema_to_public()

    return enter


@pytest.fixture(scope="module")
def slow_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slow")
    (folder / "slow.html").write_text(SLOW_HTML)
    (folder / "slow.js").write_text(SLOW_JS)
    process, base_url = serve_directory(folder)
    yield base_url
    stop_process(process)


def stale_result(org, *, requeues: int = 0, project=None) -> TestResult:
    """A result claimed by a worker that stopped heart-beating an hour ago, with a step in progress."""
    project = project or project_create(actor=org.admin, name="Reaped", base_url="https://app.example/")
    test = test_create(project=project, actor=org.developer, name=f"Home {time.monotonic_ns()}", definition=STEPS,
                       status="approved")
    run = run_create(project=project, actor=org.developer, tests=[test])
    result = result_claim(run.results.get().pk, task_id="lost-task", worker="lost@host")
    StepResult.objects.create(result=result, index=0, action="goto", status=StepStatus.RUNNING,
                              started_at=timezone.now())
    an_hour_ago = timezone.now() - timezone.timedelta(hours=1)
    TestResult.objects.filter(pk=result.pk).update(heartbeat_at=an_hour_ago, requeues=requeues)
    result.refresh_from_db()
    return result


# -- the reaper on its own -----------------------------------------------------------------------

def test_a_stale_result_is_requeued_with_its_lost_step_marked(alpha):
    with tenant_context(alpha.organization):
        result = stale_result(alpha)
        fresh = stale_result(alpha)
        TestResult.objects.filter(pk=fresh.pk).update(heartbeat_at=timezone.now())
        assert reap_stale_results() == 1
        result.refresh_from_db()
        assert (result.status, result.requeues, result.attempt) == (ResultStatus.QUEUED, 1, 0)
        assert (result.heartbeat_at, result.celery_task_id, result.worker) == (None, "", "")
        step = result.steps.get()
        assert (step.status, step.error) == (StepStatus.ERROR, WORKER_LOST_STEP_ERROR)
        fresh.refresh_from_db()
        assert fresh.status == ResultStatus.RUNNING
        assert reap_stale_results() == 0  # idempotent


def test_a_result_out_of_requeues_errors_with_the_reason(alpha):
    with tenant_context(alpha.organization), override_settings(ARGUS_RESULT_MAX_REQUEUES=1):
        result = stale_result(alpha, requeues=1)
        assert reap_stale_results() == 1
        result.refresh_from_db()
        assert (result.status, result.error_type) == (ResultStatus.ERROR, "worker_lost")
        assert result.error_message.startswith("The worker running this test stopped responding (last heartbeat ")
        assert result.error_message.endswith(" s ago); gave up after 1 re-queue(s).")
        assert result.run.status == RunStatus.ERROR


def test_a_stale_worker_cannot_finish_or_revive_a_requeued_result(alpha):
    with tenant_context(alpha.organization):
        lost = stale_result(alpha)
        reap_stale_results()
        result_heartbeat(lost)
        result_finish(lost, status=ResultStatus.PASSED)
        lost.refresh_from_db()
        assert (lost.status, lost.heartbeat_at) == (ResultStatus.QUEUED, None)
        again = result_claim(lost.pk, task_id="new-task", worker="new@host")
        result_finish(again, status=ResultStatus.PASSED)
        again.refresh_from_db()
        assert again.status == ResultStatus.PASSED


def test_queued_results_of_a_cancelled_run_are_cancelled(alpha):
    with tenant_context(alpha.organization):
        result = stale_result(alpha)
        run = result.run
        run_cancel(run=run, actor=alpha.admin)
        TestResult.objects.filter(pk=result.pk).update(status=ResultStatus.QUEUED)
        assert reap_stale_results() == 1
        result.refresh_from_db()
        assert result.status == ResultStatus.CANCELLED
        run.refresh_from_db()
        assert run.status == RunStatus.CANCELLED


def test_every_tenant_is_reaped(alpha, bravo):
    with tenant_context(alpha.organization):
        in_alpha_schema = stale_result(alpha)
    with tenant_context(bravo.organization):
        in_bravo_schema = stale_result(bravo)
    connection.set_schema_to_public()
    assert reap_all_tenants() == 2
    with tenant_context(alpha.organization):
        assert TestResult.objects.get(pk=in_alpha_schema.pk).status == ResultStatus.QUEUED
        assert not TestResult.objects.filter(pk=in_bravo_schema.pk).exists()
    with tenant_context(bravo.organization):
        assert TestResult.objects.get(pk=in_bravo_schema.pk).status == ResultStatus.QUEUED


def test_a_result_locked_by_another_transaction_is_skipped(alpha_org, in_alpha, committed_project):
    project = committed_project(alpha_org, name="Locking")
    holding, release = threading.Event(), threading.Event()
    with in_alpha():
        locked, free = stale_result(alpha_org, project=project), stale_result(alpha_org, project=project)

        def hold_lock() -> None:
            with schema_context(alpha_org.organization.schema_name), transaction.atomic():
                TestResult.objects.select_for_update().get(pk=locked.pk)
                holding.set()
                release.wait(10)
            connection.close()

        holder = threading.Thread(target=hold_lock)
        holder.start()
        try:
            assert holding.wait(10)
            assert reap_stale_results() == 1
            assert TestResult.objects.get(pk=free.pk).status == ResultStatus.QUEUED
            assert TestResult.objects.get(pk=locked.pk).status == ResultStatus.RUNNING
        finally:
            release.set()
            holder.join()
        assert reap_stale_results() == 1
        assert reap_stale_results() == 0


# -- real workers, killed mid-test -------------------------------------------------------------------

def wait_for_running_step(run, worker, index: int = 0) -> None:
    deadline = time.monotonic() + 60
    while not StepResult.objects.filter(result__run=run, index=index, status=StepStatus.RUNNING).exists():
        assert time.monotonic() < deadline, worker.stuck_report()
        time.sleep(0.1)


def wait_until_gone(worker) -> None:
    deadline = time.monotonic() + 10
    while worker_processes(worker):
        assert time.monotonic() < deadline, worker_processes(worker)
        time.sleep(0.1)


def reap_until_something_changes(seconds: float = 20) -> int:
    deadline = time.monotonic() + seconds
    while (reaped := reap_stale_results()) == 0:
        assert time.monotonic() < deadline, "the reaper never saw the lost result"
        time.sleep(0.5)
    return reaped


@override_settings(ARGUS_RESULT_STALE_SECONDS=STALE_SECONDS)
def test_a_killed_worker_s_test_is_requeued_and_finished_by_a_new_worker(alpha_org, in_alpha, committed_project,
                                                                          celery_worker, slow_site):
    project = committed_project(alpha_org, base_url=slow_site)
    with in_alpha():
        (test,) = add_tests(alpha_org, project, {"Slow page": WAITS_FOR_SLOW_PAGE})
        doomed = celery_worker(ARGUS_RESULT_STALE_SECONDS=str(STALE_SECONDS))
        run = run_create(project=project, actor=alpha_org.developer, tests=[test])
        wait_for_running_step(run, doomed)
        # While it runs, its heartbeat keeps the reaper away.
        time.sleep(STALE_SECONDS + 0.5)
        assert reap_stale_results() == 0
        doomed.kill()
        wait_until_gone(doomed)  # its browsers died with it
        assert reap_until_something_changes() == 1
        result = run.results.get()
        assert (result.status, result.requeues, result.attempt) == (ResultStatus.QUEUED, 1, 0)
        assert result.steps.get(index=0).error == WORKER_LOST_STEP_ERROR
        rescuer = celery_worker(ARGUS_RESULT_STALE_SECONDS=str(STALE_SECONDS))
        run = wait_until_finished(run.pk, rescuer)
        result = run.results.get()
        assert (run.status, result.status, result.requeues) == (RunStatus.PASSED, ResultStatus.PASSED, 1)
        assert result.worker != "" and "test1-" in result.worker
        assert list(result.steps.order_by("index").values_list("status", flat=True)) == ["passed", "passed"]


@override_settings(ARGUS_RESULT_STALE_SECONDS=STALE_SECONDS, ARGUS_RESULT_MAX_REQUEUES=0)
def test_when_requeues_run_out_the_result_errors_with_the_reason(alpha_org, in_alpha, committed_project,
                                                                  celery_worker, slow_site):
    project = committed_project(alpha_org, base_url=slow_site)
    with in_alpha():
        (test,) = add_tests(alpha_org, project, {"Slow page": WAITS_FOR_SLOW_PAGE})
        doomed = celery_worker(ARGUS_RESULT_STALE_SECONDS=str(STALE_SECONDS))
        run = run_create(project=project, actor=alpha_org.developer, tests=[test])
        wait_for_running_step(run, doomed)
        doomed.kill()
        assert reap_until_something_changes() == 1
        run.refresh_from_db()
        result = run.results.get()
        assert (run.status, result.status, result.error_type) == (RunStatus.ERROR, ResultStatus.ERROR, "worker_lost")
        assert "stopped responding (last heartbeat" in result.error_message
        assert result.error_message.endswith("gave up after 0 re-queue(s).")
        assert result.steps.get(index=0).status == StepStatus.ERROR
