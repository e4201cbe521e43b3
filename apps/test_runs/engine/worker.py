"""Runs one result (a test on a device) in a fresh Chromium: the body of the `test_runs.execute_result`
Celery task, which calls it inside the tenant's schema.

    claim → fresh browser for the device → start URL → each step, traced → outcome (or a retry)

A failed expectation makes the result `failed`; anything else that went wrong (unreachable target,
unknown variable, browser crash, time limit) makes it `error` with a sentence saying why. After the
first step that does not pass, the remaining steps are recorded as skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection

from apps.generated_tests.dsl import Masker, definition_errors, describe_step
from apps.healing import runtime as healing
from apps.projects.models import EnvironmentVariable
from apps.test_runs import services
from apps.test_runs.devices import DEFAULT_DEVICE, get_device
from apps.test_runs.engine.driver import BrowserStartError, browser_pool
from apps.test_runs.engine.interpreter import READ_ONLY_ACTIONS, Cancelled, Interpreter, StepError, StepProblem
from apps.test_runs.engine.monitor import ResultMonitor
from apps.test_runs.engine.recorder import TraceRecorder
from apps.test_runs.models import ResultStatus, Run, StepStatus, TestResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    status: str
    error_type: str = ""
    error_message: str = ""


PASSED = Verdict(ResultStatus.PASSED)
CANCELLED = Verdict(ResultStatus.CANCELLED, "cancelled")


def execute_result_in_browser(result_id, *, task_id: str, worker: str) -> None:
    result = services.result_claim(result_id, task_id=task_id, worker=worker)
    if result is None:
        return  # finished, cancelled, or held by another worker
    run = result.run
    env, secrets = environment_variables(run)
    masker = Masker(secrets)
    plan = healing_plan(result)
    monitor = ResultMonitor(result=result, schema_name=connection.schema_name).start()
    recorder = TraceRecorder(result=result, masker=masker, screenshots=run.screenshots,
                             schema_name=connection.schema_name).start()
    try:
        verdict = run_in_browser(result, run, env=env, recorder=recorder, monitor=monitor, healing_plan=plan)
    except SoftTimeLimitExceeded:
        verdict = time_limit_verdict()
    except Exception:
        logger.exception("result %s crashed the engine", result.pk)
        verdict = Verdict(ResultStatus.ERROR, "internal", "Argus failed while running this test; the error is logged.")
    finally:
        recorder.close()
        monitor.stop()
    conclude(result, run, verdict, masker=masker, monitor=monitor)
    if plan is not None:
        record_heals(result)


def healing_plan(result: TestResult) -> healing.HealingPlan | None:
    """The result's self-healing plan (baselines and patterns, read once); a run without one still runs."""
    try:
        return healing.plan_for(result)
    except Exception:
        logger.exception("the healing plan of result %s could not be loaded; healing is off for it", result.pk)
        return None


def record_heals(result: TestResult) -> None:
    """Heal rows (applied, queued for review, refused) for a finished result's healed steps."""
    from apps.healing.services import heals_record

    try:
        heals_record(result_id=result.pk)
    except Exception:
        logger.exception("the heals of result %s could not be recorded", result.pk)


def environment_variables(run: Run) -> tuple[dict[str, str], list[str]]:
    """The run environment's variables by name, and the values to mask."""
    if run.environment_id is None:
        return {}, []
    rows = list(EnvironmentVariable.objects.filter(environment_id=run.environment_id).only("name", "value",
                                                                                           "is_secret"))
    return {row.name: row.value for row in rows}, [row.value for row in rows if row.is_secret]


def time_limit_verdict() -> Verdict:
    return Verdict(ResultStatus.ERROR, "time_limit",
                   f"The test exceeded the {settings.ARGUS_TEST_TIME_LIMIT} s limit and was stopped.")


