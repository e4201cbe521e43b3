"""`manage.py run_suite`: start a suite from a terminal or a CI job, optionally wait for it with a
progress bar, and write a JUnit report.

    python manage.py run_suite --org demo --project demo-shop --suite Smoke \
        --devices desktop,iphone-15 --environment dev --wait --junit argus.xml

Exit codes: 0 passed (or queued, without --wait), 1 failed / error / cancelled / timed out,
2 bad arguments, 130 interrupted (Ctrl-C cancels the run).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context
from tqdm import tqdm

from apps.core.errors import ApplicationError
from apps.generated_tests.models import Suite
from apps.organizations.models import Organization
from apps.organizations.urls_helpers import tenant_url
from apps.projects.models import Project
from apps.test_runs.devices import DEVICES
from apps.test_runs.junit import render_junit_xml
from apps.test_runs.models import ResultStatus, Run, RunStatus, RunTrigger, StepResult, StepStatus
from apps.test_runs.reports import format_duration
from apps.test_runs.services import run_cancel, run_create

BAD_ARGUMENTS = 2
INTERRUPTED = 130
POLL_SECONDS = 1.0
TABLE_WIDTH = 120
COLUMN_CAPS = (36, 16, 30)  # test, device, step


def bad_argument(message: str) -> CommandError:
    return CommandError(message, returncode=BAD_ARGUMENTS)


class Command(BaseCommand):
    help = "Run a suite of a project (trigger “cli”); --wait shows progress and exits 0 only when it passed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--project", required=True, help="project slug (or exact name)")
        parser.add_argument("--suite", required=True, help="suite name")
        parser.add_argument("--devices", default="", help=f"comma-separated presets: {', '.join(DEVICES)}")
        parser.add_argument("--environment", default=None, help="dev, staging or production")
        parser.add_argument("--retries", type=int, default=0, help="retries per failed test (0-3)")
        parser.add_argument("--wait", action="store_true", help="wait until the run finishes")
        parser.add_argument("--timeout", type=float, default=None,
                            help="with --wait: give up (and cancel the run) after this many seconds")
        parser.add_argument("--junit", default=None, help="write a JUnit XML report here (implies --wait)")

    def handle(self, *args, **options) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise bad_argument(f"No organization with the slug “{options['org']}”.")
        wait = options["wait"] or bool(options["junit"])
        if options["timeout"] is not None and options["timeout"] <= 0:
            raise bad_argument("--timeout must be a positive number of seconds.")
        with tenant_context(organization):
            run = self.start(options)
            self.stdout.write(f"Started run #{run.number} ({run.pk}): {run.total} test(s) on "
                              f"{', '.join(run.devices)}")
            self.stdout.write(tenant_url(organization.slug, f"/runs/{run.pk}/"))
            if not wait:
                return
            run = self.wait(run, options["timeout"])
            self.report(run)
            if options["junit"]:
                path = Path(options["junit"])
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(render_junit_xml(run), encoding="utf-8")
                self.stdout.write(f"JUnit report written to {path}")
        if run.status != RunStatus.PASSED:
            raise CommandError(f"Run #{run.number} {run.status}.", returncode=1)

    def start(self, options) -> Run:
        project = (Project.objects.filter(slug=options["project"]).first()
                   or Project.objects.filter(name=options["project"]).first())
        if project is None:
            raise bad_argument(f"No project “{options['project']}” in {options['org']}.")
        suite = (Suite.objects.filter(project=project, name=options["suite"]).first()
                 or Suite.objects.filter(project=project, name__iexact=options["suite"]).first())
        if suite is None:
            names = ", ".join(Suite.objects.filter(project=project).values_list("name", flat=True)) or "none"
            raise bad_argument(f"No suite “{options['suite']}” in {project.slug} (suites: {names}).")
        devices = [device.strip() for device in options["devices"].split(",") if device.strip()]
        unknown = [device for device in devices if device not in DEVICES]
        if unknown:
            raise bad_argument(f"Unknown device(s): {', '.join(unknown)}. Use: {', '.join(DEVICES)}.")
        try:
            return run_create(project=project, actor=None, trigger=RunTrigger.CLI, suite=suite,
                              environment=options["environment"], devices=devices or None,
                              retries=options["retries"], label="command line")
        except ApplicationError as exc:
            raise bad_argument(exc.message) from exc

    def wait(self, run: Run, timeout: float | None) -> Run:
        deadline = time.monotonic() + timeout if timeout else None
        bar = tqdm(total=run.total, unit="test", desc=f"Run #{run.number}", file=sys.stderr, dynamic_ncols=True)
        try:
            while True:
                run.refresh_from_db()
                bar.n = run.completed
                bar.set_postfix(passed=run.passed, failed=run.failed, errors=run.errored, refresh=False)
                bar.refresh()
                if run.is_finished:
                    return run
                if deadline is not None and time.monotonic() > deadline:
                    self.cancel(run, f"Gave up waiting after {timeout:g} s")
                    raise CommandError(f"Run #{run.number} did not finish within {timeout:g} s; it was cancelled.",
                                       returncode=1)
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            self.cancel(run, "Interrupted")
            raise CommandError(f"Interrupted: run #{run.number} was cancelled.", returncode=INTERRUPTED) from None
        finally:
            bar.close()

    def cancel(self, run: Run, why: str) -> None:
        try:
            run_cancel(run=run, actor=None)
            self.stderr.write(f"{why}: cancelling run #{run.number}.")
        except ApplicationError:
            pass  # it finished in the meantime

    def report(self, run: Run) -> None:
        self.stdout.write(
            f"Run #{run.number} {run.status} in {format_duration(run.duration_ms)}: {run.passed} passed, "
            f"{run.failed} failed, {run.errored} errors, {run.skipped} skipped, {run.cancelled} cancelled "
            f"of {run.total}.")
        if run.error_message:
            self.stdout.write(f"Run error: {run.error_message}")
        failing = list(run.results.filter(status__in=[ResultStatus.FAILED, ResultStatus.ERROR])
                       .order_by("position", "device"))
        if not failing:
            return
        attempts = {result.pk: result.attempt for result in failing}
        steps: dict = {}
        for step in (StepResult.objects.filter(result__in=failing, status__in=[StepStatus.FAILED, StepStatus.ERROR])
                     .order_by("index")):
            if step.attempt == attempts[step.result_id]:
                steps.setdefault(step.result_id, step)
        rows = [("Test", "Device", "Step", "Error")]
        for result in failing:
            step = steps.get(result.pk)
            where = f"{step.index + 1}. {step.description or step.action}" if step else "—"
            error = (step.error if step and step.error else result.error_message) or result.status
            rows.append((result.name, result.device or "—", where, " ".join(error.split())))
        self.stdout.write("\nFailures:")
        self.stdout.write(_table(rows))


def _table(rows: list[tuple[str, ...]]) -> str:
    # The last column (the error) gets whatever the others leave of the line.
    widths = [min(max(len(row[column]) for row in rows), cap) for column, cap in enumerate(COLUMN_CAPS)]
    last = max(40, TABLE_WIDTH - sum(widths) - 3 * len(widths))

    def cell(text: str, width: int) -> str:
        return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)

    lines = []
    for position, row in enumerate(rows):
        lines.append(" | ".join([cell(text, width) for text, width in zip(row, widths, strict=False)]
                                + [cell(row[-1], last).rstrip()]))
        if position == 0:
            lines.append("-+-".join("-" * width for width in [*widths, last]))
    return "\n".join(lines)
