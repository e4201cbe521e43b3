"""Runs API: create (tests or suite, devices, environment), list filters, detail, cancel, rerun failed,
results with steps, artifacts, logs, reports, the task-style /tests/run + /jobs, command runs, schedules."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from defusedxml.ElementTree import fromstring as parse_xml
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.generated_tests import services as test_services
from apps.projects.services import project_archive, project_create
from apps.test_runs.devices import DEVICES
from apps.test_runs.junit import junit_import_run
from apps.test_runs.models import (
    Artifact,
    ArtifactKind,
    ResultStatus,
    Run,
    RunKind,
    RunLogLine,
    StepResult,
    StepStatus,
)
from apps.test_runs.services import result_claim, result_finish
from tests.conftest import error_of

STEPS = {"version": 1, "start_url": "/", "steps": [
    {"action": "goto", "url": "/"},
    {"action": "click", "target": {"locators": [{"kind": "test_id", "value": "buy"}]}},
]}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def shop(alpha):
    """A project with a staging environment, two tests, an archived test and a suite defaulting to staging
    on desktop and iPhone 15; a second project with one test."""
    with tenant_context(alpha.organization):
        project = project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example.com/",
                                 environments={"staging": "https://staging.shop.example.com/"})
        other = project_create(actor=alpha.admin, name="Blog", base_url="https://blog.example.com/")
        one, two = (test_services.test_create(project=project, actor=alpha.admin, name=name, definition=STEPS)
                    for name in ("One", "Two"))
        archived = test_services.test_create(project=project, actor=alpha.admin, name="Old", definition=STEPS,
                                             status="archived")
        suite = test_services.suite_create(project=project, actor=alpha.admin, name="Smoke",
                                           tests=[one.pk, two.pk, archived.pk], default_environment="staging",
                                           default_devices=["desktop", "iphone-15"])
        blog_test = test_services.test_create(project=other, actor=alpha.admin, name="Blog", definition=STEPS)
    return {"project": project, "other": other, "one": one, "two": two, "archived": archived, "suite": suite,
            "blog_test": blog_test}


@pytest.fixture
def client(alpha, api_client):
    return api_client(alpha, user=alpha.developer)


@pytest.fixture
def stored_files():
    """Files a test writes to the media storage, deleted afterwards (the database rolls back, storage doesn't)."""
    made: list = []
    yield made
    for field_file in made:
        field_file.storage.delete(field_file.name)


def start(client, shop, **body) -> dict:
    response = client.post("/api/v1/runs", {"project": str(shop["project"].pk), **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def finish_results(alpha, run_id, statuses: dict[tuple[str, str], str]) -> Run:
    """Claim and finish a run's results through the worker services: {(test name, device): status}."""
    with tenant_context(alpha.organization):
        run = Run.objects.get(pk=run_id)
        for result in run.results.order_by("position", "device"):
            status = statuses.get((result.name, result.device), ResultStatus.PASSED)
            claimed = result_claim(result.pk, task_id="t", worker="w")
            result_finish(claimed, status=status, error_message="" if status == "passed" else "Button not found")
        run.refresh_from_db()
        return run


# ------------------------------------------------------------------------------------------ create


def test_devices_lists_every_preset(client):
    response = client.get("/api/v1/devices")

    assert response.status_code == 200
    presets = {device["slug"]: device for device in response.json()}
    assert list(presets) == list(DEVICES)
    assert presets["iphone-15"]["width"] == 393 and presets["iphone-15"]["mobile"] is True
    assert presets["desktop"] == DEVICES["desktop"].as_dict()


def test_create_a_run_of_chosen_tests_on_devices(client, alpha, shop):
    run = start(client, shop, tests=[str(shop["two"].pk), str(shop["one"].pk)], devices=["desktop", "pixel-8"],
                retries=1, screenshots="on_failure")

    assert run["status"] == "queued" and run["kind"] == "browser" and run["number"] == 1
    assert run["total"] == 4 and run["completed"] == 0
    assert run["trigger"] == "manual" and run["started_by_label"] == alpha.developer.email
    assert run["devices"] == ["desktop", "pixel-8"] and run["retries"] == 1 and run["screenshots"] == "on_failure"
    assert run["environment"] is None and run["target_url"] == "https://shop.example.com/"
    assert run["links"]["report_html"] == f"/api/v1/runs/{run['id']}/report.html"
    results = client.get(run["links"]["results"]).json()["results"]
    assert [(row["name"], row["device"]) for row in results] == [
        ("Two", "desktop"), ("Two", "pixel-8"), ("One", "desktop"), ("One", "pixel-8")]
    assert {row["status"] for row in results} == {"queued"}


def test_a_run_started_with_an_api_key_is_triggered_by_api(alpha, api_client, make_api_key, shop):
    api_key, raw = make_api_key(alpha, alpha.developer, ["write"])

    run = start(api_client(alpha, key=raw), shop, tests=[str(shop["one"].pk)])

    assert run["trigger"] == "api"
    assert run["started_by_label"] == f"API key {api_key.prefix}"


def test_a_suite_run_uses_the_suites_environment_and_devices(client, shop):
    run = start(client, shop, suite=str(shop["suite"].pk))

    assert run["suite"] == str(shop["suite"].pk)
    assert run["environment"] == "staging" and run["target_url"] == "https://staging.shop.example.com/"
    assert run["devices"] == ["desktop", "iphone-15"]
    # The archived test of the suite is skipped.
    assert run["total"] == 4


def test_a_run_can_override_the_suites_defaults(client, shop):
    run = start(client, shop, suite=str(shop["suite"].pk), devices=["mobile"], environment="")

    assert run["devices"] == ["mobile"] and run["total"] == 2
    assert run["environment"] == "staging"


@pytest.mark.parametrize(("make_body", "code", "field"), [
    (lambda ids: {"tests": [ids["one"]], "devices": ["desktop", "toaster"]}, "validation_error", "devices"),
    (lambda ids: {"suite": ids["their_suite"]}, "validation_error", "suite"),
    (lambda ids: {"tests": [ids["their_test"]]}, "validation_error", "tests"),
    (lambda ids: {"tests": [ids["one"], ids["blog_test"]]}, "invalid", "tests"),
    (lambda ids: {"tests": [ids["archived"]]}, "nothing_to_run", None),
    (lambda ids: {}, "invalid", "tests"),
    (lambda ids: {"tests": [ids["one"]], "retries": 5}, "validation_error", "retries"),
    (lambda ids: {"tests": [ids["one"]], "environment": "production"}, "invalid", "environment"),
    (lambda ids: {"tests": [ids["one"]], "screenshots": "never"}, "validation_error", "screenshots"),
], ids=["unknown device", "another org's suite", "another org's test", "another project's test", "only archived",
        "nothing chosen", "too many retries", "unconfigured environment", "unknown screenshot policy"])
def test_run_input_errors_are_400s_that_create_nothing(client, alpha, bravo, shop, make_body, code, field):
    with tenant_context(bravo.organization):
        theirs = project_create(actor=bravo.admin, name="Theirs", base_url="https://theirs.example.com/")
        their_test = test_services.test_create(project=theirs, actor=bravo.admin, name="T", definition=STEPS)
        their_suite = test_services.suite_create(project=theirs, actor=bravo.admin, name="S", tests=[their_test.pk])
    ids = {"one": shop["one"].pk, "archived": shop["archived"].pk, "blog_test": shop["blog_test"].pk,
           "their_test": their_test.pk, "their_suite": their_suite.pk}

    body = {"project": str(shop["project"].pk), **make_body({key: str(value) for key, value in ids.items()})}
    response = client.post("/api/v1/runs", body, format="json")

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == code
    if field:
        assert field in error["details"]
    with tenant_context(alpha.organization):
        assert not Run.objects.exists()


def test_a_viewer_cannot_start_a_run(alpha, api_client, shop):
    response = api_client(alpha, user=alpha.viewer).post(
        "/api/v1/runs", {"project": str(shop["project"].pk), "tests": [str(shop["one"].pk)]}, format="json")

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


def test_an_archived_project_cannot_run(client, alpha, shop):
    with tenant_context(alpha.organization):
        project_archive(project=shop["project"], actor=alpha.admin)

    response = client.post("/api/v1/runs", {"project": str(shop["project"].pk), "tests": [str(shop["one"].pk)]},
                           format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "archived"


# ---------------------------------------------------------------------------------- list and detail


JUNIT = (b'<testsuite name="ci"><testcase classname="a" name="ok"/><testcase classname="a" name="bad">'
         b'<failure message="no">trace</failure></testcase></testsuite>')


@pytest.fixture
def three_runs(client, alpha, shop, api_client, make_api_key, stored_files):
    """A queued manual suite run, a failed API run of one test and an imported (JUnit) run."""
    queued = start(client, shop, suite=str(shop["suite"].pk))
    _key, raw = make_api_key(alpha, alpha.developer, ["write"])
    failed = start(api_client(alpha, key=raw), shop, tests=[str(shop["one"].pk)])
    finish_results(alpha, failed["id"], {("One", "desktop"): ResultStatus.FAILED})
    with tenant_context(alpha.organization):
        imported = junit_import_run(project=shop["other"], actor=alpha.developer, xml_bytes=JUNIT,
                                    metadata={"branch": "main"})
        stored_files.extend(artifact.file for artifact in imported.artifacts.all())
    return {"queued": queued["id"], "failed": failed["id"], "imported": str(imported.pk)}


@pytest.mark.parametrize(("make_query", "expected"), [
    (lambda shop: {}, {"queued", "failed", "imported"}),
    (lambda shop: {"status": "failed"}, {"failed", "imported"}),
    (lambda shop: {"status": "queued"}, {"queued"}),
    (lambda shop: {"trigger": "api"}, {"failed"}),
    (lambda shop: {"kind": "import"}, {"imported"}),
    (lambda shop: {"kind": "browser", "project": str(shop["project"].pk)}, {"queued", "failed"}),
    (lambda shop: {"suite": str(shop["suite"].pk)}, {"queued"}),
], ids=["all", "failed", "queued", "api", "import", "browser of a project", "suite"])
def test_list_filters(client, shop, three_runs, make_query, expected):
    names = {run_id: name for name, run_id in three_runs.items()}

    response = client.get("/api/v1/runs", make_query(shop))

    assert response.status_code == 200
    assert {names[row["id"]] for row in response.json()["results"]} == expected


@pytest.mark.parametrize("query", [{"status": "done"}, {"trigger": "cron"}, {"kind": "selenium"}])
def test_list_refuses_unknown_filter_values(client, query):
    response = client.get("/api/v1/runs", query)

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"


def test_list_costs_the_same_queries_for_more_runs(client, shop, alpha):
    start(client, shop, suite=str(shop["suite"].pk))
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/runs")
    for _ in range(4):
        start(client, shop, tests=[str(shop["one"].pk)], environment="staging")
    with CaptureQueriesContext(connection) as five:
        listed = client.get("/api/v1/runs").json()["results"]

    assert len(listed) == 5 and listed[0]["environment"] == "staging"
    assert len(five.captured_queries) == len(one.captured_queries)


def test_detail_has_counts_timings_and_who_started_it(client, alpha, shop, three_runs):
    response = client.get(f"/api/v1/runs/{three_runs['failed']}")

    assert response.status_code == 200
    run = response.json()
    assert run["status"] == "failed" and run["total"] == 1 and run["failed"] == 1 and run["completed"] == 1
    assert run["started_at"] and run["finished_at"] and run["duration_ms"] is not None
    assert run["started_by_label"].startswith("API key ")
    assert set(run["links"]) == {"self", "results", "artifacts", "logs", "report_html", "report_md", "junit_xml"}


# ------------------------------------------------------------------------------ cancel and rerun


def test_cancel_a_queued_run(client, alpha, shop):
    run = start(client, shop, suite=str(shop["suite"].pk))

    response = client.post(f"/api/v1/runs/{run['id']}/cancel")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled" and body["cancelled"] == 4 and body["cancel_requested_at"]
    results = client.get(f"/api/v1/runs/{run['id']}/results").json()["results"]
    assert {row["status"] for row in results} == {"cancelled"}


def test_cancelling_a_finished_run_conflicts(client, three_runs):
    response = client.post(f"/api/v1/runs/{three_runs['failed']}/cancel")

    assert response.status_code == 409
    assert error_of(response)["code"] == "run_finished"


def test_rerun_failed_runs_only_what_failed_where_it_failed(client, alpha, shop):
    run = start(client, shop, suite=str(shop["suite"].pk))
    finish_results(alpha, run["id"], {("Two", "iphone-15"): ResultStatus.FAILED})

    response = client.post(f"/api/v1/runs/{run['id']}/rerun-failed")

    assert response.status_code == 201, response.content
    rerun = response.json()
    assert rerun["id"] != run["id"] and rerun["number"] == run["number"] + 1
    assert rerun["total"] == 1 and rerun["devices"] == ["iphone-15"]
    assert rerun["metadata"]["rerun_of"] == run["id"]
    results = client.get(f"/api/v1/runs/{rerun['id']}/results").json()["results"]
    assert [(row["name"], row["device"]) for row in results] == [("Two", "iphone-15")]


def test_rerun_with_nothing_failed_is_a_400(client, alpha, shop):
    run = start(client, shop, tests=[str(shop["one"].pk)])
    finish_results(alpha, run["id"], {})

    response = client.post(f"/api/v1/runs/{run['id']}/rerun-failed")

    assert response.status_code == 400
    assert error_of(response)["code"] == "nothing_to_run"


def test_rerun_of_an_active_run_conflicts(client, shop):
    run = start(client, shop, tests=[str(shop["one"].pk)])

    response = client.post(f"/api/v1/runs/{run['id']}/rerun-failed")

    assert response.status_code == 409
    assert error_of(response)["code"] == "run_active"


# ------------------------------------------------------------------------- results, steps, artifacts


@pytest.fixture
def traced(client, alpha, shop, stored_files):
    """A finished run whose desktop result has two attempts' steps, a screenshot and a log file."""
    run = start(client, shop, tests=[str(shop["one"].pk)], devices=["desktop", "mobile"])
    with tenant_context(alpha.organization):
        result = Run.objects.get(pk=run["id"]).results.get(device="desktop")
        screenshot = Artifact(run_id=run["id"], result=result, kind=ArtifactKind.SCREENSHOT, name="step-1.png",
                              content_type="image/png", size=len(PNG))
        screenshot.file.save("step-1.png", ContentFile(PNG), save=True)
        log = Artifact(run_id=run["id"], kind=ArtifactKind.LOG, name="<script>.html", content_type="text/html",
                       size=13)
        log.file.save("console.html", ContentFile(b"<script>x</script>"), save=True)
        stored_files.extend([screenshot.file, log.file])
        now = timezone.now()
        for attempt in (1, 0):
            for index in (1, 0):
                StepResult.objects.create(
                    result=result, attempt=attempt, index=index, action="click" if index else "goto",
                    description=f"attempt {attempt} step {index}", started_at=now, duration_ms=12,
                    status=StepStatus.FAILED if index else StepStatus.PASSED,
                    screenshot=screenshot if index else None, console_errors=["TypeError: x"] if index else [])
        RunLogLine.objects.bulk_create([RunLogLine(run_id=run["id"], seq=seq, text=f"line {seq}")
                                        for seq in range(1, 8)])
    finish_results(alpha, run["id"], {("One", "desktop"): ResultStatus.FAILED})
    return {"run": run["id"], "result": str(result.pk), "screenshot": str(screenshot.pk), "log": str(log.pk)}


@pytest.mark.parametrize(("query", "expected"), [
    ({"device": "mobile"}, [("One", "mobile", "passed")]),
    ({"status": "failed"}, [("One", "desktop", "failed")]),
    ({}, [("One", "desktop", "failed"), ("One", "mobile", "passed")]),
])
def test_results_filter_by_device_and_status(client, traced, query, expected):
    response = client.get(f"/api/v1/runs/{traced['run']}/results", query)

    assert response.status_code == 200
    assert [(row["name"], row["device"], row["status"]) for row in response.json()["results"]] == expected


def test_results_refuse_an_unknown_device(client, traced):
    response = client.get(f"/api/v1/runs/{traced['run']}/results", {"device": "toaster"})

    assert response.status_code == 400
    assert "device" in error_of(response)["details"]


def test_result_detail_has_its_steps_in_order_and_its_files(client, traced):
    response = client.get(f"/api/v1/results/{traced['result']}")

    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "failed" and result["error_message"] == "Button not found"
    assert [(step["attempt"], step["index"]) for step in result["steps"]] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    failing = result["steps"][1]
    assert failing["status"] == "failed" and failing["console_errors"] == ["TypeError: x"]
    assert failing["screenshot_url"] == f"/api/v1/artifacts/{traced['screenshot']}/content"
    assert [artifact["name"] for artifact in result["artifacts"]] == ["step-1.png"]


def test_steps_list_pages_in_order(client, traced):
    first = client.get(f"/api/v1/results/{traced['result']}/steps", {"page_size": 3}).json()
    rest = client.get(first["next"]).json()

    assert [(s["attempt"], s["index"]) for s in first["results"] + rest["results"]] == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_artifacts_of_a_run(client, traced):
    response = client.get(f"/api/v1/runs/{traced['run']}/artifacts")
    screenshots = client.get(f"/api/v1/runs/{traced['run']}/artifacts", {"kind": "screenshot"})

    assert {row["id"] for row in response.json()["results"]} == {traced["screenshot"], traced["log"]}
    assert [row["id"] for row in screenshots.json()["results"]] == [traced["screenshot"]]
    assert screenshots.json()["results"][0]["size"] == len(PNG)


def test_an_image_artifact_streams_inline_with_its_type(client, traced):
    response = client.get(f"/api/v1/artifacts/{traced['screenshot']}/content")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_other_artifacts_download_and_never_render_as_a_page(client, traced):
    response = client.get(f"/api/v1/artifacts/{traced['log']}/content")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<script>x</script>"
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]


def test_an_artifact_whose_file_is_gone_is_a_404(client, alpha, traced):
    with tenant_context(alpha.organization):
        artifact = Artifact.objects.get(pk=traced["log"])
        artifact.file.storage.delete(artifact.file.name)

    response = client.get(f"/api/v1/artifacts/{traced['log']}/content")

    assert response.status_code == 404
    assert error_of(response)["code"] == "artifact_missing"


def test_logs_read_on_from_a_sequence_number(client, traced):
    first = client.get(f"/api/v1/runs/{traced['run']}/logs", {"limit": 5}).json()
    rest = client.get(f"/api/v1/runs/{traced['run']}/logs", {"after_seq": first["last_seq"]}).json()
    nothing_new = client.get(f"/api/v1/runs/{traced['run']}/logs", {"after_seq": rest["last_seq"]}).json()

    assert [line["seq"] for line in first["results"]] == [1, 2, 3, 4, 5] and first["has_more"] is True
    assert [line["text"] for line in rest["results"]] == ["line 6", "line 7"] and rest["has_more"] is False
    assert nothing_new == {"results": [], "last_seq": 7, "has_more": False, "run_status": "failed"}


def test_logs_refuse_a_bad_sequence(client, traced):
    response = client.get(f"/api/v1/runs/{traced['run']}/logs", {"after_seq": "-1"})

    assert response.status_code == 400
    assert "after_seq" in error_of(response)["details"]


# ---------------------------------------------------------------------------------------- reports


def test_html_report_downloads(client, traced):
    response = client.get(f"/api/v1/runs/{traced['run']}/report.html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Disposition"] == 'attachment; filename="run-1-report.html"'
    assert "One" in response.content.decode()


def test_markdown_report_downloads(client, traced):
    response = client.get(f"/api/v1/runs/{traced['run']}/report.md")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert "Button not found" in response.content.decode()


def test_junit_xml_downloads_with_the_failure(client, traced):
    response = client.get(f"/api/v1/runs/{traced['run']}/junit.xml")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="run-1-junit.xml"'
    root = parse_xml(response.content)
    failures = [case for case in root.iter("testcase") if case.find("failure") is not None]
    assert len(list(root.iter("testcase"))) == 2 and len(failures) == 1


# -------------------------------------------------------------------------------- task-style paths


def test_legacy_run_answers_a_job_to_poll(client, alpha, shop):
    response = client.post("/api/v1/tests/run", {"project": str(shop["project"].pk), "tests": [str(shop["one"].pk)],
                                                 "devices": ["desktop", "mobile"]}, format="json")

    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == "queued" and job["url"] == f"/api/v1/jobs/{job['job_id']}"
    finish_results(alpha, job["job_id"], {("One", "mobile"): ResultStatus.FAILED})

    polled = client.get(job["url"]).json()

    assert polled["status"] == "failed" and polled["finished"] is True
    assert polled["summary"]["total"] == 2 and polled["summary"]["failed"] == 1
    assert [(row["device"], row["status"]) for row in polled["results"]] == [("desktop", "passed"),
                                                                              ("mobile", "failed")]
    assert polled["results"][1]["error_message"] == "Button not found"


def test_legacy_run_refuses_bad_input_like_runs(client, shop):
    response = client.post("/api/v1/tests/run", {"project": str(shop["project"].pk)}, format="json")

    assert response.status_code == 400


# -------------------------------------------------------------------------------------- command runs


def test_command_run_keeps_variable_names_not_values(client, alpha, shop):
    response = client.post("/api/v1/runs/command", {
        "project": str(shop["project"].pk), "command": "pytest -q --junitxml=report.xml", "junit_path": "report.xml",
        "env": {"SHOP_TOKEN": "tok-very-secret-42"}, "timeout_seconds": 120, "environment": "staging",
    }, format="json")

    assert response.status_code == 201, response.content
    run = response.json()
    assert run["kind"] == "command" and run["status"] == "queued"
    assert run["command"]["command"] == "pytest -q --junitxml=report.xml"
    assert run["command"]["env"] == ["SHOP_TOKEN"] and run["command"]["timeout_seconds"] == 120
    assert run["environment"] == "staging"
    assert "tok-very-secret-42" not in response.content.decode()
    with tenant_context(alpha.organization):
        assert "tok-very-secret-42" not in json.dumps(list(Run.objects.filter(pk=run["id"]).values("command")))


def test_command_run_with_an_uploaded_workspace(client, alpha, shop, stored_files):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("tests/test_ok.py", "def test_ok():\n    assert True\n")

    response = client.post("/api/v1/runs/command", {
        "project": str(shop["project"].pk), "command": "pytest -q", "env": json.dumps({"A": "1"}),
        "workspace": SimpleUploadedFile("workspace.zip", archive.getvalue(), "application/zip"),
    }, format="multipart")

    assert response.status_code == 201, response.content
    assert response.json()["command"]["env"] == ["A"]
    with tenant_context(alpha.organization):
        artifact = Artifact.objects.get(run_id=response.json()["id"], kind=ArtifactKind.WORKSPACE)
        stored_files.append(artifact.file)
        assert artifact.size == len(archive.getvalue())


@pytest.mark.parametrize(("body", "code"), [
    ({"command": ""}, "validation_error"),
    ({"command": "pytest", "workspace_path": "/etc"}, "workspace_not_allowed"),
    ({"command": "pytest", "junit_path": "../outside.xml"}, "invalid"),
    ({"command": "pytest", "env": {"1BAD": "x"}}, "invalid"),
    ({"command": "pytest", "timeout_seconds": 0}, "validation_error"),
])
def test_command_run_input_errors(client, alpha, shop, body, code):
    response = client.post("/api/v1/runs/command", {"project": str(shop["project"].pk), **body}, format="json")

    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == code
    with tenant_context(alpha.organization):
        assert not Run.objects.filter(kind=RunKind.COMMAND).exists()


def test_a_viewer_cannot_start_a_command_run(alpha, api_client, shop):
    response = api_client(alpha, user=alpha.viewer).post(
        "/api/v1/runs/command", {"project": str(shop["project"].pk), "command": "pytest"}, format="json")

    assert response.status_code == 403


# ----------------------------------------------------------------------------------------- schedules


def create_schedule(client, shop, **body) -> dict:
    response = client.post("/api/v1/schedules", {"project": str(shop["project"].pk), "suite": str(shop["suite"].pk),
                                                 "name": "Nightly", "cron": "0 3 * * *", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_a_schedule_computes_its_next_run(client, shop):
    schedule = create_schedule(client, shop, timezone="Europe/Paris", environment="staging", devices=["mobile"])

    assert schedule["enabled"] is True and schedule["next_run_at"]
    assert schedule["environment"] == "staging" and schedule["devices"] == ["mobile"]
    assert schedule["timezone"] == "Europe/Paris"
    assert client.get(f"/api/v1/schedules/{schedule['id']}").json() == schedule


@pytest.mark.parametrize(("body", "code"), [
    ({"cron": "every night"}, "invalid_cron"),
    ({"timezone": "Mars/Olympus"}, "invalid_timezone"),
    ({"suite": "{blog_suite}"}, "invalid"),
    ({"environment": "production"}, "invalid"),
    ({"devices": ["toaster"]}, "validation_error"),
])
def test_schedule_input_errors(client, alpha, shop, body, code):
    with tenant_context(alpha.organization):
        blog_suite = test_services.suite_create(project=shop["other"], actor=alpha.admin, name="Blog suite")
    body = {key: str(blog_suite.pk) if value == "{blog_suite}" else value for key, value in body.items()}

    response = client.post("/api/v1/schedules", {"project": str(shop["project"].pk), "suite": str(shop["suite"].pk),
                                                 "name": "Nightly", "cron": "0 3 * * *", **body}, format="json")

    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == code


def test_disable_filter_and_delete_a_schedule(client, shop):
    kept = create_schedule(client, shop, name="Kept")
    schedule = create_schedule(client, shop)

    disabled = client.patch(f"/api/v1/schedules/{schedule['id']}", {"enabled": False}, format="json")

    assert disabled.status_code == 200
    assert disabled.json()["enabled"] is False and disabled.json()["next_run_at"] is None
    assert [row["id"] for row in client.get("/api/v1/schedules", {"enabled": "false"}).json()["results"]] == [
        schedule["id"]]
    assert [row["id"] for row in client.get("/api/v1/schedules", {"enabled": "true"}).json()["results"]] == [
        kept["id"]]
    assert client.get("/api/v1/schedules", {"enabled": "maybe"}).status_code == 400
    assert client.delete(f"/api/v1/schedules/{schedule['id']}").status_code == 204
    assert client.get(f"/api/v1/schedules/{schedule['id']}").status_code == 404


def test_a_viewer_cannot_change_a_schedule(alpha, api_client, client, shop):
    schedule = create_schedule(client, shop)

    response = api_client(alpha, user=alpha.viewer).patch(f"/api/v1/schedules/{schedule['id']}", {"enabled": False},
                                                          format="json")

    assert response.status_code == 403
    assert client.get(f"/api/v1/schedules/{schedule['id']}").json()["enabled"] is True
