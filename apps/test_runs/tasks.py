"""Celery tasks of the execution engine. Thin: each hands over to the module that does the work.

Tenant-aware through tenant-schemas-celery: a task enqueued inside a tenant runs in that schema.
The two beat tasks run on the public schema and walk the tenants themselves.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings


@shared_task(name="test_runs.execute_result", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=settings.ARGUS_TEST_TIME_LIMIT, time_limit=settings.ARGUS_TEST_TIME_LIMIT + 30,
             bind=True)
def execute_result(self, result_id: str) -> None:
    """Run one test on one device in a fresh Chromium."""
    from apps.test_runs.engine.worker import execute_result_in_browser

    execute_result_in_browser(result_id, task_id=self.request.id or "", worker=self.request.hostname or "")


@shared_task(name="test_runs.execute_command", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=settings.ARGUS_COMMAND_TIME_LIMIT, time_limit=settings.ARGUS_COMMAND_TIME_LIMIT + 30,
             bind=True)
def execute_command(self, run_id: str) -> None:
    """Run a command run's process (any test framework) and collect its JUnit report."""
    from apps.test_runs.runners.command import execute_command_run

    execute_command_run(run_id, task_id=self.request.id or "", worker=self.request.hostname or "")


@shared_task(name="test_runs.dispatch_due_schedules")
def dispatch_due_schedules() -> int:
    """Beat tick: start every enabled schedule whose next run is due, in every tenant."""
    from apps.test_runs.schedules import dispatch_due_schedules_all_tenants

    return dispatch_due_schedules_all_tenants()


@shared_task(name="test_runs.reap_stale_results")
def reap_stale_results() -> int:
    """Beat tick: results whose worker died are re-queued once, then failed with a reason."""
    from apps.test_runs.engine.reaper import reap_all_tenants

    return reap_all_tenants()
