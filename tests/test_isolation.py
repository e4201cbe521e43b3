"""Tenant isolation of the API: nothing of one organization is reachable, changeable or listed from another."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiKey
from apps.audit.models import AuditEntry
from apps.generated_tests.models import Suite, Test
from apps.organizations.models import Invitation, Membership, Role
from apps.projects.models import Project
from apps.test_runs.models import Run, Schedule
from argus import api_urls
from tests.api_endpoints import APP_PLACEHOLDERS, ENDPOINTS, LIST_MODELS, LIST_PATHS, PUBLIC_OPERATIONS, org_state
from tests.conftest import error_of
from tests.factories import MembershipFactory

OBJECT_ENDPOINTS = [endpoint for endpoint in ENDPOINTS if endpoint.names_an_object]
PLACEHOLDER_BY_KWARG = {"member_id": "member", "invitation_id": "invitation", "key_id": "api_key",
                        "project_id": "project", "environment_name": "environment", "variable_name": "variable",
                        "test_id": "test", "number": "version", "suite_id": "suite", "run_id": "run",
                        "result_id": "result", "artifact_id": "artifact", "schedule_id": "schedule",
                        **APP_PLACEHOLDERS}
# Endpoints whose body (or query) names objects: naming another organization's must be refused too.
BODY_CASES = [(endpoint, "all foreign") for endpoint in ENDPOINTS if endpoint.body_placeholders] + [
    (endpoint, "foreign except the project") for endpoint in ENDPOINTS if endpoint.body_placeholders - {"project"}]


def _operations_in_urlconf() -> set[tuple[str, str]]:
    operations = set()
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        path = "/api/v1/" + re.sub(r"<\w+:(\w+)>", lambda m: "{" + PLACEHOLDER_BY_KWARG[m.group(1)] + "}",
                                   str(pattern.pattern))
        view_class = pattern.callback.view_class
        for method in view_class.http_method_names:
            if method not in ("options", "head") and hasattr(view_class, method):
                operations.add((method, path))
    return operations


def test_every_api_operation_is_listed():
    assert {(endpoint.method, endpoint.path) for endpoint in ENDPOINTS} == _operations_in_urlconf() - PUBLIC_OPERATIONS


@pytest.fixture
def alpha_ids(alpha, org_objects) -> dict[str, str]:
    return org_objects["alpha"]


@pytest.fixture
def bravo_ids(bravo, org_objects) -> dict[str, str]:
    return org_objects["bravo"]


@pytest.fixture
def credentials(request, make_api_key):
    """Signs a client in as `org`'s admin, by session or by an admin-scope API key."""

    def sign_in(org) -> dict:
        if request.param == "session":
            return {"user": org.admin}
        return {"key": make_api_key(org, org.admin, ["admin"])[1]}

    return sign_in


@pytest.mark.parametrize("credentials", ["session", "api_key"], indirect=True)
@pytest.mark.parametrize("endpoint", OBJECT_ENDPOINTS, ids=lambda endpoint: endpoint.id)
def test_another_orgs_object_id_is_not_found_and_untouched(
    endpoint, credentials, alpha, bravo, alpha_ids, bravo_ids, api_client
):
    client = api_client(alpha, **credentials(alpha))
    before = org_state(bravo)

    response = endpoint.call(client, bravo_ids)

    assert response.status_code == 404, response.content
    assert error_of(response)["code"] == "not_found"
    assert org_state(bravo) == before


@pytest.mark.parametrize(("endpoint", "mix"), BODY_CASES, ids=lambda value: getattr(value, "id", value))
def test_a_body_naming_another_orgs_objects_is_refused(endpoint, mix, alpha, bravo, alpha_ids, bravo_ids, api_client):
    ids = dict(bravo_ids) if mix == "all foreign" else {**bravo_ids, "project": alpha_ids["project"]}
    before = (org_state(alpha), org_state(bravo))

    response = endpoint.call(api_client(alpha, user=alpha.admin), ids)

    assert response.status_code == 400, response.content
    assert error_of(response)["code"] in ("validation_error", "invalid")
    assert (org_state(alpha), org_state(bravo)) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.id)
