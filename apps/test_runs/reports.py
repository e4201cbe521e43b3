"""Run reports to download and share: one self-contained HTML file, and a Markdown summary for a
pull-request comment. Both escape everything they show (test names, errors and output come from
the application under test and from users)."""

from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import timezone

from apps.test_runs.devices import DEVICES
from apps.test_runs.models import (
    Artifact,
    LogStream,
    ResultStatus,
    Run,
    RunKind,
    RunLogLine,
    StepResult,
    StepStatus,
    TestResult,
)

# Screenshots are inlined as data: URIs. Past this many bytes in total, only failure screenshots and
# each test's last screenshot are kept, and past it again the rest are left out (the report says so).
INLINE_SCREENSHOT_BYTES = 12 * 1024 * 1024
INLINE_IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}
LOG_TAIL_LINES = 200
OUTPUT_TAIL_CHARS = 4000
MARKDOWN_MAX_FAILURES = 50
MARKDOWN_CELL_CHARS = 300
FAILING_RESULT_STATUSES = (ResultStatus.FAILED, ResultStatus.ERROR)


def format_duration(ms: int | None, *, missing: str = "—") -> str:
    """850 -> "850 ms", 3240 -> "3.2 s", 64000 -> "1 min 04 s" (static/js/run-live.js formats the same way)."""
    if ms is None:
        return missing
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def device_label(slug: str) -> str:
    return DEVICES[slug].label if slug in DEVICES else slug


@dataclass
class ReportStep:
    step: StepResult
    duration: str
    image: str = ""  # a data: URI, or "" when not inlined


@dataclass
class ReportResult:
    result: TestResult
    duration: str
    device_label: str
    steps: list[ReportStep] = field(default_factory=list)
    output_tail: str = ""

    @property
    def failing(self) -> bool:
        return self.result.status in FAILING_RESULT_STATUSES


def _final_attempt_steps(run: Run, results: list[TestResult]) -> dict:
    attempts = {result.pk: result.attempt for result in results}
    by_result: dict = {result.pk: [] for result in results}
    steps = StepResult.objects.filter(result__run=run).select_related("screenshot").order_by("result_id", "index")
    for step in steps:
        if step.attempt == attempts.get(step.result_id):
            by_result[step.result_id].append(step)
    return by_result


def _data_uri(artifact: Artifact) -> str:
    content_type = (artifact.content_type or "").split(";")[0].strip().lower()
    if content_type not in INLINE_IMAGE_TYPES:
        content_type = mimetypes.guess_type(artifact.name or artifact.file.name)[0] or ""
    if content_type not in INLINE_IMAGE_TYPES:
        return ""
    try:
        with artifact.file.open("rb") as handle:
            data = handle.read()
    except (OSError, ValueError):
        return ""  # a file missing from storage is reported as "not included", not as a broken report
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def _choose_screenshots(steps_by_result: dict, results: list[TestResult]) -> tuple[set, str]:
    """The step ids whose screenshot is inlined, and a note when some were left out."""
    candidates = []  # (priority, step) - lower priority is kept first
    total = 0
    for result in results:
        shots = [step for step in steps_by_result[result.pk] if step.screenshot_id]
        for position, step in enumerate(shots):
            failing = step.status in (StepStatus.FAILED, StepStatus.ERROR)
            last = position == len(shots) - 1
            candidates.append((0 if failing else 1 if last else 2, step))
            total += step.screenshot.size
    if total <= INLINE_SCREENSHOT_BYTES:
        return {step.pk for _, step in candidates}, ""
    kept, used = set(), 0
    for priority, step in sorted(candidates, key=lambda item: item[0]):
        if priority == 2 or used + step.screenshot.size > INLINE_SCREENSHOT_BYTES:
            continue
        kept.add(step.pk)
        used += step.screenshot.size
    note = (f"This run has {len(candidates)} screenshots ({total / 1_048_576:.1f} MB). To keep this file small it "
            f"includes only failure screenshots and the last screenshot of each test: {len(kept)} of "
            f"{len(candidates)} are shown. The others are in Argus.")
    return kept, note


