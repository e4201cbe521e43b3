"""The run, schedule and project-variable pages: content rendered from the database, the forms, the
downloads and artifacts, and what viewers may not do."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.generated_tests import services as test_services
from apps.projects.models import EnvironmentVariable
from apps.projects.services import environment_variable_set, project_create
from apps.test_runs.models import (
    Artifact,
    ArtifactKind,
    ResultStatus,
    Run,
    RunKind,
    RunLogLine,
    RunStatus,
    Schedule,
    StepResult,
)
from apps.test_runs.schedules import schedule_create
from apps.test_runs.services import result_claim, result_finish, run_create

STEPS = {"version": 1, "start_url": "/", "steps": [
    {"action": "goto", "url": "/"},
    {"action": "click", "target": {"locators": [{"kind": "test_id", "value": "buy"}]}},
]}
# A 1×1 PNG: the bytes of a real screenshot file.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
JUNIT_SAMPLES = Path(__file__).parent / "junit_samples"


def browser(org, user=None) -> Client:
    client = Client(HTTP_HOST=org.host)
    if user is not None:
        client.force_login(user)
    return client


def text_of(response) -> str:
    return unescape(response.content.decode())


def in_alpha(alpha, function, *args, **kwargs):
    with tenant_context(alpha.organization):
        return function(*args, **kwargs)


@pytest.fixture
def shop(alpha):
    with tenant_context(alpha.organization):
        project = project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example/",
                                 environments={"staging": "https://staging.shop.example/"})
        tests = [test_services.test_create(project=project, actor=alpha.developer, name=name, definition=STEPS)
                 for name in ("Checkout", "Search")]
        suite = test_services.suite_create(project=project, actor=alpha.developer, name="Smoke",
                                           tests=[test.pk for test in tests])
    return {"project": project, "tests": tests, "suite": suite}


def add_step(result, index: int, status: str, *, error: str = "", screenshot: Artifact | None = None,
             attempt: int = 0) -> StepResult:
    return StepResult.objects.create(
        result=result, attempt=attempt, index=index, action="click", description=f"Click step {index + 1}",
        status=status, started_at=timezone.now(), duration_ms=1234, page_url="https://shop.example/cart",
        resolved_locator="test_id=buy", error=error, screenshot=screenshot)


def add_screenshot(run, result, name: str = "step-1.png") -> Artifact:
    artifact = Artifact(run=run, result=result, kind=ArtifactKind.SCREENSHOT, name=name, content_type="image/png",
                        size=len(PNG))
    artifact.file.save(name, ContentFile(PNG), save=True)
    return artifact


@pytest.fixture
def finished_run(alpha, shop):
    """A run on two devices: Checkout failed on desktop (with a screenshot), everything else passed."""
    with tenant_context(alpha.organization):
        run = run_create(project=shop["project"], actor=alpha.developer, suite=shop["suite"],
                         devices=["desktop", "iphone-15"], environment="staging")
        for result in run.results.order_by("position", "device"):
            claimed = result_claim(result.pk, task_id="t", worker="w")
            failing = result.name == "Checkout" and result.device == "desktop"
            screenshot = add_screenshot(run, result)
            add_step(claimed, 0, "passed", screenshot=screenshot)
            if failing:
                add_step(claimed, 1, "failed", error="No element matches test_id=buy")
            result_finish(claimed, status=ResultStatus.FAILED if failing else ResultStatus.PASSED,
                          error_type="LocatorNotFound" if failing else "",
                          error_message="No element matches test_id=buy" if failing else "")
        RunLogLine.objects.create(run=run, seq=1, stream="system", text="Run started on 2 devices")
        run.refresh_from_db()
    return run


# Run list


def test_run_list_shows_runs_with_counts_and_live_feed_hooks(alpha, finished_run):
    response = browser(alpha, alpha.viewer).get(reverse("run_list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-run-row="{finished_run.pk}"' in html
    assert 'class="badge badge-status-failed" data-run-status>Failed<' in html
    assert '<span data-count="passed">3</span> passed' in html
    assert '<span data-count="failed">1</span> failed' in html
    # The counts bar is an SVG: 3 of 4 passed is 75 % green, then 25 % red.
    assert 'data-segment="passed" x="0.000" y="0" width="75.000"' in html
    assert 'data-segment="failed" x="75.000" y="0" width="25.000"' in html
    assert 'data-ws-path="/ws/runs/"' in html and "js/run-live.js" in html
    assert alpha.developer.email in html


def test_run_list_filters(alpha, shop, finished_run):
    with tenant_context(alpha.organization):
        queued = run_create(project=shop["project"], actor=alpha.developer, tests=[shop["tests"][1]])
    client = browser(alpha, alpha.viewer)

    failed = client.get(reverse("run_list"), {"status": "failed"}).content.decode()
    waiting = client.get(reverse("run_list"), {"status": "queued", "project": str(shop["project"].pk)}).content.decode()

    assert f'data-run-row="{finished_run.pk}"' in failed and f'data-run-row="{queued.pk}"' not in failed
    assert f'data-run-row="{queued.pk}"' in waiting and f'data-run-row="{finished_run.pk}"' not in waiting


@pytest.mark.parametrize("query", [{"status": "exploded"}, {"project": "nope"}, {"kind": "rocket"}])
def test_run_list_refuses_unknown_filters(alpha, finished_run, query):
    response = browser(alpha, alpha.viewer).get(reverse("run_list"), query)

    assert response.status_code == 400
    assert f'data-run-row="{finished_run.pk}"' not in response.content.decode()


def test_run_row_is_the_feed_scripts_partial_and_honours_the_filters(alpha, finished_run):
    client = browser(alpha, alpha.viewer)
    url = reverse("run_row", args=[finished_run.pk])

    row = client.get(url)
    excluded = client.get(url, {"status": "passed"})

    assert row.status_code == 200 and row.content.decode().strip().startswith(f'<tr data-run-row="{finished_run.pk}"')
    assert excluded.status_code == 204 and excluded.content == b""


def test_viewer_sees_no_run_forms_developer_does(alpha, finished_run):
    viewer = browser(alpha, alpha.viewer).get(reverse("run_list")).content.decode()
    developer = browser(alpha, alpha.developer).get(reverse("run_list")).content.decode()

    for url in (reverse("run_command_create"), reverse("run_junit_upload")):
        assert url not in viewer
        assert url in developer


# Run page


def test_run_page_is_complete_without_javascript(alpha, finished_run):
    response = browser(alpha, alpha.viewer).get(reverse("run_detail", args=[finished_run.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"Run #{finished_run.number}" in html
    assert 'data-run-status>Failed<' in html
    assert '<progress id="run-progress" max="4" value="4"' in html
    # One panel per device, in the run's order, each with its results.
    assert html.index('data-device-panel="desktop"') < html.index('data-device-panel="iphone-15"')
    assert "Desktop 1920×1080" in html and "iPhone 15" in html
    assert html.count('class="result result-') == 4
    # The failed result is open, with its step error, the locator and a screenshot thumbnail.
    assert re.search(r'<details class="result result-failed" data-result="[0-9a-f-]+" data-status="failed" open>', html)
    assert "LocatorNotFound" in html and "No element matches test_id=buy" in html
    assert "found by <code>test_id=buy</code>" in html
    screenshots = in_alpha(alpha, lambda: list(Artifact.objects.filter(run=finished_run)))
    assert len(screenshots) == 4
    for artifact in screenshots:
        assert f'href="{reverse("artifact_content", args=[artifact.pk])}" data-lightbox' in html
    assert "1.2 s" in html  # the steps' duration
    assert "Run started on 2 devices" in html  # the log
    assert "https://staging.shop.example/" in html
    assert f'data-ws-path="/ws/runs/{finished_run.pk}/"' in html
    assert "<script>" not in html and "style=" not in html


def test_run_page_buttons_follow_the_runs_state(alpha, shop, finished_run):
    with tenant_context(alpha.organization):
        active = run_create(project=shop["project"], actor=alpha.developer, tests=[shop["tests"][0]])
    client = browser(alpha, alpha.developer)

    finished_html = client.get(reverse("run_detail", args=[finished_run.pk])).content.decode()
    active_html = client.get(reverse("run_detail", args=[active.pk])).content.decode()
    viewer_html = browser(alpha, alpha.viewer).get(reverse("run_detail", args=[active.pk])).content.decode()

    assert re.search(r"data-run-cancel [^>]*hidden>", finished_html)
    assert re.search(r"data-run-rerun>", finished_html)  # shown: finished with a failure
    assert re.search(r"data-run-cancel [^>]*\.\">", active_html)  # shown while it runs
    assert re.search(r"data-run-rerun hidden>", active_html)
    assert reverse("run_cancel", args=[active.pk]) not in viewer_html
    for url in ("run_report_html", "run_report_markdown", "run_report_junit"):
        assert reverse(url, args=[active.pk]) in viewer_html


def test_cancel_a_run(alpha, shop):
    with tenant_context(alpha.organization):
        run = run_create(project=shop["project"], actor=alpha.developer, suite=shop["suite"])

    response = browser(alpha, alpha.developer).post(reverse("run_cancel", args=[run.pk]))

    run = in_alpha(alpha, Run.objects.get, pk=run.pk)
    assert response.status_code == 302
    assert run.status == RunStatus.CANCELLED and run.cancelled == 2


def test_cancel_a_finished_run_says_so(alpha, finished_run):
    response = browser(alpha, alpha.developer).post(reverse("run_cancel", args=[finished_run.pk]), follow=True)

    assert "The run already finished (failed)." in text_of(response)
    assert in_alpha(alpha, Run.objects.get, pk=finished_run.pk).status == RunStatus.FAILED


def test_rerun_failed_starts_a_run_of_what_failed(alpha, finished_run):
    response = browser(alpha, alpha.developer).post(reverse("run_rerun_failed", args=[finished_run.pk]))

    rerun = in_alpha(alpha, lambda: Run.objects.exclude(pk=finished_run.pk).get())
    assert response.status_code == 302 and response["Location"] == reverse("run_detail", args=[rerun.pk])
    assert in_alpha(alpha, lambda: list(rerun.results.values_list("name", "device"))) == [("Checkout", "desktop")]
    page = browser(alpha, alpha.developer).get(reverse("run_detail", args=[rerun.pk])).content.decode()
    assert f're-run of <a href="{reverse("run_detail", args=[finished_run.pk])}">#{finished_run.number}</a>' in page


def test_viewer_gets_403_on_run_writes(alpha, shop, finished_run):
    client = browser(alpha, alpha.viewer)
    with tenant_context(alpha.organization):
        active = run_create(project=shop["project"], actor=alpha.developer, tests=[shop["tests"][0]])

    assert client.post(reverse("run_cancel", args=[active.pk])).status_code == 403
    assert client.post(reverse("run_rerun_failed", args=[finished_run.pk])).status_code == 403
    assert client.post(reverse("run_command_create"), {"project": str(shop["project"].pk),
                                                       "command": "true"}).status_code == 403
    assert client.post(reverse("run_junit_upload"), {}).status_code == 403
    assert in_alpha(alpha, Run.objects.count) == 2
    assert in_alpha(alpha, Run.objects.get, pk=active.pk).status == RunStatus.QUEUED


# Downloads and artifacts


@pytest.mark.parametrize(("name", "content_type", "filename", "expected"), [
    ("run_report_html", "text/html", "report.html", "Checkout"),
    ("run_report_markdown", "text/markdown", "report.md", "Checkout"),
    ("run_report_junit", "application/xml", "junit.xml", "<testsuite"),
])
def test_reports_download_as_attachments(alpha, finished_run, name, content_type, filename, expected):
    response = browser(alpha, alpha.viewer).get(reverse(name, args=[finished_run.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Disposition"] == f'attachment; filename="run-{finished_run.number}-{filename}"'
    assert expected in response.content.decode()


def test_screenshots_are_served_inline_to_members(alpha, finished_run):
    artifact = in_alpha(alpha, lambda: Artifact.objects.filter(run=finished_run, kind="screenshot").first())

    response = browser(alpha, alpha.viewer).get(reverse("artifact_content", args=[artifact.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert "sandbox" in response["Content-Security-Policy"]
    assert not response.get("Content-Disposition", "").startswith("attachment")


def test_other_artifacts_download_and_never_render(alpha, finished_run):
    with tenant_context(alpha.organization):
        artifact = Artifact(run=finished_run, kind=ArtifactKind.DOM_SNAPSHOT, name="page.html",
                            content_type="text/html")
        artifact.file.save("page.html", ContentFile(b"<script>alert(1)</script>"), save=True)

    response = browser(alpha, alpha.viewer).get(reverse("artifact_content", args=[artifact.pk]))

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_artifacts_need_a_member(alpha, bravo, finished_run):
    artifact = in_alpha(alpha, lambda: Artifact.objects.filter(run=finished_run).first())
    url = reverse("artifact_content", args=[artifact.pk])

    assert browser(alpha).get(url).status_code == 302
    assert browser(alpha, bravo.admin).get(url).status_code == 404


def test_artifact_whose_file_is_gone_is_404(alpha, finished_run):
    with tenant_context(alpha.organization):
        artifact = Artifact.objects.filter(run=finished_run).first()
        artifact.file.delete(save=False)

    assert browser(alpha, alpha.viewer).get(reverse("artifact_content", args=[artifact.pk])).status_code == 404


# Command runs and JUnit uploads


def test_command_run_form_queues_a_command_run(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("run_command_create"), {
        "project": str(shop["project"].pk), "command": "python -m pytest -q", "env": "API_TOKEN=abc\nMODE=ci",
        "junit_path": "reports/*.xml", "timeout_seconds": "120", "environment": "staging"})

    run = in_alpha(alpha, Run.objects.get)
    assert response.status_code == 302 and response["Location"] == reverse("run_detail", args=[run.pk])
    assert run.kind == RunKind.COMMAND and run.command["command"] == "python -m pytest -q"
    assert run.command["env"] == ["API_TOKEN", "MODE"] and run.command["timeout_seconds"] == 120
    page = browser(alpha, alpha.developer).get(reverse("run_detail", args=[run.pk])).content.decode()
    assert "<code>python -m pytest -q</code>" in page and "abc" not in page


@pytest.mark.parametrize(("data", "message"), [
    ({"command": "true", "env": "not a variable"}, "Line 1: write NAME=value"),
    ({"command": "true", "workspace_path": "/etc"}, "/etc"),
    ({"command": ""}, "This field is required."),
])
def test_command_run_form_errors(alpha, shop, data, message):
    response = browser(alpha, alpha.developer).post(reverse("run_command_create"),
                                                    {"project": str(shop["project"].pk), **data})

    assert response.status_code == 400
    html = text_of(response)
    assert message in html
    assert 'id="command-run" open' in html  # the form comes back open, with its errors
    assert not in_alpha(alpha, Run.objects.exists)


def test_junit_upload_makes_a_finished_run(alpha, shop):
    report = (JUNIT_SAMPLES / "pytest.xml").read_bytes()

    response = browser(alpha, alpha.developer).post(reverse("run_junit_upload"), {
        "project": str(shop["project"].pk), "file": SimpleUploadedFile("junit.xml", report, "application/xml"),
        "branch": "main", "commit": "abc123"})

    run = in_alpha(alpha, Run.objects.get)
    assert response.status_code == 302 and response["Location"] == reverse("run_detail", args=[run.pk])
    assert run.kind == RunKind.IMPORT and run.is_finished and run.total > 0
    assert run.metadata == {"branch": "main", "commit": "abc123"} and run.trigger == "manual"


def test_junit_upload_of_a_broken_file_is_400(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("run_junit_upload"), {
        "project": str(shop["project"].pk), "file": SimpleUploadedFile("junit.xml", b"<testsuite><oops")})

    assert response.status_code == 400
    assert 'id="junit-upload" open' in response.content.decode()
    assert not in_alpha(alpha, Run.objects.exists)


# Schedules


@pytest.fixture
def nightly(alpha, shop):
    with tenant_context(alpha.organization):
        return schedule_create(project=shop["project"], actor=alpha.developer, suite=shop["suite"], name="Nightly",
                               cron="0 3 * * *", timezone="Europe/Berlin", environment="staging")


def test_schedule_list(alpha, nightly):
    html = browser(alpha, alpha.viewer).get(reverse("schedule_list")).content.decode()

    assert "Nightly" in html and "<code>0 3 * * *</code>" in html
    assert "Every day at 03:00" in html  # describe_cron
    local = nightly.next_run_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert local.strftime("%Y-%m-%d 03:00") in html and "in " in html
    assert "never" in html  # no last run yet
    assert reverse("schedule_toggle", args=[nightly.pk]) not in html  # a viewer


def test_schedule_list_links_the_last_run(alpha, nightly, finished_run):
    with tenant_context(alpha.organization):
        Schedule.objects.filter(pk=nightly.pk).update(last_run=finished_run)

    html = browser(alpha, alpha.viewer).get(reverse("schedule_list")).content.decode()

    assert f'<a href="{reverse("run_detail", args=[finished_run.pk])}">#{finished_run.number}</a>' in html


def test_create_schedule(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("schedule_create"), {
        "suite": str(shop["suite"].pk), "name": "Mornings", "cron": "0 7 * * 1-5", "timezone": "UTC",
        "environment": "staging", "devices": ["pixel-8"], "enabled": "on"})

    schedule = in_alpha(alpha, Schedule.objects.get)
    assert response.status_code == 302
    assert (schedule.name, schedule.cron, schedule.devices, schedule.enabled) == (
        "Mornings", "0 7 * * 1-5", ["pixel-8"], True)
    assert schedule.environment.name == "staging" and schedule.next_run_at is not None


@pytest.mark.parametrize(("data", "message"), [
    ({"cron": "every day"}, "five fields"),
    ({"cron": "99 * * * *"}, "not a valid cron expression"),
    ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
    ({"environment": "production"}, "has no “production” environment"),
])
def test_schedule_form_errors(alpha, shop, data, message):
    response = browser(alpha, alpha.developer).post(reverse("schedule_create"), {
        "suite": str(shop["suite"].pk), "name": "Bad", "cron": "0 3 * * *", "timezone": "UTC", **data})

    assert response.status_code == 400
    assert message in text_of(response)
    assert not in_alpha(alpha, Schedule.objects.exists)


def test_edit_schedule(alpha, nightly):
    response = browser(alpha, alpha.developer).post(reverse("schedule_update", args=[nightly.pk]), {
        "suite": str(nightly.suite_id), "name": "Nightly", "cron": "30 1 * * *", "timezone": "UTC"})

    schedule = in_alpha(alpha, Schedule.objects.get, pk=nightly.pk)
    assert response.status_code == 302
    assert schedule.cron == "30 1 * * *" and schedule.enabled is False and schedule.environment is None


def test_toggle_with_htmx_swaps_the_row(alpha, nightly):
    client = browser(alpha, alpha.developer)

    paused = client.post(reverse("schedule_toggle", args=[nightly.pk]), {}, HTTP_HX_REQUEST="true")
    resumed = client.post(reverse("schedule_toggle", args=[nightly.pk]), {"enabled": "on"}, HTTP_HX_REQUEST="true")

    assert paused.status_code == 200
    assert paused.content.decode().strip().startswith(f'<tr id="schedule-{nightly.pk}"')
    assert "<span>Paused</span>" in paused.content.decode()
    assert "<span>On</span>" in resumed.content.decode()
    schedule = in_alpha(alpha, Schedule.objects.get, pk=nightly.pk)
    assert schedule.enabled is True and schedule.next_run_at is not None


def test_toggle_without_javascript_comes_back_to_the_list(alpha, nightly):
    response = browser(alpha, alpha.developer).post(reverse("schedule_toggle", args=[nightly.pk]), {})

    assert response.status_code == 302 and response["Location"] == reverse("schedule_list")
    schedule = in_alpha(alpha, Schedule.objects.get, pk=nightly.pk)
    assert schedule.enabled is False and schedule.next_run_at is None


def test_delete_schedule(alpha, nightly):
    response = browser(alpha, alpha.developer).post(reverse("schedule_delete", args=[nightly.pk]))

    assert response.status_code == 302
    assert not in_alpha(alpha, Schedule.objects.exists)


def test_viewer_gets_403_on_schedule_writes(alpha, shop, nightly):
    client = browser(alpha, alpha.viewer)

    assert client.get(reverse("schedule_create")).status_code == 403
    assert client.post(reverse("schedule_create"), {"suite": str(shop["suite"].pk), "name": "X",
                                                    "cron": "* * * * *", "timezone": "UTC"}).status_code == 403
    assert client.post(reverse("schedule_update", args=[nightly.pk]), {"name": "X"}).status_code == 403
    assert client.post(reverse("schedule_toggle", args=[nightly.pk]), {}, HTTP_HX_REQUEST="true").status_code == 403
    assert client.post(reverse("schedule_delete", args=[nightly.pk])).status_code == 403
    schedule = in_alpha(alpha, Schedule.objects.get)
    assert (schedule.name, schedule.enabled) == ("Nightly", True)


# Project page: environment variables (what tests and command runs read)


def project_page(org, user, project) -> str:
    return browser(org, user).get(reverse("project_detail", args=[project.pk])).content.decode()


def test_variables_section_shows_values_but_never_secrets(alpha, shop):
    with tenant_context(alpha.organization):
        staging = shop["project"].environments.get(name="staging")
        environment_variable_set(environment=staging, actor=alpha.admin, name="LOGIN_EMAIL", value="qa@shop.example")
        environment_variable_set(environment=staging, actor=alpha.admin, name="LOGIN_PASSWORD",
                                 value="hunter2-very-secret", is_secret=True)

    for user in (alpha.viewer, alpha.admin):
        html = project_page(alpha, user, shop["project"])
        assert "LOGIN_EMAIL" in html and "qa@shop.example" in html
        assert "LOGIN_PASSWORD" in html and "••••••" in html
        assert "hunter2-very-secret" not in html
    assert reverse("project_variable_set", args=[shop["project"].pk]) not in project_page(alpha, alpha.viewer,
                                                                                          shop["project"])


def test_set_and_replace_a_variable(alpha, shop):
    client = browser(alpha, alpha.developer)
    url = reverse("project_variable_set", args=[shop["project"].pk])

    first = client.post(url, {"environment": "staging", "name": "API_TOKEN", "value": "t1", "is_secret": "on"})
    client.post(url, {"environment": "staging", "name": "API_TOKEN", "value": "t2", "is_secret": "on"})

    assert first.status_code == 302 and first["Location"].endswith("#variables")
    variable = in_alpha(alpha, EnvironmentVariable.objects.get)
    assert (variable.name, variable.value, variable.is_secret) == ("API_TOKEN", "t2", True)


def test_refused_secret_is_not_rendered_back(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("project_variable_set", args=[shop["project"].pk]), {
        "environment": "staging", "name": "bad name", "value": "s3cr3t-value", "is_secret": "on"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Use upper-case letters" in html and "s3cr3t-value" not in html
    assert not in_alpha(alpha, EnvironmentVariable.objects.exists)


def test_variable_for_a_missing_environment_is_refused(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("project_variable_set", args=[shop["project"].pk]), {
        "environment": "production", "name": "X", "value": "1"})

    assert response.status_code == 400
    assert "The project has no such environment." in response.content.decode()


def test_delete_a_variable(alpha, shop):
    with tenant_context(alpha.organization):
        staging = shop["project"].environments.get(name="staging")
        variable = environment_variable_set(environment=staging, actor=alpha.admin, name="MODE", value="ci")

    response = browser(alpha, alpha.developer).post(
        reverse("project_variable_delete", args=[shop["project"].pk, variable.pk]))

    assert response.status_code == 302
    assert not in_alpha(alpha, EnvironmentVariable.objects.exists)


def test_viewer_gets_403_on_variable_writes(alpha, shop):
    with tenant_context(alpha.organization):
        staging = shop["project"].environments.get(name="staging")
        variable = environment_variable_set(environment=staging, actor=alpha.admin, name="MODE", value="ci")
    client = browser(alpha, alpha.viewer)

    assert client.post(reverse("project_variable_set", args=[shop["project"].pk]),
                       {"environment": "staging", "name": "MODE", "value": "hacked"}).status_code == 403
    assert client.post(reverse("project_variable_delete", args=[shop["project"].pk, variable.pk])).status_code == 403
    assert in_alpha(alpha, EnvironmentVariable.objects.get).value == "ci"


def test_templates_hold_no_inline_script_style_or_handler():
    """The Content-Security-Policy would block them: behaviour lives in static/js, looks in static/css."""
    root = Path(__file__).resolve().parents[2] / "templates"
    files = [*(root / "test_runs").glob("*.html"), *(root / "generated_tests").glob("*.html"),
             root / "projects" / "_variables.html"]
    assert len(files) > 15
    for path in files:
        html = path.read_text()
        assert not re.search(r"\sstyle\s*=", html), path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path


@pytest.mark.browser
def test_schedule_toggle_in_a_browser_swaps_the_row(asgi_server, session_orgs, committed_project, django_db_blocker,
                                                    tmp_path):
    """htmx posts the switch (with the CSRF header from base.html) and swaps in the row the server renders."""
    from selenium.webdriver.common.by import By

    from tests.test_runs.test_live_page import assert_not_reloaded, chromium, mark_page, sign_in, wait_for

    org = session_orgs["alpha"]
    project = committed_project(org)
    with django_db_blocker.unblock(), tenant_context(org.organization):
        test = test_services.test_create(project=project, actor=org.developer, name="Home", definition=STEPS)
        suite = test_services.suite_create(project=project, actor=org.developer, name="Smoke", tests=[test.pk])
        schedule = schedule_create(project=project, actor=org.developer, suite=suite, name="Hourly",
                                   cron="0 * * * *")
    base = asgi_server.url(org.host, "/")
    row = f"#schedule-{schedule.pk}"
    with chromium(tmp_path) as driver:
        sign_in(driver, base, org.developer.email)
        driver.get(f"{base}schedules/")
        wait_for(driver, lambda b: b.execute_script("return !!window.htmx"), "htmx to load")
        mark_page(driver)
        assert not driver.find_element(By.CSS_SELECTOR, f"{row} button[type=submit].js-hidden").is_displayed()
        driver.find_element(By.CSS_SELECTOR, f"{row} [data-schedule-enabled]").click()
        # Read the row in the page: htmx may swap it between a find and a read (a stale element).
        row_text = "const row = document.querySelector(arguments[0]); return row ? row.innerText : '';"
        wait_for(driver, lambda b: "Paused" in b.execute_script(row_text, row), "the row to say Paused")
        assert "—" in driver.find_element(By.CSS_SELECTOR, f"{row} [data-next-run]").text
        assert_not_reloaded(driver)

    with django_db_blocker.unblock(), tenant_context(org.organization):
        schedule.refresh_from_db()
    assert schedule.enabled is False and schedule.next_run_at is None
