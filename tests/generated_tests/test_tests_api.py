"""Tests API: create, filters, versions, restore, delete, import (JSON and file), validate, export."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.generated_tests import services as test_services
from apps.generated_tests.models import Test, TestVersion
from apps.projects.services import project_archive, project_create
from tests.conftest import error_of

STEPS = {"version": 1, "start_url": "/", "steps": [
    {"action": "goto", "url": "/products"},
    {"action": "click", "target": {"locators": [{"kind": "test_id", "value": "add-to-cart"}]}},
    {"action": "assert_text", "target": {"locators": [{"kind": "css", "value": "#cart-count"}]}, "text": "1"},
]}
MORE_STEPS = {**STEPS, "steps": [*STEPS["steps"], {"action": "screenshot", "name": "cart"}]}
# Step 1 lacks its target; step 2 is an unknown action.
BAD_STEPS = {"version": 1, "steps": [{"action": "goto", "url": "/"}, {"action": "click"}, {"action": "fly"}]}


@pytest.fixture
def project(alpha):
    with tenant_context(alpha.organization):
        return project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example.com/",
                              environments={"staging": "https://staging.shop.example.com/"})


@pytest.fixture
def client(alpha, api_client):
    return api_client(alpha, user=alpha.developer)


def create(client, project, **body) -> dict:
    response = client.post("/api/v1/tests", {"project": str(project.pk), "name": "Add to cart", "definition": STEPS,
                                             **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create(client, alpha, project):
    created = create(client, project, tags=["Smoke", "cart"], description="Puts a product in the cart")

    assert created["name"] == "Add to cart" and created["project"] == str(project.pk)
    assert created["version"] == 1 and created["step_count"] == 3
    assert created["status"] == "draft" and created["origin"] == "manual"
    assert created["tags"] == ["smoke", "cart"]
    assert created["definition"] == STEPS
    assert created["created_by"] == alpha.developer.email
    with tenant_context(alpha.organization):
        assert AuditEntry.objects.filter(action="test.created", object_id=created["id"],
                                         actor_email=alpha.developer.email).exists()


def test_invalid_steps_answer_400_naming_each_step(client, alpha, project):
    response = client.post("/api/v1/tests", {"project": str(project.pk), "name": "Broken", "definition": BAD_STEPS},
                           format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_steps"
    assert set(error["details"]) == {"steps[1]", "steps[2]"}
    assert "target" in error["details"]["steps[1]"][0]
    assert error["message"].startswith("Step 1 is invalid")
    with tenant_context(alpha.organization):
        assert not Test.objects.filter(name="Broken").exists()


@pytest.mark.parametrize("definition", [None, "steps", [], {"version": 2, "steps": [{"action": "goto", "url": "/"}]}])
def test_a_definition_that_is_not_a_steps_document_is_refused(client, project, definition):
    response = client.post("/api/v1/tests", {"project": str(project.pk), "name": "X", "definition": definition},
                           format="json")

    assert response.status_code == 400
    assert error_of(response)["code"] in ("invalid_steps", "validation_error")


def test_an_unknown_project_is_a_validation_error(client, bravo):
    with tenant_context(bravo.organization):
        foreign = project_create(actor=bravo.admin, name="Theirs", base_url="https://theirs.example.com/")

    for project_id in (str(foreign.pk), "not-a-uuid"):
        response = client.post("/api/v1/tests", {"project": project_id, "name": "X", "definition": STEPS},
                               format="json")
        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "validation_error" and "project" in error["details"]


def test_a_duplicate_name_conflicts(client, project):
    create(client, project)

    response = client.post("/api/v1/tests", {"project": str(project.pk), "name": "Add to cart", "definition": STEPS},
                           format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "name_taken"


def test_an_archived_project_refuses_new_tests(client, alpha, project):
    with tenant_context(alpha.organization):
        project_archive(project=project, actor=alpha.admin)

    response = client.post("/api/v1/tests", {"project": str(project.pk), "name": "X", "definition": STEPS},
                           format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "archived"


def test_a_viewer_cannot_create(alpha, api_client, project):
    response = api_client(alpha, user=alpha.viewer).post(
        "/api/v1/tests", {"project": str(project.pk), "name": "X", "definition": STEPS}, format="json")

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


def _make_tests(alpha, project) -> dict[str, Test]:
    with tenant_context(alpha.organization):
        other = project_create(actor=alpha.admin, name="Blog", base_url="https://blog.example.com/")
        return {
            "cart": test_services.test_create(project=project, actor=alpha.admin, name="Cart", definition=STEPS,
                                              tags=["smoke"], status="approved"),
            "login": test_services.test_create(project=project, actor=alpha.admin, name="Login", definition=STEPS,
                                               origin="generated", status="pending_review"),
            "search": test_services.test_create(project=project, actor=alpha.admin, name="Search box",
                                                definition=STEPS, tags=["smoke", "search"]),
            "blog": test_services.test_create(project=other, actor=alpha.admin, name="Blog home", definition=STEPS),
        }


@pytest.mark.parametrize(("query", "expected"), [
    ({}, {"cart", "login", "search", "blog"}),
    ({"status": "approved"}, {"cart"}),
    ({"origin": "generated"}, {"login"}),
    ({"tag": "SMOKE"}, {"cart", "search"}),
    ({"search": "sea"}, {"search"}),
    ({"tag": "smoke", "search": "cart"}, {"cart"}),
])
def test_list_filters(client, alpha, project, query, expected):
    made = _make_tests(alpha, project)
    names = {str(test.pk): key for key, test in made.items()}

    response = client.get("/api/v1/tests", query)

    assert response.status_code == 200
    assert {names[row["id"]] for row in response.json()["results"]} == expected
    assert "definition" not in response.json()["results"][0]


def test_list_filters_by_project(client, alpha, project):
    made = _make_tests(alpha, project)

    rows = client.get("/api/v1/tests", {"project": str(project.pk)}).json()["results"]

    assert {row["id"] for row in rows} == {str(made[key].pk) for key in ("cart", "login", "search")}


@pytest.mark.parametrize("query", [{"status": "finished"}, {"origin": "magic"}, {"project": "nope"}])
def test_list_refuses_unknown_filter_values(client, query):
    response = client.get("/api/v1/tests", query)

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"


def test_list_pages_with_a_cursor_in_constant_queries(client, alpha, project):
    with tenant_context(alpha.organization):
        for index in range(5):
            test_services.test_create(project=project, actor=alpha.admin, name=f"T{index}", definition=STEPS)

    with CaptureQueriesContext(connection) as small:
        first = client.get("/api/v1/tests", {"page_size": 2, "ordering": "name"})
    with CaptureQueriesContext(connection) as large:
        client.get("/api/v1/tests", {"page_size": 5})
    second = client.get(first.json()["next"])

    assert [row["name"] for row in first.json()["results"]] == ["T0", "T1"]
    assert [row["name"] for row in second.json()["results"]] == ["T2", "T3"]
    assert len(large.captured_queries) == len(small.captured_queries)


def test_detail_and_not_found(client, project):
    created = create(client, project)

    assert client.get(f"/api/v1/tests/{created['id']}").json() == created
    missing = client.get("/api/v1/tests/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


def test_changing_the_definition_makes_a_version_with_its_note(client, project):
    created = create(client, project)

    changed = client.patch(f"/api/v1/tests/{created['id']}", {"definition": MORE_STEPS, "change_note": "Screenshot"},
                           format="json")
    relabelled = client.patch(f"/api/v1/tests/{created['id']}", {"status": "approved", "tags": ["cart"]},
                              format="json")

    assert changed.status_code == 200, changed.content
    assert changed.json()["version"] == 2 and changed.json()["definition"] == MORE_STEPS
    assert relabelled.json()["version"] == 2
    assert relabelled.json()["status"] == "approved" and relabelled.json()["tags"] == ["cart"]
    versions = client.get(f"/api/v1/tests/{created['id']}/versions").json()["results"]
    assert [(v["number"], v["change_note"]) for v in versions] == [(2, "Screenshot"), (1, "Created")]
    assert versions[1]["definition"] == STEPS


def test_invalid_steps_on_update_change_nothing(client, alpha, project):
    created = create(client, project)

    response = client.patch(f"/api/v1/tests/{created['id']}", {"definition": BAD_STEPS, "name": "Renamed"},
                            format="json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_steps"
    assert "steps[1]" in error_of(response)["details"]
    with tenant_context(alpha.organization):
        test = Test.objects.get(pk=created["id"])
        assert (test.name, test.version, test.definition) == ("Add to cart", 1, STEPS)
        assert TestVersion.objects.filter(test=test).count() == 1


def test_restore_a_version(client, project):
    created = create(client, project)
    client.patch(f"/api/v1/tests/{created['id']}", {"definition": MORE_STEPS}, format="json")

    restored = client.post(f"/api/v1/tests/{created['id']}/versions/1/restore")
    missing = client.post(f"/api/v1/tests/{created['id']}/versions/9/restore")

    assert restored.status_code == 200
    assert restored.json()["version"] == 3 and restored.json()["definition"] == STEPS
    versions = client.get(f"/api/v1/tests/{created['id']}/versions").json()["results"]
    assert versions[0]["change_note"] == "Restored v1"
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


def test_delete(client, alpha, project):
    created = create(client, project)

    response = client.delete(f"/api/v1/tests/{created['id']}")

    assert response.status_code == 204
    assert client.get(f"/api/v1/tests/{created['id']}").status_code == 404
    with tenant_context(alpha.organization):
        assert AuditEntry.objects.filter(action="test.deleted", object_id=created["id"]).exists()


# ------------------------------------------------------------------------------------------ import


DOCUMENT = {"tests": [{"name": "Imported one", **STEPS, "tags": ["imported"]},
                      {"name": "Imported two", "version": 1, "steps": [{"action": "goto", "url": "/about"}]}]}


def test_import_a_json_document(client, alpha, project):
    response = client.post("/api/v1/tests/import", {"project": str(project.pk), "document": DOCUMENT}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] == 2
    assert [test["name"] for test in body["tests"]] == ["Imported one", "Imported two"]
    assert body["tests"][0]["tags"] == ["imported"]
    with tenant_context(alpha.organization):
        assert Test.objects.get(name="Imported two").definition["steps"] == [{"action": "goto", "url": "/about"}]


def test_import_an_uploaded_file(client, alpha, project):
    upload = SimpleUploadedFile("tests.json", json.dumps(DOCUMENT["tests"][0]).encode(), "application/json")

    response = client.post("/api/v1/tests/import", {"project": str(project.pk), "file": upload}, format="multipart")

    assert response.status_code == 201, response.content
    assert response.json()["created"] == 1
    with tenant_context(alpha.organization):
        assert Test.objects.get(name="Imported one").definition == STEPS


def test_import_refuses_a_file_that_is_not_json(client, project):
    upload = SimpleUploadedFile("tests.json", b"{not json", "application/json")

    response = client.post("/api/v1/tests/import", {"project": str(project.pk), "file": upload}, format="multipart")

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_import"


def test_import_is_all_or_nothing(client, alpha, project):
    document = {"tests": [DOCUMENT["tests"][0], {"name": "Broken", **BAD_STEPS}]}

    response = client.post("/api/v1/tests/import", {"project": str(project.pk), "document": document}, format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_steps"
    assert "tests[1].steps[1]" in error["details"]
    with tenant_context(alpha.organization):
        assert not Test.objects.filter(project=project).exists()


def test_import_refuses_an_oversized_upload(client, alpha, project, settings):
    settings.ARGUS_UPLOAD_MAX_BYTES = 200
    payload = json.dumps({"name": "Big", **STEPS, "description": "x" * 500}).encode()

    response = client.post("/api/v1/tests/import", {"project": str(project.pk),
                                                    "file": SimpleUploadedFile("big.json", payload)},
                           format="multipart")

    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    with tenant_context(alpha.organization):
        assert not Test.objects.filter(project=project).exists()


# ---------------------------------------------------------------------------------------- validate


def test_validate_a_valid_definition(alpha, api_client):
    # Checking changes nothing, so a viewer may do it.
    response = api_client(alpha, user=alpha.viewer).post("/api/v1/tests/validate", {"definition": STEPS},
                                                         format="json")

    assert response.status_code == 200
    assert response.json() == {"valid": True}


def test_validate_names_every_bad_step(client):
    response = client.post("/api/v1/tests/validate", {"definition": BAD_STEPS}, format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_steps"
    assert set(error["details"]) == {"steps[1]", "steps[2]"}
    assert "action must be one of" in error["details"]["steps[2]"][0]


def test_validate_needs_a_definition(client):
    response = client.post("/api/v1/tests/validate", {}, format="json")

    assert response.status_code == 400
    assert error_of(response)["details"] == {"definition": ["This field is required."]}


# ------------------------------------------------------------------------------------------ export


def test_export_is_a_runnable_pytest_file_for_the_project_url(client, project):
    created = create(client, project)

    response = client.get(f"/api/v1/tests/{created['id']}/export")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/x-python")
    assert response["Content-Disposition"] == 'attachment; filename="test_add_to_cart.py"'
    code = response.content.decode()
    compile(code, "test_add_to_cart.py", "exec")
    assert "https://shop.example.com/" in code
    assert "add-to-cart" in code


def test_export_targets_a_chosen_environment(client, project):
    created = create(client, project)

    code = client.get(f"/api/v1/tests/{created['id']}/export", {"environment": "staging"}).content.decode()

    assert "https://staging.shop.example.com/" in code
    assert "https://shop.example.com/" not in code


@pytest.mark.parametrize("environment", ["production", "moon"])
def test_export_refuses_an_environment_the_project_lacks(client, project, environment):
    created = create(client, project)

    response = client.get(f"/api/v1/tests/{created['id']}/export", {"environment": environment})

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
