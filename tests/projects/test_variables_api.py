"""Environment variables API: set, list (secrets never returned), delete, audited without values."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.projects.models import EnvironmentVariable
from apps.projects.services import project_archive, project_create
from tests.conftest import error_of

SECRET = "sk_live_4f8a9c2e7d"


@pytest.fixture
def project(alpha):
    with tenant_context(alpha.organization):
        return project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example.com/",
                              environments={"staging": "https://staging.shop.example.com/",
                                            "production": "https://shop.example.com/"})


@pytest.fixture
def client(alpha, api_client):
    return api_client(alpha, user=alpha.developer)


def url(project, environment: str = "staging", name: str = "") -> str:
    path = f"/api/v1/projects/{project.pk}/environments/{environment}/variables"
    return f"{path}/{name}" if name else path


def put(client, project, environment: str = "staging", **body):
    return client.put(url(project, environment), body, format="json")


def test_set_and_list(client, project):
    plain = put(client, project, name="BASE_PATH", value="/shop")
    secret = put(client, project, name="API_TOKEN", value=SECRET, is_secret=True)

    assert plain.status_code == 200, plain.content
    assert plain.json()["value"] == "/shop" and plain.json()["is_secret"] is False
    assert secret.status_code == 200
    assert secret.json()["value"] is None and secret.json()["is_secret"] is True
    listed = client.get(url(project))
    assert listed.status_code == 200
    assert [(row["name"], row["value"], row["is_secret"]) for row in listed.json()] == [
        ("API_TOKEN", None, True), ("BASE_PATH", "/shop", False)]
    assert SECRET not in listed.content.decode()


def test_variables_belong_to_one_environment(client, project):
    put(client, project, name="BASE_PATH", value="/staging")
    put(client, project, "production", name="BASE_PATH", value="/prod")

    assert [row["value"] for row in client.get(url(project)).json()] == ["/staging"]
    assert [row["value"] for row in client.get(url(project, "production")).json()] == ["/prod"]


def test_setting_again_replaces_the_value(client, alpha, project):
    put(client, project, name="API_TOKEN", value="old", is_secret=True)

    response = put(client, project, name="API_TOKEN", value=SECRET, is_secret=True)

    assert response.status_code == 200
    with tenant_context(alpha.organization):
        variable = EnvironmentVariable.objects.get(name="API_TOKEN")
        assert variable.value == SECRET and variable.is_secret
        assert EnvironmentVariable.objects.count() == 1


def test_the_audit_trail_never_holds_a_value(client, alpha, project):
    put(client, project, name="API_TOKEN", value=SECRET, is_secret=True)
    put(client, project, name="API_TOKEN", value=SECRET + "2", is_secret=True)
    client.delete(url(project, name="API_TOKEN"))

    with tenant_context(alpha.organization):
        entries = list(AuditEntry.objects.filter(object_type="environmentvariable").order_by("created_at"))
    assert [entry.action for entry in entries] == ["variable.created", "variable.updated", "variable.deleted"]
    assert entries[1].changes == {"environment": "staging", "name": "API_TOKEN", "is_secret": True,
                                  "value_changed": True}
    assert all(entry.actor_email == alpha.developer.email for entry in entries)
    assert SECRET not in json.dumps([entry.changes for entry in entries] + [entry.object_repr for entry in entries])


def test_setting_the_same_value_again_is_not_audited(client, alpha, project):
    put(client, project, name="BASE_PATH", value="/shop")
    put(client, project, name="BASE_PATH", value="/shop")

    with tenant_context(alpha.organization):
        assert AuditEntry.objects.filter(object_type="environmentvariable").count() == 1


def test_delete(client, alpha, project):
    put(client, project, name="API_TOKEN", value=SECRET, is_secret=True)

    response = client.delete(url(project, name="API_TOKEN"))
    again = client.delete(url(project, name="API_TOKEN"))

    assert response.status_code == 204
    assert again.status_code == 404 and error_of(again)["code"] == "not_found"
    assert client.get(url(project)).json() == []


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "api_token", "value": "x"}, "name"),
    ({"name": "1TOKEN", "value": "x"}, "name"),
    ({"name": "TOKEN"}, "value"),
    ({"name": "T" * 65, "value": "x"}, "name"),
    ({"name": "TOKEN", "value": "x", "is_secret": "perhaps"}, "is_secret"),
])
def test_invalid_input_is_a_400_naming_the_field(client, alpha, project, body, field):
    response = client.put(url(project), body, format="json")

    assert response.status_code == 400
    assert field in error_of(response)["details"]
    with tenant_context(alpha.organization):
        assert not EnvironmentVariable.objects.exists()


@pytest.mark.parametrize("environment", ["dev", "moon"])
def test_an_environment_the_project_lacks_is_not_found(client, project, environment):
    for response in (client.get(url(project, environment)),
                     put(client, project, environment, name="X", value="1")):
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_an_archived_project_is_read_only(client, alpha, project):
    put(client, project, name="BASE_PATH", value="/shop")
    with tenant_context(alpha.organization):
        project_archive(project=project, actor=alpha.admin)

    response = put(client, project, name="BASE_PATH", value="/changed")

    assert response.status_code == 409
    assert error_of(response)["code"] == "archived"
    assert client.get(url(project)).json()[0]["value"] == "/shop"


def test_a_viewer_reads_but_cannot_write(alpha, api_client, client, project):
    put(client, project, name="BASE_PATH", value="/shop")
    viewer = api_client(alpha, user=alpha.viewer)

    assert viewer.get(url(project)).json()[0]["value"] == "/shop"
    for response in (viewer.put(url(project), {"name": "X", "value": "1"}, format="json"),
                     viewer.delete(url(project, name="BASE_PATH"))):
        assert response.status_code == 403
        assert error_of(response)["code"] == "permission_denied"
