"""Run pages (mounted at /runs/: list, live run page, reports, artifacts, command runs, JUnit uploads)
and schedule pages (mounted at /schedules/)."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import ApplicationError
from apps.core.ui import add_service_errors, is_htmx, member_required
from apps.organizations.models import Role
from apps.test_runs.devices import DEVICES
from apps.test_runs.forms import CommandRunForm, JUnitUploadForm, RunFilterForm, ScheduleForm, ScheduleToggleForm
from apps.test_runs.junit import junit_import_run, render_junit_xml
from apps.test_runs.models import Artifact, Run, RunKind, RunStatus, RunTrigger, Schedule
from apps.test_runs.reports import format_duration as report_duration
from apps.test_runs.reports import render_html_report, render_markdown_report
from apps.test_runs.runners.command import command_run_create
from apps.test_runs.schedules import (
    describe_cron,
    schedule_create,
    schedule_delete,
    schedule_toggle,
    schedule_update,
)
from apps.test_runs.services import run_cancel, run_rerun_failed
from apps.test_runs.snapshots import run_snapshot

PAGE_SIZE = 50
# Artifacts a browser may show in the page; anything else (DOM snapshots, logs, archives) downloads.
INLINE_CONTENT_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif"}
# Served files never run anything on our origin, whatever their content.
ARTIFACT_CSP = "default-src 'none'; img-src 'self'; sandbox"
# The live script swaps this id for a step's screenshot artifact id.
ARTIFACT_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
FINISHED_WITH_FAILURES = {RunStatus.FAILED, RunStatus.ERROR, RunStatus.CANCELLED}


def _can_write(request: HttpRequest) -> bool:
    return request.membership.has_role(Role.DEVELOPER)


def format_duration(milliseconds: int | None) -> str:
    return report_duration(milliseconds, missing="")


def _run_or_404(run_id) -> Run:
    # Tenant tables: the host's schema holds this organization's runs only.
    return get_object_or_404(Run.objects.select_related("project", "suite", "environment", "schedule"), pk=run_id)


COUNT_SEGMENTS = ("passed", "failed", "errored", "skipped", "cancelled")


def count_segments(counts: dict[str, int] | Run) -> list[dict[str, Any]]:
    """The counts bar: one segment per outcome, as percentages of the total (an SVG, since the CSP
    forbids style attributes). static/js/run-live.js computes the same."""
    get = counts.get if isinstance(counts, dict) else lambda name, default=0: getattr(counts, name, default)
    total = get("total", 0) or 0
    segments, offset = [], 0.0
    for name in COUNT_SEGMENTS:
        width = 100.0 * (get(name, 0) or 0) / total if total else 0.0
        segments.append({"name": name, "x": f"{offset:.3f}", "width": f"{width:.3f}"})
        offset += width
    return segments


def _with_display(runs) -> list[Run]:
    runs = list(runs)
    for run in runs:
        run.duration_text = format_duration(run.duration_ms)
        run.segments = count_segments(run)
    return runs


# Runs


def _filtered_runs(data: dict[str, Any]) -> QuerySet[Run]:
    runs = Run.objects.select_related("project", "suite", "environment").order_by("-created_at")
    for field in ("project", "status", "kind", "trigger"):
        if data.get(field):
            runs = runs.filter(**{field: data[field]})
    return runs


def _run_list_page(request: HttpRequest, *, command_form: CommandRunForm | None = None,
                   junit_form: JUnitUploadForm | None = None, status: int = 200) -> HttpResponse:
    filters = RunFilterForm(request.GET)
    valid = filters.is_valid()
    data = filters.cleaned_data if valid else {}
    page = Paginator(_filtered_runs(data) if valid else Run.objects.none(), PAGE_SIZE).get_page(request.GET.get("page"))
    can_write = _can_write(request)
    return render(request, "test_runs/run_list.html", {
        "section": "runs", "filters": filters, "page": page, "runs": _with_display(page.object_list),
        "filtered": any(data.get(key) for key in filters.fields), "can_write": can_write,
        "filter_project": str(data["project"].pk) if data.get("project") else "",
        "filter_status": data.get("status", ""), "filter_kind": data.get("kind", ""),
        "filter_trigger": data.get("trigger", ""),
        "command_form": command_form or (CommandRunForm() if can_write else None),
        "junit_form": junit_form or (JUnitUploadForm() if can_write else None),
    }, status=status if valid else 400)


@require_GET
@member_required()
def run_list_view(request: HttpRequest) -> HttpResponse:
    return _run_list_page(request)


@require_GET
@member_required()
def run_row(request: HttpRequest, run_id) -> HttpResponse:
    """One row of the run list: the feed script inserts it when a run it hasn't seen starts. It passes
    the list's filters along; a run they exclude answers 204 (nothing to insert)."""
    run = _run_or_404(run_id)
    filters = RunFilterForm(request.GET)
    if not filters.is_valid() or not _filtered_runs(filters.cleaned_data).filter(pk=run.pk).exists():
        return HttpResponse(status=204)
    return render(request, "test_runs/_run_row.html", {"run": _with_display([run])[0]})


