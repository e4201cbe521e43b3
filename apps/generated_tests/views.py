"""Test and suite pages, mounted at /tests/ and /suites/ on an organization's host."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import ApplicationError
from apps.core.ui import add_service_errors, member_required
from apps.generated_tests.dsl import ACTIONS, LOCATOR_KINDS, describe_step
from apps.generated_tests.export import export_test_to_pytest
from apps.generated_tests.forms import (
    STATUS_ACTIONS,
    SuiteForm,
    SuiteRunForm,
    TestFilterForm,
    TestForm,
    TestImportForm,
    TestStatusForm,
    active_projects,
    step_errors_of,
)
from apps.generated_tests.models import Suite, Test, TestStatus, TestVersion
from apps.generated_tests.selectors import suite_list, test_list
from apps.generated_tests.services import (
    suite_create,
    suite_delete,
    suite_update,
    test_create,
    test_delete,
    test_restore_version,
    test_update,
    tests_import,
)
from apps.organizations.models import Role
from apps.projects.models import Project
from apps.test_runs.devices import DEVICES
from apps.test_runs.models import Run, RunTrigger, Schedule, TestResult
from apps.test_runs.services import run_create

PAGE_SIZE = 50
RECENT_RESULTS = 10
RECENT_RUNS = 10
# The status changes a test's page offers, by the test's current status.
STATUS_BUTTONS = {
    TestStatus.DRAFT: ["review", "approve", "archive"],
    TestStatus.PENDING_REVIEW: ["approve", "reject", "archive"],
    TestStatus.APPROVED: ["reject", "archive"],
    TestStatus.REJECTED: ["approve", "archive"],
    TestStatus.ARCHIVED: ["draft"],
}
STATUS_BUTTON_LABELS = {"approve": "Approve", "reject": "Reject", "archive": "Archive", "draft": "Restore as draft",
                        "review": "Send to review"}
IMPORT_KEY = re.compile(r"^tests\[(\d+)\](?:\.(.*))?$")


def _can_write(request: HttpRequest) -> bool:
    return request.membership.has_role(Role.DEVELOPER)


def _test_or_404(test_id) -> Test:
    # Tenant tables: the host's schema holds this organization's tests only.
    return get_object_or_404(Test.objects.select_related("project"), pk=test_id)


def _suite_or_404(suite_id) -> Suite:
    return get_object_or_404(Suite.objects.select_related("project"), pk=suite_id)


def _described_steps(definition: dict) -> list[dict[str, Any]]:
    return [{"number": index + 1, "action": step.get("action", ""), "text": describe_step(step), "step": step}
            for index, step in enumerate(definition.get("steps", []))]


# Tests


def _filtered_tests(data: dict[str, Any]) -> QuerySet[Test]:
    tests = test_list()
    if data.get("project"):
        tests = tests.filter(project=data["project"])
    if data.get("origin"):
        tests = tests.filter(origin=data["origin"])
    if data.get("tag"):
        tests = tests.filter(tags__contains=[data["tag"].strip().lower()])
    if data.get("search"):
        tests = tests.filter(Q(name__icontains=data["search"]) | Q(description__icontains=data["search"]))
    return tests


@require_GET
@member_required()
def test_list_view(request: HttpRequest) -> HttpResponse:
    form = TestFilterForm(request.GET)
    valid = form.is_valid()
    data = form.cleaned_data if valid else {}
    tests = _filtered_tests(data) if valid else Test.objects.none()
    # Counts per status under the other filters, so each status tab says what it would show.
    counts = dict(tests.order_by().values_list("status").annotate(total=Count("pk")))
    if data.get("status"):
        tests = tests.filter(status=data["status"])
    page = Paginator(tests.order_by("project__name", "name"), PAGE_SIZE).get_page(request.GET.get("page"))
    status_tabs = [{"value": "", "label": "All", "count": sum(counts.values())}] + [
        {"value": value, "label": label, "count": counts.get(value, 0)} for value, label in TestStatus.choices
    ]
    return render(request, "generated_tests/test_list.html", {
        "section": "tests", "form": form, "page": page, "status_tabs": status_tabs,
        "current_status": data.get("status", ""), "filtered": any(data.get(key) for key in form.fields),
        "can_write": _can_write(request), "has_projects": Project.objects.exists(),
    }, status=200 if valid else 400)


def _add_test_errors(form: TestForm, error: ApplicationError | ValidationError) -> None:
    if isinstance(error, ApplicationError) and error.code == "invalid_steps":
        form.add_definition_errors(error.details)
    else:
        add_service_errors(form, error)


def _editor(request: HttpRequest, form: TestForm, test: Test | None) -> HttpResponse:
    return render(request, "generated_tests/test_form.html", {
        "section": "tests", "form": form, "test": test,
        # The step editor builds its selects from these (data attributes: the CSP allows no inline script).
        "actions_json": json.dumps(ACTIONS), "locator_kinds_json": json.dumps(LOCATOR_KINDS),
        "actions_text": ", ".join(ACTIONS), "locator_kinds_text": ", ".join(LOCATOR_KINDS),
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@member_required(Role.DEVELOPER)
def test_create_view(request: HttpRequest) -> HttpResponse:
    initial = TestForm.initial_for(None)
    if request.GET.get("project"):
        initial["project"] = request.GET["project"]
    form = TestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            test = test_create(project=form.cleaned_data["project"], actor=request.user, **form.service_arguments())
        except (ApplicationError, ValidationError) as exc:
            _add_test_errors(form, exc)
        else:
            messages.success(request, f"Test “{test.name}” created.")
            return redirect("test_detail", test_id=test.pk)
    return _editor(request, form, None)


@require_http_methods(["GET", "POST"])
@member_required(Role.DEVELOPER)
def test_update_view(request: HttpRequest, test_id) -> HttpResponse:
    test = _test_or_404(test_id)
    form = TestForm(request.POST or None, test=test, initial=TestForm.initial_for(test))
    if request.method == "POST" and form.is_valid():
        try:
            updated = test_update(test=test, actor=request.user, **form.service_arguments())
        except (ApplicationError, ValidationError) as exc:
            _add_test_errors(form, exc)
        else:
            if updated.version != test.version:
                messages.success(request, f"Saved as version {updated.version}.")
            else:
                messages.success(request, "Test saved.")
            return redirect("test_detail", test_id=test.pk)
    return _editor(request, form, test)


@require_GET
@member_required()
def test_detail(request: HttpRequest, test_id) -> HttpResponse:
    test = _test_or_404(test_id)
    results = TestResult.objects.filter(test=test).select_related("run").order_by("-created_at")[:RECENT_RESULTS]
    return render(request, "generated_tests/test_detail.html", {
        "section": "tests", "test": test, "steps": _described_steps(test.definition),
        "results": results, "can_write": _can_write(request),
        "status_buttons": [(action, STATUS_BUTTON_LABELS[action]) for action in STATUS_BUTTONS.get(test.status, [])],
        "environments": test.project.environments.all(),
    })


@require_POST
@member_required(Role.DEVELOPER)
def test_status_view(request: HttpRequest, test_id) -> HttpResponse:
    test = _test_or_404(test_id)
    form = TestStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Choose one of: {', '.join(STATUS_ACTIONS)}.")
        return redirect("test_detail", test_id=test.pk)
    try:
        test = test_update(test=test, actor=request.user, status=form.status)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{test.name}” is now {test.get_status_display().lower()}.")
    return redirect("test_detail", test_id=test.pk)


@require_POST
@member_required(Role.DEVELOPER)
def test_delete_view(request: HttpRequest, test_id) -> HttpResponse:
    test = _test_or_404(test_id)
    try:
        test_delete(test=test, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("test_detail", test_id=test.pk)
    messages.success(request, f"Test “{test.name}” deleted.")
    return redirect("test_list")


@require_POST
@member_required(Role.DEVELOPER)
def test_run_view(request: HttpRequest, test_id) -> HttpResponse:
    """Run this one test now, on the chosen environment and the default device."""
    test = _test_or_404(test_id)
    try:
        run = run_create(project=test.project, actor=request.user, trigger=RunTrigger.MANUAL, tests=[test],
                         environment=request.POST.get("environment") or None,
                         devices=request.POST.getlist("devices") or None)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("test_detail", test_id=test.pk)
    return redirect("run_detail", run_id=run.pk)


def _version_changes(version: TestVersion, previous: TestVersion | None) -> list[str]:
    if previous is None:
        return [f"{len(version.definition.get('steps', []))} steps"]
    changes = []
    if version.name != previous.name:
        changes.append(f"renamed from “{previous.name}”")
    before, after = len(previous.definition.get("steps", [])), len(version.definition.get("steps", []))
    if before != after:
        changes.append(f"steps {before} → {after}")
    elif version.definition != previous.definition:
        changes.append(f"{after} steps, changed")
    return changes or ["same steps"]


@require_GET
@member_required()
def test_history(request: HttpRequest, test_id) -> HttpResponse:
    test = _test_or_404(test_id)
    versions = list(test.versions.order_by("-number"))
    by_number = {version.number: version for version in versions}
    rows = [{"version": version, "changes": _version_changes(version, by_number.get(version.number - 1))}
            for version in versions]
    return render(request, "generated_tests/test_history.html", {
        "section": "tests", "test": test, "rows": rows, "can_write": _can_write(request),
    })


@require_GET
@member_required()
def test_version_detail(request: HttpRequest, test_id, number: int) -> HttpResponse:
    test = _test_or_404(test_id)
    version = get_object_or_404(TestVersion, test=test, number=number)
    previous = TestVersion.objects.filter(test=test, number=number - 1).first()
    return render(request, "generated_tests/test_version.html", {
        "section": "tests", "test": test, "version": version, "steps": _described_steps(version.definition),
        "changes": _version_changes(version, previous), "can_write": _can_write(request),
        "definition_json": json.dumps(version.definition, indent=2, ensure_ascii=False),
    })


@require_POST
@member_required(Role.DEVELOPER)
def test_version_restore(request: HttpRequest, test_id, number: int) -> HttpResponse:
    test = _test_or_404(test_id)
    try:
        test = test_restore_version(test=test, number=number, actor=request.user)
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("test_history", test_id=test.pk)
    messages.success(request, f"Version {number} restored as version {test.version}.")
    return redirect("test_detail", test_id=test.pk)


@require_GET
@member_required()
def test_export(request: HttpRequest, test_id) -> HttpResponse:
    """The test as a runnable pytest + Selenium file, against the chosen environment's URL."""
    test = _test_or_404(test_id)
    base_url = test.project.base_url
    if request.GET.get("environment"):
        environment = test.project.environments.filter(name=request.GET["environment"]).first()
        if environment is None:
            messages.error(request, f"The project has no “{request.GET['environment']}” environment.")
            return redirect("test_detail", test_id=test.pk)
        base_url = environment.url
    code = export_test_to_pytest(test, name=test.name, base_url=base_url)
    filename = f"test_{slugify(test.name).replace('-', '_') or 'argus'}.py"
    response = HttpResponse(code, content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _import_problems(error: ApplicationError) -> list[dict[str, Any]]:
    """The service's details ({"tests[2]": [...], "tests[2].steps[0]": [...]}) as one entry per test."""
    problems: dict[int | None, list[str]] = {}
    for key, messages_ in error.details.items():
        match = IMPORT_KEY.match(str(key))
        index = int(match.group(1)) if match else None
        where = match.group(2) if match and match.group(2) else ""
        step_errors, _general = step_errors_of({where: messages_}) if where else ({}, [])
        for message in messages_ if isinstance(messages_, list | tuple) else [messages_]:
            if step_errors:
                step = next(iter(step_errors))
                problems.setdefault(index, []).append(f"step {step + 1}: {message}")
            else:
                problems.setdefault(index, []).append(f"{where}: {message}" if where else str(message))
    return [{"test": None if index is None else index + 1, "messages": found}
            for index, found in sorted(problems.items(), key=lambda item: -1 if item[0] is None else item[0])]


@require_http_methods(["GET", "POST"])
@member_required(Role.DEVELOPER)
def test_import_view(request: HttpRequest) -> HttpResponse:
    form = TestImportForm(request.POST or None, request.FILES or None,
                          initial={"project": request.GET.get("project")})
    problems: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        try:
            created = tests_import(project=form.cleaned_data["project"], actor=request.user,
                                   document=form.cleaned_data["file"], origin=form.cleaned_data["origin"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            problems = _import_problems(exc)
        else:
            messages.success(request, f"Imported {len(created)} test{'s' if len(created) != 1 else ''}.")
            return redirect(f"{reverse('test_list')}?project={form.cleaned_data['project'].pk}")
    return render(request, "generated_tests/test_import.html", {
        "section": "tests", "form": form, "problems": problems,
    }, status=400 if form.errors else 200)


# Suites


@require_GET
@member_required()
def suite_list_view(request: HttpRequest) -> HttpResponse:
    projects = Project.objects.order_by("name")
    project = None
    if request.GET.get("project"):
        project = projects.filter(pk=request.GET["project"]).first() if _is_uuid(request.GET["project"]) else None
        if project is None:
            return render(request, "generated_tests/suite_list.html", {
                "section": "suites", "suites": [], "projects": projects, "filter_error": "Unknown project.",
                "can_write": _can_write(request),
            }, status=400)
    suites = suite_list(project=project).order_by("project__name", "name")
    return render(request, "generated_tests/suite_list.html", {
        "section": "suites", "suites": suites, "projects": projects, "project": project,
        "can_write": _can_write(request), "devices": DEVICES,
    })


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _suite_editor(request: HttpRequest, form: SuiteForm, suite: Suite | None) -> HttpResponse:
    return render(request, "generated_tests/suite_form.html", {
        "section": "suites", "form": form, "suite": suite, "project": form.project,
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@member_required(Role.DEVELOPER)
def suite_create_view(request: HttpRequest) -> HttpResponse:
    projects = active_projects()
    chosen = request.POST.get("project") or request.GET.get("project")
    project = projects.filter(pk=chosen).first() if chosen and _is_uuid(chosen) else None
    if project is None and not chosen and projects.count() == 1:
        project = projects.first()
    if project is None:
        # A suite holds tests of one project: choose it first.
        return render(request, "generated_tests/suite_project_choice.html", {
            "section": "suites", "projects": projects, "unknown": bool(chosen),
        }, status=400 if chosen else 200)
    form = SuiteForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            suite = suite_create(project=project, actor=request.user, **form.service_arguments())
        except (ApplicationError, ValidationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Suite “{suite.name}” created.")
            return redirect("suite_detail", suite_id=suite.pk)
    return _suite_editor(request, form, None)


@require_http_methods(["GET", "POST"])
@member_required(Role.DEVELOPER)
def suite_update_view(request: HttpRequest, suite_id) -> HttpResponse:
    suite = _suite_or_404(suite_id)
    form = SuiteForm(request.POST or None, project=suite.project, suite=suite, initial=SuiteForm.initial_for(suite))
    if request.method == "POST" and form.is_valid():
        try:
            suite_update(suite=suite, actor=request.user, **form.service_arguments())
        except (ApplicationError, ValidationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Suite saved.")
            return redirect("suite_detail", suite_id=suite.pk)
    return _suite_editor(request, form, suite)


def _suite_page(request: HttpRequest, suite: Suite, run_form: SuiteRunForm | None = None) -> HttpResponse:
    run_form = run_form or SuiteRunForm(suite=suite)
    return render(request, "generated_tests/suite_detail.html", {
        "section": "suites", "suite": suite, "tests": suite.ordered_tests(),
        "runs": Run.objects.filter(suite=suite).order_by("-created_at")[:RECENT_RUNS],
        "schedules": Schedule.objects.filter(suite=suite).order_by("name"),
        "run_form": run_form, "can_write": _can_write(request),
        "device_labels": [DEVICES[slug].label for slug in suite.default_devices if slug in DEVICES],
    }, status=400 if run_form.errors else 200)


@require_GET
@member_required()
def suite_detail(request: HttpRequest, suite_id) -> HttpResponse:
    return _suite_page(request, _suite_or_404(suite_id))


@require_POST
@member_required(Role.DEVELOPER)
def suite_run_view(request: HttpRequest, suite_id) -> HttpResponse:
    suite = _suite_or_404(suite_id)
    form = SuiteRunForm(request.POST, suite=suite)
    if form.is_valid():
        data = form.cleaned_data
        try:
            run = run_create(project=suite.project, actor=request.user, trigger=RunTrigger.MANUAL, suite=suite,
                             environment=data["environment"] or None, devices=data["devices"] or None,
                             retries=data["retries"])
        except ApplicationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Run #{run.number} queued.")
            return redirect("run_detail", run_id=run.pk)
    return _suite_page(request, suite, form)


@require_POST
@member_required(Role.DEVELOPER)
def suite_delete_view(request: HttpRequest, suite_id) -> HttpResponse:
    suite = _suite_or_404(suite_id)
    try:
        suite_delete(suite=suite, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("suite_detail", suite_id=suite.pk)
    messages.success(request, f"Suite “{suite.name}” deleted.")
    return redirect("suite_list")
