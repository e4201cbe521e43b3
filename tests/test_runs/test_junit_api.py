"""JUnit upload API: a report of any tool becomes a finished run (multipart or raw XML body); malformed,
dangerous or oversized reports are refused with the error envelope and store nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring as parse_xml
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.projects.services import project_create
from apps.test_runs.models import Artifact, Run
from tests.conftest import error_of

SAMPLES = Path(__file__).parent / "junit_samples"
PYTEST_XML = (SAMPLES / "pytest.xml").read_bytes()
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                  b'<testsuite><testcase name="&lol2;"/></testsuite>')


@pytest.fixture
def project(alpha):
    with tenant_context(alpha.organization):
        return project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example.com/")


@pytest.fixture
def client(alpha, api_client):
    return api_client(alpha, user=alpha.developer)


@pytest.fixture
def cleanup(alpha):
    """Deletes the stored report files of the runs a test imported (the database rolls back, storage doesn't)."""
    yield
    with tenant_context(alpha.organization):
        for artifact in Artifact.objects.filter(run__kind="import"):
            artifact.file.storage.delete(artifact.file.name)


def test_upload_a_report_as_multipart(client, alpha, project, cleanup):
    response = client.post("/api/v1/runs/junit", {
        "project": str(project.pk), "file": SimpleUploadedFile("report.xml", PYTEST_XML, "application/xml"),
        "name": "CI #81", "branch": "main", "commit": "abc1234", "build_url": "https://ci.example.com/81",
    }, format="multipart")

    assert response.status_code == 201, response.content
    run = response.json()
    assert run["kind"] == "import" and run["status"] == "failed" and run["trigger"] == "manual"
    assert (run["total"], run["passed"], run["failed"], run["errored"], run["skipped"]) == (4, 1, 1, 1, 1)
    assert run["metadata"] == {"name": "CI #81", "branch": "main", "commit": "abc1234",
                               "build_url": "https://ci.example.com/81"}
    results = client.get(f"/api/v1/runs/{run['id']}/results").json()["results"]
    assert {row["name"]: row["status"] for row in results} == {
        "test_add_to_cart": "passed", "test_total_includes_tax": "failed", "test_coupon_expired": "skipped",
        "test_pay": "error"}
    stored = client.get(f"/api/v1/runs/{run['id']}/artifacts", {"kind": "junit"}).json()["results"]
    assert len(stored) == 1
    assert b"".join(client.get(stored[0]["content_url"]).streaming_content) == PYTEST_XML


def test_upload_a_raw_xml_body_with_an_api_key(alpha, api_client, make_api_key, project, cleanup):
    _key, raw = make_api_key(alpha, alpha.developer, ["write"])

    response = api_client(alpha, key=raw).post(
        f"/api/v1/runs/junit?project={project.pk}&branch=release-2", PYTEST_XML, content_type="application/xml")

    assert response.status_code == 201, response.content
    run = response.json()
    assert run["trigger"] == "api" and run["total"] == 4 and run["metadata"] == {"branch": "release-2"}


def test_text_xml_is_accepted_too(client, project, cleanup):
    response = client.post(f"/api/v1/runs/junit?project={project.pk}", PYTEST_XML, content_type="text/xml")

    assert response.status_code == 201, response.content


def test_the_imported_run_exports_back_as_junit(client, project, cleanup):
    run = client.post(f"/api/v1/runs/junit?project={project.pk}", PYTEST_XML, content_type="application/xml").json()

    exported = parse_xml(client.get(run["links"]["junit_xml"]).content)

    cases = {case.get("name"): case for case in exported.iter("testcase")}
    assert set(cases) == {"test_add_to_cart", "test_total_includes_tax", "test_coupon_expired", "test_pay"}
    assert cases["test_total_includes_tax"].find("failure") is not None
    assert cases["test_total_includes_tax"].get("classname") == "tests.test_cart"


@pytest.mark.parametrize(("payload", "code"), [
    (b"<testsuite><testcase name='x'>", "invalid_junit"),
    (b"not xml at all", "invalid_junit"),
    (b"<html><body>nope</body></html>", "invalid_junit"),
    (BILLION_LAUGHS, "invalid_junit"),
    (b"", "invalid_junit"),
])
def test_a_bad_report_is_a_400_that_stores_nothing(client, alpha, project, payload, code):
    response = client.post(f"/api/v1/runs/junit?project={project.pk}", payload, content_type="application/xml")

    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == code
    with tenant_context(alpha.organization):
        assert not Run.objects.exists() and not Artifact.objects.exists()


def test_an_oversized_report_is_a_413(client, alpha, project, settings):
    settings.ARGUS_UPLOAD_MAX_BYTES = 1000

    raw = client.post(f"/api/v1/runs/junit?project={project.pk}", PYTEST_XML, content_type="application/xml")
    multipart = client.post("/api/v1/runs/junit", {"project": str(project.pk),
                                                   "file": SimpleUploadedFile("report.xml", PYTEST_XML)},
                            format="multipart")

    for response in (raw, multipart):
        assert response.status_code == 413
        assert error_of(response)["code"] == "too_large"
    with tenant_context(alpha.organization):
        assert not Run.objects.exists()


@pytest.mark.parametrize("query", ["", "?project=00000000-0000-0000-0000-000000000000", "?project=nope"])
def test_the_project_is_required_and_must_exist(client, query):
    response = client.post(f"/api/v1/runs/junit{query}", PYTEST_XML, content_type="application/xml")

    assert response.status_code == 400
    assert "project" in error_of(response)["details"]


def test_a_multipart_upload_needs_its_file(client, project):
    response = client.post("/api/v1/runs/junit", {"project": str(project.pk)}, format="multipart")

    assert response.status_code == 400
    assert "file" in error_of(response)["details"]


def test_another_content_type_is_refused(client, project):
    response = client.post("/api/v1/runs/junit", {"project": str(project.pk)}, format="json")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_a_viewer_cannot_upload(alpha, api_client, project):
    response = api_client(alpha, user=alpha.viewer).post(f"/api/v1/runs/junit?project={project.pk}", PYTEST_XML,
                                                         content_type="application/xml")

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