def report_context(run: Run) -> dict:
    """Everything the HTML report shows, read in a constant number of queries (plus one file read
    per inlined screenshot)."""
    run = Run.objects.select_related("project", "environment", "suite").get(pk=run.pk)
    results = list(run.results.order_by("position", "device", "created_at"))
    steps_by_result = _final_attempt_steps(run, results)
    inline, screenshot_note = _choose_screenshots(steps_by_result, results)
    report_results = []
    for result in results:
        item = ReportResult(result=result, duration=format_duration(result.duration_ms),
                            device_label=device_label(result.device) if result.device else "",
                            output_tail=result.output[-OUTPUT_TAIL_CHARS:])
        for step in steps_by_result[result.pk]:
            image = _data_uri(step.screenshot) if step.pk in inline else ""
            item.steps.append(ReportStep(step=step, duration=format_duration(step.duration_ms), image=image))
        report_results.append(item)
    log_lines = list(RunLogLine.objects.filter(run=run).order_by("-seq")[:LOG_TAIL_LINES])[::-1]
    log_total = RunLogLine.objects.filter(run=run).count() if len(log_lines) == LOG_TAIL_LINES else len(log_lines)
    return {
        "run": run,
        "title": f"Argus run #{run.number} · {run.project.name}",
        "devices": [device_label(slug) for slug in run.devices],
        "duration": format_duration(run.duration_ms),
        "results": report_results,
        "failing": [item for item in report_results if item.failing],
        "screenshot_note": screenshot_note,
        "log_lines": log_lines,
        "log_total": log_total,
        "log_is_tail": log_total > len(log_lines),
        "metadata": sorted((run.metadata or {}).items()),
        "generated_at": timezone.now(),
        "LogStream": LogStream,
        "is_command": run.kind == RunKind.COMMAND,
    }


def render_html_report(run: Run) -> str:
    """One self-contained HTML file: inline CSS, screenshots as data: URIs, no external request."""
    return render_to_string("reports/run_report.html", report_context(run))


# Inside a one-line table cell only these can start markup (links need "[", tables split on "|").
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def markdown_escape(text: str, limit: int = MARKDOWN_CELL_CHARS) -> str:
    """Text that stays literal inside a Markdown table cell: one line, no HTML, no markup."""
    text = " ".join(str(text or "").split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _first_failing_step(steps: list[StepResult]) -> StepResult | None:
    return next((step for step in steps if step.status in (StepStatus.FAILED, StepStatus.ERROR)), None)


def render_markdown_report(run: Run) -> str:
    """A summary for a pull-request comment: status, counts, duration and a table of failures."""
    run = Run.objects.select_related("project", "environment", "suite").get(pk=run.pk)
    failing = list(run.results.filter(status__in=FAILING_RESULT_STATUSES).order_by("position", "device"))
    steps_by_result = _final_attempt_steps(run, failing)
    icon = {"passed": "✅", "failed": "❌", "error": "⚠️", "cancelled": "⏹️"}.get(run.status, "⏳")
    title = f"{icon} Argus run #{run.number} — {run.get_status_display().lower()}"
    details = [f"**Project:** {markdown_escape(run.project.name)}"]
    if run.suite_id:
        details.append(f"**Suite:** {markdown_escape(run.suite.name)}")
    if run.environment_id:
        details.append(f"**Environment:** {markdown_escape(run.environment.name)}")
    if run.devices:
        details.append(f"**Devices:** {markdown_escape(', '.join(run.devices))}")
    details.append(f"**Duration:** {format_duration(run.duration_ms)}")
    lines = [
        f"## {title}", "", " · ".join(details), "",
        "| Passed | Failed | Errors | Skipped | Cancelled | Total |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {run.passed} | {run.failed} | {run.errored} | {run.skipped} | {run.cancelled} | {run.total} |",
    ]
    if run.error_message:
        lines += ["", f"**Run error:** {markdown_escape(run.error_message, 1000)}"]
    if failing:
        lines += ["", "### Failures", "", "| Test | Device | Step | Error |", "| --- | --- | --- | --- |"]
        for result in failing[:MARKDOWN_MAX_FAILURES]:
            step = _first_failing_step(steps_by_result[result.pk])
            where = f"{step.index + 1}. {step.description or step.action}" if step else "—"
            error = (step.error if step and step.error else result.error_message) or result.get_status_display()
            name = f"{result.classname} › {result.name}" if result.classname and run.kind != RunKind.BROWSER \
                else result.name
            lines.append(f"| {markdown_escape(name)} | {markdown_escape(result.device or '—')} | "
                         f"{markdown_escape(where)} | {markdown_escape(error)} |")
        if len(failing) > MARKDOWN_MAX_FAILURES:
            lines += ["", f"…and {len(failing) - MARKDOWN_MAX_FAILURES} more failures."]
    elif run.status == "passed":
        lines += ["", "All tests passed."]
    return "\n".join(lines) + "\n"
