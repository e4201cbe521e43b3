"""Suites API: ordered tests, default environment and devices, foreign ids refused, constant list queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.generated_tests import services as test_services
from apps.generated_tests.models import Suite, SuiteTest
from apps.projects.services import project_create
from tests.conftest import error_of

STEPS = {"version": 1, "start_url": "/", "steps": [{"action": "goto", "url": "/"}]}


@pytest.fixture
def made(alpha):
    """A project with three tests, and a second project with one."""
    with tenant_context(alpha.organization):
        project = project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example.com/",
                                 environments={"staging": "https://staging.shop.example.com/"})
        other = project_create(actor=alpha.admin, name="Blog", base_url="https://blog.example.com/")
        tests = [test_services.test_create(project=project, actor=alpha.admin, name=name, definition=STEPS)
                 for name in ("Home", "Cart", "Checkout")]
        foreign = test_services.test_create(project=other, actor=alpha.admin, name="Blog home", definition=STEPS)
    return {"project": project, "other": other, "tests": [str(test.pk) for test in tests], "foreign": str(foreign.pk)}


@pytest.fixture
def client(alpha, api_client):
    return api_client(alpha, user=alpha.developer)


def create(client, made, **body) -> dict:
    response = client.post("/api/v1/suites", {"project": str(made["project"].pk), "name": "Smoke", **body},
                           format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_keeps_the_test_order_and_defaults(client, alpha, made):
    order = [made["tests"][2], made["tests"][0]]

    created = create(client, made, tests=order, default_environment="staging",
                     default_devices=["desktop", "iphone-15"], description="Before each deploy")

    assert created["tests"] == order and created["test_count"] == 2
    assert created["default_environment"] == "staging"
    assert created["default_devices"] == ["desktop", "iphone-15"]
    assert created["description"] == "Before each deploy"
    with tenant_context(alpha.organization):
        suite = Suite.objects.get(pk=created["id"])
        assert [str(pk) for pk in suite.ordered_tests().values_list("pk", flat=True)] == order
        assert AuditEntry.objects.filter(action="suite.created", object_id=created["id"]).exists()


def test_a_test_of_another_project_is_refused(client, alpha, made):
    response = client.post("/api/v1/suites", {"project": str(made["project"].pk), "name": "Mixed",
                                              "tests": [made["tests"][0], made["foreign"]]}, format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["details"] == {"tests": [f"Unknown test: {made['foreign']}"]}
    with tenant_context(alpha.organization):
        assert not Suite.objects.filter(name="Mixed").exists()


def test_a_test_of_another_organization_is_refused(client, bravo, made):
    with tenant_context(bravo.organization):
        theirs = project_create(actor=bravo.admin, name="Theirs", base_url="https://theirs.example.com/")
        their_test = test_services.test_create(project=theirs, actor=bravo.admin, name="Theirs", definition=STEPS)

    response = client.post("/api/v1/suites", {"project": str(made["project"].pk), "name": "Mixed",
                                              "tests": [str(their_test.pk)]}, format="json")

    assert response.status_code == 400
    assert error_of(response)["details"] == {"tests": [f"Unknown test: {their_test.pk}"]}


@pytest.mark.parametrize(("body", "field"), [
    ({"default_devices": ["desktop", "toaster"]}, "default_devices"),
    ({"default_environment": "moon"}, "default_environment"),
    ({"tests": ["not-a-uuid"]}, "tests"),
    ({"name": ""}, "name"),
])
def test_invalid_input_names_the_field(client, made, body, field):
    response = client.post("/api/v1/suites", {"project": str(made["project"].pk), "name": "Smoke", **body},
                           format="json")

    assert response.status_code == 400
    assert field in error_of(response)["details"]


def test_update_reorders_and_changes_defaults(client, alpha, made):
    created = create(client, made, tests=made["tests"])

    response = client.patch(f"/api/v1/suites/{created['id']}", {
        "tests": [made["tests"][1], made["tests"][0]], "default_devices": ["pixel-8"], "name": "Smoke v2",
    }, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tests"] == [made["tests"][1], made["tests"][0]]
    assert body["default_devices"] == ["pixel-8"] and body["name"] == "Smoke v2"
    assert client.get(f"/api/v1/suites/{created['id']}").json() == body
    with tenant_context(alpha.organization):
        assert SuiteTest.objects.filter(suite_id=created["id"]).count() == 2


def test_update_refuses_a_foreign_test_and_keeps_the_suite(client, alpha, made):
    created = create(client, made, tests=made["tests"][:1])

    response = client.patch(f"/api/v1/suites/{created['id']}", {"tests": [made["foreign"]]}, format="json")

    assert response.status_code == 400
    assert client.get(f"/api/v1/suites/{created['id']}").json()["tests"] == made["tests"][:1]


def test_duplicate_name_conflicts(client, made):
    create(client, made)

    response = client.post("/api/v1/suites", {"project": str(made["project"].pk), "name": "Smoke"}, format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "name_taken"


def test_list_filters_by_project_in_constant_queries(client, alpha, made):
    with tenant_context(alpha.organization):
        test_services.suite_create(project=made["other"], actor=alpha.admin, name="Blog suite",
                                   tests=[made["foreign"]])
    create(client, made, name="One", tests=made["tests"][:1])

    with CaptureQueriesContext(connection) as few:
        one = client.get("/api/v1/suites", {"project": str(made["project"].pk)})
    for index in range(4):
        create(client, made, name=f"More {index}", tests=made["tests"])
    with CaptureQueriesContext(connection) as many:
        five = client.get("/api/v1/suites", {"project": str(made["project"].pk)})

    assert [row["name"] for row in one.json()["results"]] == ["One"]
    assert len(five.json()["results"]) == 5
    assert all(row["tests"] == made["tests"] for row in five.json()["results"] if row["name"].startswith("More"))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_delete(client, made):
    created = create(client, made)

    assert client.delete(f"/api/v1/suites/{created['id']}").status_code == 204
    assert client.get(f"/api/v1/suites/{created['id']}").status_code == 404


def test_a_viewer_reads_but_cannot_write(alpha, api_client, client, made):
    created = create(client, made)
    viewer = api_client(alpha, user=alpha.viewer)

    assert viewer.get(f"/api/v1/suites/{created['id']}").status_code == 200
    response = viewer.patch(f"/api/v1/suites/{created['id']}", {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