def run_in_browser(result: TestResult, run: Run, *, env: Mapping[str, str], recorder: TraceRecorder,
                   monitor: ResultMonitor, healing_plan: healing.HealingPlan | None = None) -> Verdict:
    definition = result.definition or {}
    problems = definition_errors(definition)
    if problems:
        where, messages = next(iter(problems.items()))
        return Verdict(ResultStatus.ERROR, "invalid_definition", f"The test definition is invalid ({where}): "
                                                                 f"{messages[0]}")
    steps = list(enumerate(definition["steps"]))
    pool = browser_pool()
    try:
        browser = pool.acquire(get_device(result.device or DEFAULT_DEVICE))
    except BrowserStartError as exc:
        recorder.steps_skipped(steps, "Not run: the browser did not start.")
        return Verdict(ResultStatus.ERROR, "browser_error", str(exc))
    logger.info("result %s attempt %s (%s) runs in browser %s", result.pk, result.attempt, result.device,
                browser.user_data_dir or "on the Selenium Grid")
    try:
        interpreter = Interpreter(browser.driver, base_url=run.target_url or run.project.base_url, env=env,
                                  should_stop=monitor.cancelled.is_set, healing=healing_plan)
        return run_steps(interpreter, definition, recorder)
    finally:
        pool.release(browser)


def run_steps(interpreter: Interpreter, definition: Mapping[str, Any], recorder: TraceRecorder) -> Verdict:
    """Open the start URL, then run and trace each step; stops at the first step that does not pass."""
    steps = list(enumerate(definition["steps"]))
    try:
        interpreter.check_stop()
        interpreter.open(interpreter.render(definition.get("start_url") or ""))
    except StepProblem as problem:
        recorder.steps_skipped(steps, f"Not run: {problem.message}")
        return Verdict(problem.status, problem.error_type, problem.message)
    except Cancelled:
        recorder.steps_skipped(steps, "Not run: the run was cancelled.")
        return CANCELLED
    except SoftTimeLimitExceeded:
        recorder.steps_skipped(steps, "Not run: the time limit was reached.")
        return time_limit_verdict()
    for position, (index, step) in enumerate(steps):
        trace = recorder.step_started(index, step)
        try:
            outcome = interpreter.execute(step, index=index)
        except Cancelled:
            recorder.step_finished(trace, status=StepStatus.SKIPPED, error="Stopped: the run was cancelled.")
            recorder.steps_skipped(steps[position + 1:], "Not run: the run was cancelled.")
            return CANCELLED
        except (StepProblem, SoftTimeLimitExceeded) as exc:
            problem = exc if isinstance(exc, StepProblem) else StepError(time_limit_verdict().error_message,
                                                                          error_type="time_limit")
            timed_out = isinstance(exc, SoftTimeLimitExceeded)
            if step.get("optional") and not timed_out:
                evidence = interpreter.collect(screenshot=recorder.wants_screenshot(problem=False, outcome=None))
                recorder.step_finished(trace, status=StepStatus.SKIPPED, error=f"Optional step: {problem.message}",
                                       evidence=evidence, heal=problem.heal)
                continue
            evidence = None if timed_out else interpreter.collect(screenshot=True, dom=True)
            recorder.step_finished(trace, status=problem.status, error=problem.message, evidence=evidence,
                                   heal=problem.heal)
            recorder.steps_skipped(steps[position + 1:], f"Not run: step {index + 1} {problem.status}.")
            return Verdict(problem.status, problem.error_type,
                           f"Step {index + 1} ({describe_step(step)}): {problem.message}")
        evidence = interpreter.collect(screenshot=recorder.wants_screenshot(problem=False, outcome=outcome),
                                       read_only=step["action"] in READ_ONLY_ACTIONS)
        recorder.step_finished(trace, status=StepStatus.PASSED, outcome=outcome, evidence=evidence, heal=outcome.heal)
    return PASSED


def conclude(result: TestResult, run: Run, verdict: Verdict, *, masker: Masker, monitor: ResultMonitor) -> None:
    """Record the outcome, or queue another attempt when the run's retry policy allows one."""
    if verdict.status == ResultStatus.CANCELLED:
        who = masker.text(monitor.cancelled_by)
        services.result_finish(result, status=ResultStatus.CANCELLED, error_type="cancelled",
                               error_message=f"Cancelled by {who}." if who else "The run was cancelled.")
        return
    retry = (verdict.status in (ResultStatus.FAILED, ResultStatus.ERROR) and result.attempt < run.retries
             and not monitor.cancelled.is_set())
    if retry:
        from apps.test_runs.tasks import execute_result  # tasks import this module lazily

        services.result_retry(result)
        execute_result.delay(str(result.pk))
        return
    services.result_finish(result, status=verdict.status, error_type=verdict.error_type,
                           error_message=masker.text(verdict.error_message))