def _grouped_results(snapshot: dict[str, Any], run: Run) -> list[dict[str, Any]]:
    """The snapshot's results by device, in the run's device order (command and import runs have none)."""
    order = list(run.devices)
    groups: dict[str, list[dict]] = {}
    for result in snapshot["results"]:
        device = result.get("device") or ""
        if device not in order:
            order.append(device)
        groups.setdefault(device, []).append(result)
    return [{"device": device, "label": DEVICES[device].label if device in DEVICES else (device or "Results"),
             "results": groups.get(device, [])} for device in order]


def _decorate_result(result: dict[str, Any]) -> None:
    """Display fields of a snapshot result: durations as text and its steps grouped by attempt."""
    result["duration_text"] = format_duration(result.get("duration_ms"))
    attempts: dict[int, list[dict]] = {}
    for step in result.get("steps", []):
        step["duration_text"] = format_duration(step.get("duration_ms"))
        attempts.setdefault(step.get("attempt", 0), []).append(step)
    result["attempts"] = [{"attempt": attempt, "number": attempt + 1, "steps": steps}
                          for attempt, steps in sorted(attempts.items())]


@require_GET
@member_required()
def run_detail(request: HttpRequest, run_id) -> HttpResponse:
    run = _run_or_404(run_id)
    snapshot = run_snapshot(run)
    for result in snapshot["results"]:
        _decorate_result(result)
    return render(request, "test_runs/run_detail.html", {
        "section": "runs", "run": run, "snapshot": snapshot, "summary": snapshot["run"],
        "segments": count_segments(snapshot["run"]), "is_finished": run.is_finished,
        "groups": _grouped_results(snapshot, run), "can_write": _can_write(request),
        "duration_text": format_duration(run.duration_ms),
        "can_rerun": run.kind == RunKind.BROWSER and run.status in FINISHED_WITH_FAILURES,
        "device_labels": [DEVICES[slug].label if slug in DEVICES else slug for slug in run.devices],
        "artifact_url_template": reverse("artifact_content", kwargs={"artifact_id": ARTIFACT_PLACEHOLDER}),
        "rerun_of": run.metadata.get("rerun_of") if isinstance(run.metadata, dict) else None,
    })


