"""Run life cycle: fan-out per test × device, counts, status derivation, cancel, rerun failed."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.core.errors import ApplicationError
from apps.generated_tests import services as test_services
from apps.projects.services import project_create
from apps.test_runs.models import ResultStatus, RunStatus, TestResult
from apps.test_runs.services import (
    result_claim,
    result_finish,
    run_cancel,
    run_create,
    run_refresh,
    run_rerun_failed,
)

STEPS = {"version": 1, "start_url": "/", "steps": [{"action": "goto", "url": "/"}]}


@pytest.fixture
def setup(alpha):
    with tenant_context(alpha.organization):
        project = project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example/",
                                 environments={"staging": "https://staging.shop.example/"})
        tests = [test_services.test_create(project=project, actor=alpha.developer, name=name, definition=STEPS)
                 for name in ("One", "Two")]
        suite = test_services.suite_create(project=project, actor=alpha.developer, name="Smoke",
                                           tests=[test.pk for test in tests], default_environment="staging")
        yield project, tests, suite


def _finish(result, status):
    claimed = result_claim(result.pk, task_id="t", worker="w")
    return result_finish(claimed, status=status, error_message="" if status == "passed" else "boom")


def test_a_run_fans_out_per_test_and_device(alpha, setup):
    project, tests, suite = setup
    with tenant_context(alpha.organization):
        run = run_create(project=project, actor=alpha.developer, suite=suite, devices=["desktop", "iphone-15"])
        assert run.number == 1 and run.total == 4 and run.status == RunStatus.QUEUED
        assert run.target_url == "https://staging.shop.example/"
        assert run.started_by_label == alpha.developer.email
        pairs = sorted(run.results.values_list("name", "device"))
        assert pairs == [("One", "desktop"), ("One", "iphone-15"), ("Two", "desktop"), ("Two", "iphone-15")]
        assert run_create(project=project, actor=alpha.developer, tests=[tests[0]]).number == 2


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"devices": ["toaster"]}, "invalid"),
    ({"environment": "production"}, "invalid"),
    ({"retries": 9}, "invalid"),
    ({"screenshots": "never"}, "invalid"),
])
def test_bad_run_requests_create_nothing(alpha, setup, kwargs, code):
    project, _tests, suite = setup
    with tenant_context(alpha.organization):
        with pytest.raises(ApplicationError) as caught:
            run_create(project=project, actor=alpha.developer, suite=suite, **kwargs)
        assert caught.value.code == code
        assert not project.runs.exists()


def test_a_run_needs_something_runnable(alpha, setup):
    project, tests, _suite = setup
    with tenant_context(alpha.organization):
        with pytest.raises(ApplicationError, match="Choose a suite"):
            run_create(project=project, actor=alpha.developer)
        for test in tests:
            test_services.test_update(test=test, actor=alpha.developer, status="archived")
        with pytest.raises(ApplicationError) as caught:
            run_create(project=project, actor=alpha.developer, tests=tests)
        assert caught.value.code == "nothing_to_run"


def test_counts_and_final_status_follow_the_results(alpha, setup):
    project, _tests, suite = setup
    with tenant_context(alpha.organization):
        run = run_create(project=project, actor=alpha.developer, suite=suite)
        first, second = run.results.order_by("position")
        _finish(first, ResultStatus.PASSED)
        run.refresh_from_db()
        assert run.status == RunStatus.RUNNING and run.passed == 1 and not run.is_finished
        _finish(second, ResultStatus.FAILED)
        run.refresh_from_db()
        assert run.status == RunStatus.FAILED and (run.passed, run.failed) == (1, 1)
        assert run.finished_at is not None and run.duration_ms is not None


def test_a_finished_result_is_never_claimed_or_finished_again(alpha, setup):
    project, _tests, suite = setup
    with tenant_context(alpha.organization):
        run = run_create(project=project, actor=alpha.developer, suite=suite)
        result = run.results.first()
        _finish(result, ResultStatus.PASSED)
        assert result_claim(result.pk, task_id="again", worker="w") is None
        again = result_finish(result, status=ResultStatus.FAILED)
        assert again.status == ResultStatus.PASSED


def test_a_running_result_with_a_fresh_heartbeat_belongs_to_its_worker(alpha, setup):
    project, _tests, suite = setup
    with tenant_context(alpha.organization):
        run = run_create(project=project, actor=alpha.developer, suite=suite)
        result = run.results.first()
        assert result_claim(result.pk, task_id="first", worker="w1") is not None
        assert result_claim(result.pk, task_id="redelivered", worker="w2") is None
        TestResult.objects.filter(pk=result.pk).update(heartbeat_at=timezone.now() - timezone.timedelta(hours=1))
        assert result_claim(result.pk, task_id="reaped", worker="w3").worker == "w3"


def test_cancel_stops_queued_results_and_is_refused_once_finished(alpha, setup):
    project, _tests, suite = setup
    with tenant_context(alpha.organization):
        run = run_create(project=project, actor=alpha.developer, suite=suite)
        first, second = run.results.order_by("position")
        result_claim(first.pk, task_id="t", worker="w")
        run = run_cancel(run=run, actor=alpha.developer)
        second.refresh_from_db()
        assert second.status == ResultStatus.CANCELLED
        assert run.status == RunStatus.RUNNING  # the running result stops at its next step
        result_finish(first, status=ResultStatus.CANCELLED)
        run.refresh_from_db()
        assert run.status == RunStatus.CANCELLED and run.cancelled == 2
        with pytest.raises(ApplicationError) as caught:
            run_cancel(run=run, actor=alpha.developer)
        assert caught.value.status_code == 409


def test_rerun_failed_takes_only_the_failures_on_their_devices(alpha, setup):
    project, _tests, suite = setup
    with tenant_context(alpha.organization):
        run = run_create(project=project, actor=alpha.developer, suite=suite, devices=["desktop", "pixel-8"])
        with pytest.raises(ApplicationError) as caught:
            run_rerun_failed(run=run, actor=alpha.developer)
        assert caught.value.code == "run_active"
        results = list(run.results.order_by("position", "device"))
        for result, status in zip(results, ["passed", "failed", "passed", "error"], strict=True):
            _finish(result, status)
        rerun = run_rerun_failed(run=run_refresh(run.pk), actor=alpha.developer)
        assert sorted(rerun.results.values_list("name", "device")) == [("One", "pixel-8"), ("Two", "pixel-8")]
        assert rerun.metadata["rerun_of_number"] == run.number
