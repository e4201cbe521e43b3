"""The trace of one result: a StepResult row per step (created when the step starts, updated when it
ends), screenshots and DOM snapshots as Artifacts, and the `step.started` / `step.finished` deltas.

The writes happen on a writer thread with its own database connection in the tenant's schema, so
the browser never waits for the database or the file storage; `close()` drains it, and the worker
calls it before it records the result's outcome. Everything written passes through the Masker:
no secret value reaches a row, a file name, a DOM snapshot or a live message.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.generated_tests.dsl import Masker, describe_step
from apps.healing.runtime import HealReport
from apps.test_runs import live
from apps.test_runs.engine.interpreter import Evidence, StepOutcome
from apps.test_runs.models import Artifact, ArtifactKind, StepResult, StepStatus, TestResult
from apps.test_runs.snapshots import step_state

logger = logging.getLogger(__name__)

SCREENSHOT_EVERY_STEP = "every_step"
# Everything a (re-)execution of a step sets: a result the reaper re-queued runs its attempt again
# and overwrites the steps the lost worker had recorded.
_STEP_FIELDS = ["action", "description", "target", "resolved_locator", "status", "started_at", "duration_ms",
                "page_url", "error", "screenshot", "console_errors", "failed_requests", "extracted",
                "fingerprint", "healing", "updated_at"]
_WRITER_JOIN_SECONDS = 120


@dataclass
class StepTrace:
    """A step in progress: its row (written by the writer thread) and when it started."""

    row: StepResult
    started: float


class TraceRecorder:
    def __init__(self, *, result: TestResult, masker: Masker, screenshots: str, schema_name: str) -> None:
        self.result_id = result.pk
        self.run_id = result.run_id
        self.attempt = result.attempt
        self.rerun = result.requeues > 0
        self.masker = masker
        self.every_step = screenshots == SCREENSHOT_EVERY_STEP
        self._schema_name = schema_name
        self._last_screenshot: Artifact | None = None  # written and read by the writer thread only
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name=f"argus-trace-{result.pk}", daemon=True)

    # -- called by the worker (main thread) ----------------------------------------------------------

    def start(self) -> TraceRecorder:
        self._thread.start()
        return self

    def wants_screenshot(self, *, problem: bool, outcome: StepOutcome | None) -> bool:
        return self.every_step or problem or bool(outcome and outcome.screenshot_name)

    def step_started(self, index: int, step: Mapping[str, Any]) -> StepTrace:
        row = StepResult(result_id=self.result_id, attempt=self.attempt, index=index, action=step["action"],
                         description=self.masker.text(describe_step(step))[:500],
                         target=self.masker.json(step.get("target") or {}), status=StepStatus.RUNNING,
                         started_at=timezone.now())
        self._queue.put(lambda: self._create([row], event="step.started"))
        return StepTrace(row=row, started=time.monotonic())

    def step_finished(self, trace: StepTrace, *, status: str, outcome: StepOutcome | None = None,
                      error: str = "", evidence: Evidence | None = None, heal: HealReport | None = None) -> None:
        evidence, outcome = evidence or Evidence(), outcome or StepOutcome()
        # The row belongs to the writer thread from here on: hand it the values, don't set them.
        fields = {
            "status": status,
            "duration_ms": int((time.monotonic() - trace.started) * 1000),
            "error": self.masker.text(error),
            "page_url": self.masker.text(evidence.page_url)[:2000],
            "console_errors": self.masker.json(evidence.console_errors),
            "failed_requests": self.masker.json(evidence.failed_requests),
            "resolved_locator": self.masker.text(outcome.resolved_locator)[:1000],
            "fingerprint": self.masker.json(outcome.fingerprint) if outcome.fingerprint else None,
            "extracted": self.masker.json(outcome.extracted) if outcome.extracted else {},
            "healing": self.masker.json(heal.record) if heal is not None else None,
        }
        name = self.masker.text(f"step-{trace.row.index + 1:03d}-{outcome.screenshot_name or trace.row.action}")
        heal_screenshot = heal.screenshot if heal is not None else None
        self._queue.put(lambda: self._finish(trace.row, fields, evidence, name, heal_screenshot))

    def steps_skipped(self, indexed_steps: Iterable[tuple[int, Mapping[str, Any]]], reason: str) -> None:
        now = timezone.now()
        rows = [StepResult(result_id=self.result_id, attempt=self.attempt, index=index, action=step["action"],
                           description=self.masker.text(describe_step(step))[:500],
                           target=self.masker.json(step.get("target") or {}), status=StepStatus.SKIPPED,
                           started_at=now, error=self.masker.text(reason))
                for index, step in indexed_steps]
        if rows:
            self._queue.put(lambda: self._create(rows, event="step.finished"))

    def close(self) -> None:
        """Wait until everything queued is written."""
        self._queue.put(None)
        self._thread.join(_WRITER_JOIN_SECONDS)
        if self._thread.is_alive():
            logger.error("the trace of result %s was not written within %s s", self.result_id, _WRITER_JOIN_SECONDS)

    # -- the writer thread ---------------------------------------------------------------------------

    def _write(self) -> None:
        try:
            with schema_context(self._schema_name):
                while (job := self._queue.get()) is not None:
                    try:
                        job()
                    except Exception:  # noqa: BLE001 - one lost trace row must not stop the others
                        logger.exception("recording the trace of result %s failed", self.result_id)
        finally:
            connection.close()

    def _create(self, rows: list[StepResult], *, event: str) -> None:
        if self.rerun:
            # The rows a lost worker left for this attempt are updated in place, keeping their ids.
            existing = dict(StepResult.objects.filter(result_id=self.result_id, attempt=self.attempt,
                                                      index__in=[row.index for row in rows]).values_list("index", "pk"))
            for row in rows:
                row.pk = existing.get(row.index, row.pk)
        StepResult.objects.bulk_create(rows, update_conflicts=True, unique_fields=["result", "attempt", "index"],
                                       update_fields=_STEP_FIELDS)
        for row in rows:
            live.publish(self.run_id, event, step_state(row))

    def _finish(self, row: StepResult, fields: dict[str, Any], evidence: Evidence, name: str,
                heal_screenshot: bytes | None = None) -> None:
        for field, value in fields.items():
            setattr(row, field, value)
        if heal_screenshot and row.healing:
            # The healed element outlined, captured before the step acted on it.
            is_jpeg = heal_screenshot[:2] == b"\xff\xd8"
            artifact = self._artifact(ArtifactKind.SCREENSHOT, f"{name}-healed.{'jpg' if is_jpeg else 'png'}",
                                      heal_screenshot, "image/jpeg" if is_jpeg else "image/png")
            row.healing = {**row.healing, "screenshot": str(artifact.pk)}
        if evidence.screenshot:
            is_jpeg = evidence.screenshot[:2] == b"\xff\xd8"
            row.screenshot = self._last_screenshot = self._artifact(
                ArtifactKind.SCREENSHOT, f"{name}.{'jpg' if is_jpeg else 'png'}", evidence.screenshot,
                "image/jpeg" if is_jpeg else "image/png")
        elif evidence.screenshot_unchanged:
            row.screenshot = self._last_screenshot
        if evidence.dom:
            self._artifact(ArtifactKind.DOM_SNAPSHOT, f"{name}-dom.html", self.masker.text(evidence.dom).encode(),
                           "text/html; charset=utf-8")
        row.updated_at = timezone.now()
        StepResult.objects.filter(pk=row.pk).update(**{field: getattr(row, field) for field in _STEP_FIELDS})
        live.publish(self.run_id, "step.finished", step_state(row))

    def _artifact(self, kind: str, name: str, content: bytes, content_type: str) -> Artifact:
        artifact = Artifact(run_id=self.run_id, result_id=self.result_id, kind=kind, name=name,
                            content_type=content_type, size=len(content))
        artifact.file.save(name, ContentFile(content), save=True)
        return artifact