@require_POST
@member_required(Role.DEVELOPER)
def run_cancel_view(request: HttpRequest, run_id) -> HttpResponse:
    run = _run_or_404(run_id)
    try:
        run_cancel(run=run, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Run #{run.number} is being cancelled.")
    return redirect("run_detail", run_id=run.pk)


@require_POST
@member_required(Role.DEVELOPER)
def run_rerun_failed_view(request: HttpRequest, run_id) -> HttpResponse:
    run = _run_or_404(run_id)
    try:
        rerun = run_rerun_failed(run=run, actor=request.user, trigger=RunTrigger.MANUAL)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("run_detail", run_id=run.pk)
    messages.success(request, f"Run #{rerun.number} re-runs what failed in run #{run.number}.")
    return redirect("run_detail", run_id=rerun.pk)


def _download(content: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@member_required()
def run_report_html(request: HttpRequest, run_id) -> HttpResponse:
    run = _run_or_404(run_id)
    return _download(render_html_report(run), "text/html; charset=utf-8", f"run-{run.number}-report.html")


@require_GET
@member_required()
def run_report_markdown(request: HttpRequest, run_id) -> HttpResponse:
    run = _run_or_404(run_id)
    return _download(render_markdown_report(run), "text/markdown; charset=utf-8", f"run-{run.number}-report.md")


@require_GET
@member_required()
def run_report_junit(request: HttpRequest, run_id) -> HttpResponse:
    run = _run_or_404(run_id)
    return _download(render_junit_xml(run), "application/xml; charset=utf-8", f"run-{run.number}-junit.xml")


@require_GET
@member_required()
def artifact_content(request: HttpRequest, artifact_id) -> HttpResponse:
    """A run's file from default storage (screenshots show inline, everything else downloads)."""
    artifact = get_object_or_404(Artifact, pk=artifact_id)
    try:
        handle = artifact.file.open("rb")
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise Http404("The file of this artifact is gone.") from exc
    inline = artifact.content_type in INLINE_CONTENT_TYPES
    response = FileResponse(handle, content_type=artifact.content_type if inline else "application/octet-stream",
                            as_attachment=not inline, filename=artifact.name)
    response["Content-Security-Policy"] = ARTIFACT_CSP
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@member_required(Role.DEVELOPER)
def run_command_create_view(request: HttpRequest) -> HttpResponse:
    form = CommandRunForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            run = command_run_create(actor=request.user, trigger=RunTrigger.MANUAL, **form.service_arguments())
        except (ApplicationError, ValidationError) as exc:
            add_service_errors(form, exc, field_map={"workspace": "workspace_path"})
        else:
            messages.success(request, f"Command run #{run.number} queued.")
            return redirect("run_detail", run_id=run.pk)
    return _run_list_page(request, command_form=form, status=400)


@require_POST
@member_required(Role.DEVELOPER)
def run_junit_upload_view(request: HttpRequest) -> HttpResponse:
    form = JUnitUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            run = junit_import_run(project=form.cleaned_data["project"], actor=request.user,
                                   xml_bytes=form.cleaned_data["file"].read(), metadata=form.metadata(),
                                   trigger=RunTrigger.MANUAL)
        except ApplicationError as exc:
            add_service_errors(form, exc, field_map={"xml_bytes": "file"})
        else:
            messages.success(request, f"Run #{run.number} imported: {run.total} tests.")
            return redirect("run_detail", run_id=run.pk)
    return _run_list_page(request, junit_form=form, status=400)


# Schedules


def _schedule_or_404(schedule_id) -> Schedule:
    return get_object_or_404(Schedule.objects.select_related("project", "suite", "environment", "last_run"),
                             pk=schedule_id)


def _with_cron_text(schedules) -> list[Schedule]:
    schedules = list(schedules)
    for schedule in schedules:
        schedule.cron_text = describe_cron(schedule.cron)
    return schedules


@require_GET
@member_required()
def schedule_list_view(request: HttpRequest) -> HttpResponse:
    schedules = Schedule.objects.select_related("project", "suite", "environment", "last_run").order_by(
        "project__name", "name")
    return render(request, "test_runs/schedule_list.html", {
        "section": "schedules", "schedules": _with_cron_text(schedules), "can_write": _can_write(request),
        "devices": DEVICES,
    })


def _schedule_editor(request: HttpRequest, form: ScheduleForm, schedule: Schedule | None) -> HttpResponse:
    return render(request, "test_runs/schedule_form.html", {
        "section": "schedules", "form": form, "schedule": schedule, "timezones": _common_timezones(),
    }, status=400 if form.errors else 200)


@cache
def _common_timezones() -> list[str]:
    return sorted(name for name in zoneinfo.available_timezones() if "/" in name and not name.startswith("Etc/"))


@require_http_methods(["GET", "POST"])
@member_required(Role.DEVELOPER)
def schedule_create_view(request: HttpRequest) -> HttpResponse:
    initial = {"timezone": "UTC", "enabled": True}
    if request.GET.get("suite"):
        initial["suite"] = request.GET["suite"]
    form = ScheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        arguments = form.service_arguments()
        try:
            schedule = schedule_create(project=arguments["suite"].project, actor=request.user, **arguments)
        except (ApplicationError, ValidationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Schedule “{schedule.name}” created.")
            return redirect("schedule_list")
    return _schedule_editor(request, form, None)


@require_http_methods(["GET", "POST"])
@member_required(Role.DEVELOPER)
def schedule_update_view(request: HttpRequest, schedule_id) -> HttpResponse:
    schedule = _schedule_or_404(schedule_id)
    form = ScheduleForm(request.POST or None, initial=ScheduleForm.initial_for(schedule))
    if request.method == "POST" and form.is_valid():
        try:
            schedule_update(schedule=schedule, actor=request.user, **form.service_arguments())
        except (ApplicationError, ValidationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Schedule saved.")
            return redirect("schedule_list")
    return _schedule_editor(request, form, schedule)


@require_POST
@member_required(Role.DEVELOPER)
def schedule_delete_view(request: HttpRequest, schedule_id) -> HttpResponse:
    schedule = _schedule_or_404(schedule_id)
    try:
        schedule_delete(schedule=schedule, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Schedule “{schedule.name}” deleted.")
    return redirect("schedule_list")


@require_POST
@member_required(Role.DEVELOPER)
def schedule_toggle_view(request: HttpRequest, schedule_id) -> HttpResponse:
    """Switch a schedule on or off; htmx swaps its row, a plain form post comes back to the list."""
    schedule = _schedule_or_404(schedule_id)
    form = ScheduleToggleForm(request.POST)
    form.is_valid()  # a missing checkbox means "off": the form cannot be invalid
    error, status = "", 200
    try:
        schedule = schedule_toggle(schedule=schedule, actor=request.user, enabled=form.cleaned_data["enabled"])
    except ApplicationError as exc:
        error, status = exc.message, exc.status_code
        schedule.refresh_from_db()
    if is_htmx(request):
        return render(request, "test_runs/_schedule_row.html", {
            "schedule": _with_cron_text([_schedule_or_404(schedule.pk)])[0], "can_write": True, "row_error": error,
        }, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Schedule “{schedule.name}” {'enabled' if schedule.enabled else 'paused'}.")
    return redirect("schedule_list")
