"""Role matrix of the API: what a viewer, a developer and an admin may do, by session and by API key."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django_tenants.utils import tenant_context

from apps.organizations.models import Role
from apps.organizations.services import membership_change_role, membership_remove
from apps.projects.models import Project
from apps.projects.services import project_archive
from tests.api_endpoints import ENDPOINTS, org_state
from tests.conftest import error_of

ROLES = (Role.VIEWER, Role.DEVELOPER, Role.ADMIN)
# Expected status for (viewer, developer, admin).
EXPECTED = {endpoint.id: endpoint.roles for endpoint in ENDPOINTS}
SCOPE_ACTS_AS = {"read": Role.VIEWER, "write": Role.DEVELOPER, "admin": Role.ADMIN}


def expected_status(endpoint, role: str) -> int:
    return EXPECTED[endpoint.id][ROLES.index(role)]


def test_matrix_is_monotonic_in_role():
    # A higher role may do everything a lower one may: a 403 never follows an allowed status.
    for endpoint in ENDPOINTS:
        statuses = EXPECTED[endpoint.id]
        assert len(statuses) == len(ROLES), endpoint.id
        denied = [status == 403 for status in statuses]
        assert denied == sorted(denied, reverse=True), f"{endpoint.id}: {statuses}"


@pytest.fixture
def objects(alpha, org_objects) -> Callable[..., dict[str, str]]:
    return lambda endpoint: _objects(alpha, endpoint, org_objects["alpha"])


def _objects(alpha, endpoint, ids: dict[str, str]) -> dict[str, str]:
    if endpoint.path == "/api/v1/projects/{project}/restore":
        # Restoring must have something to restore, so that "allowed" visibly changes state.
        with tenant_context(alpha.organization):
            project_archive(project=Project.objects.get(pk=ids["project"]), actor=alpha.admin)
    return ids


def _assert_outcome(response, endpoint, expected: int, before: dict, after: dict) -> None:
    assert response.status_code == expected, response.content
    if expected == 403:
        assert error_of(response)["code"] == "permission_denied"
        assert after == before
    elif endpoint.is_write:
        assert after != before, "an allowed write changed nothing"
    else:
        assert after == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.id)
@pytest.mark.parametrize("role", ROLES)
def test_session_role_matrix(role, endpoint, alpha, objects, api_client):
    ids = objects(endpoint)
    client = api_client(alpha, user=alpha.users[role])
    before = org_state(alpha)

    response = endpoint.call(client, ids)

    _assert_outcome(response, endpoint, expected_status(endpoint, role), before, org_state(alpha))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.id)
@pytest.mark.parametrize("scope", SCOPE_ACTS_AS)
def test_api_key_scope_matrix(scope, endpoint, alpha, objects, make_api_key, api_client):
    ids = objects(endpoint)
    _api_key, raw = make_api_key(alpha, alpha.admin, [scope])
    before = org_state(alpha)

    response = endpoint.call(api_client(alpha, key=raw), ids)

    _assert_outcome(response, endpoint, expected_status(endpoint, SCOPE_ACTS_AS[scope]), before, org_state(alpha))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.id)
def test_admin_scope_key_of_a_developer_acts_as_developer(endpoint, alpha, objects, make_api_key, api_client):
    ids = objects(endpoint)
    _api_key, raw = make_api_key(alpha, alpha.developer, ["admin"])
    before = org_state(alpha)

    response = endpoint.call(api_client(alpha, key=raw), ids)

    _assert_outcome(response, endpoint, expected_status(endpoint, Role.DEVELOPER), before, org_state(alpha))


def test_key_follows_its_creators_current_role(alpha, make_api_key, api_client):
    _api_key, raw = make_api_key(alpha, alpha.admin, ["admin"])
    client = api_client(alpha, key=raw)
    assert client.get("/api/v1/me").json()["role"] == "admin"
    assert client.get("/api/v1/audit-log").status_code == 200

    # Another admin exists (the org keeps one), so the creator can be demoted.
    with tenant_context(alpha.organization):
        membership_change_role(membership=alpha.membership(alpha.developer), role=Role.ADMIN, actor=alpha.admin)
        membership_change_role(membership=alpha.membership(alpha.admin), role=Role.VIEWER, actor=alpha.developer)

    assert client.get("/api/v1/me").json()["role"] == "viewer"
    assert client.get("/api/v1/audit-log").status_code == 403
    assert client.post("/api/v1/projects", {"name": "X", "base_url": "https://x.example.com/"},
                       format="json").status_code == 403


def test_key_of_a_removed_member_is_refused(alpha, make_api_key, api_client):
    _api_key, raw = make_api_key(alpha, alpha.developer, ["write"])
    client = api_client(alpha, key=raw)
    assert client.get("/api/v1/projects").status_code == 200

    with tenant_context(alpha.organization):
        membership_remove(membership=alpha.membership(alpha.developer), actor=alpha.admin)

    for response in (client.get("/api/v1/projects"), client.get("/api/v1/me"),
                     client.post("/api/v1/projects", {"name": "X", "base_url": "https://x.example.com/"},
                                 format="json")):
        assert response.status_code == 401
        assert error_of(response)["code"] == "authentication_failed"


def test_key_of_a_deactivated_user_is_refused(alpha, make_api_key, api_client):
    _api_key, raw = make_api_key(alpha, alpha.developer, ["read"])
    type(alpha.developer).objects.filter(pk=alpha.developer.pk).update(is_active=False)

    response = api_client(alpha, key=raw).get("/api/v1/projects")

    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_last_admin_cannot_leave_or_be_demoted(alpha, api_client):
    client = api_client(alpha, user=alpha.admin)
    own = alpha.membership(alpha.admin)

    for response in (client.patch(f"/api/v1/members/{own.pk}", {"role": "viewer"}, format="json"),
                     client.delete(f"/api/v1/members/{own.pk}")):
        assert response.status_code == 409
        assert error_of(response)["code"] == "last_admin"
    assert alpha.membership(alpha.admin).role == Role.ADMIN
