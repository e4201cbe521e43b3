"""Reads for runs, results, trace steps, artifacts, logs and schedules, shaped so a page of any list
costs a fixed number of queries."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.test_runs.models import Artifact, Run, RunLogLine, Schedule, StepResult, TestResult

MAX_LOG_LINES_PER_READ = 5000


def run_list() -> QuerySet[Run]:
    return Run.objects.select_related("environment")


def result_list(*, run: Run | None = None) -> QuerySet[TestResult]:
    queryset = TestResult.objects.all()
    return queryset.filter(run=run) if run is not None else queryset


def step_list(*, result: TestResult) -> QuerySet[StepResult]:
    return StepResult.objects.filter(result=result).order_by("attempt", "index")


def artifact_list(*, run: Run | None = None) -> QuerySet[Artifact]:
    queryset = Artifact.objects.all()
    return queryset.filter(run=run) if run is not None else queryset


def log_lines_after(*, run: Run, after_seq: int, limit: int = MAX_LOG_LINES_PER_READ) -> list[RunLogLine]:
    """The run's log lines numbered above `after_seq`, oldest first, at most `limit` of them."""
    return list(RunLogLine.objects.filter(run=run, seq__gt=after_seq).order_by("seq")[:limit])


def schedule_list() -> QuerySet[Schedule]:
    return Schedule.objects.select_related("environment")