def test_api_key_is_refused_on_another_orgs_host(endpoint, alpha, bravo, alpha_ids, make_api_key, api_client):
    api_key, raw = make_api_key(alpha, alpha.admin, ["admin"])
    # The key's creator is an admin of both: only the key's own organization may stop it on bravo's host.
    MembershipFactory(user=alpha.admin, organization=bravo.organization, role=Role.ADMIN)
    before = (org_state(alpha), org_state(bravo))

    response = endpoint.call(api_client(bravo, key=raw), alpha_ids)

    assert response.status_code == 401, response.content
    assert error_of(response)["code"] == "authentication_failed"
    assert (org_state(alpha), org_state(bravo)) == before
    api_key.refresh_from_db()
    assert api_key.last_used_at is None
    # The same key on its own host is accepted: the refusal above is about the host.
    assert api_client(alpha, key=raw).get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.id)
def test_session_of_another_orgs_member_is_unauthenticated(endpoint, alpha, bravo, alpha_ids, api_client):
    # Django's test client sends the session cookie to every host, as a shared cookie domain would.
    client = api_client(alpha, user=bravo.admin)
    before = (org_state(alpha), org_state(bravo))

    response = endpoint.call(client, alpha_ids)

    assert response.status_code == 401, response.content
    assert error_of(response)["code"] == "not_authenticated"
    assert (org_state(alpha), org_state(bravo)) == before


def _rows_of(org, path: str) -> set[str]:
    """Ids of every row of `org` that the list endpoint at `path` could show."""
    organization = org.organization
    if path == "/api/v1/members":
        return {str(pk) for pk in Membership.objects.filter(organization=organization).values_list("pk", flat=True)}
    if path == "/api/v1/invitations":
        return {str(pk) for pk in Invitation.objects.filter(organization=organization).values_list("pk", flat=True)}
    if path == "/api/v1/api-keys":
        return {str(pk) for pk in ApiKey.objects.filter(organization=organization).values_list("pk", flat=True)}
    model = {"/api/v1/projects": Project, "/api/v1/audit-log": AuditEntry, "/api/v1/tests": Test,
             "/api/v1/suites": Suite, "/api/v1/runs": Run, "/api/v1/schedules": Schedule, **LIST_MODELS}[path]
    with tenant_context(organization):
        return {str(pk) for pk in model.objects.values_list("pk", flat=True)}


@pytest.mark.parametrize("credentials", ["session", "api_key"], indirect=True)
@pytest.mark.parametrize("path", LIST_PATHS)
def test_lists_show_only_the_hosts_organization(path, credentials, alpha, bravo, alpha_ids, bravo_ids, api_client):
    client = api_client(bravo, **credentials(bravo))
    alpha_rows, bravo_rows = _rows_of(alpha, path), _rows_of(bravo, path)
    foreign_ids = alpha_rows | set(alpha_ids.values())

    listed: list[dict] = []
    for query in ({"page_size": 200}, {"page_size": 200, "archived": "true"}):
        response = client.get(path, query)
        assert response.status_code == 200, response.content
        listed += response.json()["results"]

    listed_ids = {row["id"] for row in listed}
    assert listed_ids, "the list is empty, so it proves nothing"
    assert listed_ids <= bravo_rows
    assert not listed_ids & foreign_ids
    assert not {row.get("object_id") for row in listed} & foreign_ids


def test_role_follows_the_host_for_a_member_of_two_orgs(alpha, bravo, api_client):
    MembershipFactory(user=bravo.viewer, organization=alpha.organization, role=Role.ADMIN)

    on_alpha = api_client(alpha, user=bravo.viewer).get("/api/v1/me").json()
    on_bravo = api_client(bravo, user=bravo.viewer).get("/api/v1/me").json()

    assert (on_alpha["organization"], on_alpha["role"]) == ("alpha", "admin")
    assert (on_bravo["organization"], on_bravo["role"]) == ("bravo", "viewer")
