"""The state of a run (and of the run feed) as plain JSON-ready dicts: what a live socket sends on
connect, what the run page renders without JavaScript, and the shapes of the live deltas.

Each builder runs a fixed number of queries whatever the number of results, steps or log lines.
Call them inside the tenant's schema.
"""

from __future__ import annotations

from typing import Any

from apps.healing.runtime import heal_summary
from apps.test_runs.models import Run, RunLogLine, StepResult, TestResult
from apps.test_runs.services import result_summary, run_summary

LOG_LINES_IN_SNAPSHOT = 500
RUNS_IN_FEED_SNAPSHOT = 20

STEP_FIELDS = ("id", "result_id", "attempt", "index", "action", "description", "status", "started_at",
               "duration_ms", "page_url", "error", "screenshot_id", "resolved_locator", "healing")


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def step_state(step: StepResult) -> dict[str, Any]:
    """One trace step; also the data of `step.started` / `step.finished` deltas."""
    return {
        "id": str(step.pk), "result": str(step.result_id), "attempt": step.attempt, "index": step.index,
        "action": step.action, "description": step.description, "status": step.status,
        "started_at": _iso(step.started_at), "duration_ms": step.duration_ms, "page_url": step.page_url,
        "error": step.error, "screenshot": str(step.screenshot_id) if step.screenshot_id else None,
        "resolved_locator": step.resolved_locator,
        # Self-healing of the step's locators (old → new, confidence), or null.
        "heal": heal_summary(step.healing),
    }


def result_state(result: TestResult, steps: list[StepResult]) -> dict[str, Any]:
    """A result with its steps: `services.result_summary` (the data of `test.*` deltas) and more."""
    return {
        **result_summary(result), "test": str(result.test_id) if result.test_id else None,
        "test_version": result.test_version, "position": result.position,
        "started_at": _iso(result.started_at), "finished_at": _iso(result.finished_at),
        "steps": [step_state(step) for step in steps],
    }


def log_line_state(line: RunLogLine) -> dict[str, Any]:
    """One log line; also the data of `log` deltas."""
    return {"seq": line.seq, "stream": line.stream, "text": line.text}


def run_state(run: Run) -> dict[str, Any]:
    """`services.run_summary` (the data of `run.*` deltas) and what does not change while it runs."""
    return {
        **run_summary(run), "trigger": run.trigger, "target_url": run.target_url, "browser": run.browser,
        "started_by": run.started_by_label, "created_at": _iso(run.created_at),
    }


def run_snapshot(run: Run) -> dict[str, Any]:
    """The run, its results (each with its steps, every attempt) and the last log lines."""
    results = list(TestResult.objects.filter(run=run).defer("definition", "output"))
    steps_by_result: dict[Any, list[StepResult]] = {result.pk: [] for result in results}
    steps = StepResult.objects.filter(result__run=run).only(*STEP_FIELDS).order_by("attempt", "index")
    for step in steps:
        steps_by_result[step.result_id].append(step)
    # One line more than shown tells whether older lines were left out.
    recent = list(RunLogLine.objects.filter(run=run).only("seq", "stream", "text")
                  .order_by("-seq")[:LOG_LINES_IN_SNAPSHOT + 1])
    log = [log_line_state(line) for line in reversed(recent[:LOG_LINES_IN_SNAPSHOT])]
    return {
        "run": run_state(run),
        "results": [result_state(result, steps_by_result[result.pk]) for result in results],
        "log": log,
        "log_truncated": len(recent) > LOG_LINES_IN_SNAPSHOT,
    }


def feed_snapshot() -> dict[str, Any]:
    """The organization's latest runs, newest first."""
    return {"runs": [run_summary(run) for run in Run.objects.defer("command", "metadata")
                     .order_by("-created_at")[:RUNS_IN_FEED_SNAPSHOT]]}
