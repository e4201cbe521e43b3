"""Tenant isolation of the HTML pages: another organization's objects are 404, outsiders see nothing."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiKey
from apps.organizations.models import Role
from apps.projects.models import Project
from tests.api_endpoints import create_objects, org_state

ROOT_URLCONF = "argus.urls"
# name -> the object kind its URL takes, if any.
PAGES = {
    "dashboard": None,
    "project_list": None,
    "project_detail": "project",
    "project_update": "project",
    "members": None,
    "api_keys": None,
    "audit_log": None,
    "organization_settings": None,
}
# (name, kwarg, object kind) of every POST that acts on one object.
OBJECT_ACTIONS = [
    ("project_archive", "project_id", "project", {}),
    ("project_restore", "project_id", "project", {}),
    ("project_update", "project_id", "project", {"name": "Hijacked", "base_url": "https://evil.example.com/"}),
    ("member_role_change", "membership_id", "member", {"role": "admin"}),
    ("member_remove", "membership_id", "member", {}),
    ("invitation_revoke", "invitation_id", "invitation", {}),
    ("api_key_revoke", "key_id", "api_key", {}),
]
KWARG_BY_KIND = {"project": "project_id"}
# Expected status of each page for (viewer, developer, admin).
PAGE_ROLES = {
    "dashboard": (200, 200, 200),
    "project_list": (200, 200, 200),
    "project_detail": (200, 200, 200),
    "project_update": (403, 200, 200),
    "members": (200, 200, 200),
    "api_keys": (403, 403, 200),
    "audit_log": (403, 403, 200),
    "organization_settings": (200, 200, 200),
}


def page_url(name: str, ids: dict[str, str]) -> str:
    kind = PAGES[name]
    kwargs = {KWARG_BY_KIND[kind]: ids[kind]} if kind else {}
    return reverse(name, urlconf=ROOT_URLCONF, kwargs=kwargs)


def browser(org, user=None) -> Client:
    client = Client(HTTP_HOST=org.host)
    if user is not None:
        client.force_login(user)
    return client


def secrets_of(org, ids: dict[str, str]) -> list[str]:
    """Strings that only someone who can see `org`'s data would find on a page."""
    with tenant_context(org.organization):
        project = Project.objects.get(pk=ids["project"])
    return [project.name, project.base_url, org.developer.email, org.viewer.email, f"invitee@{org.slug}.test",
            ApiKey.objects.get(pk=ids["api_key"]).prefix]


@pytest.fixture
def alpha_ids(alpha) -> dict[str, str]:
    return create_objects(alpha)


@pytest.fixture
def bravo_ids(bravo) -> dict[str, str]:
    return create_objects(bravo)


def test_page_table_matches_the_urlconf():
    assert set(PAGE_ROLES) == set(PAGES)
    for name in PAGES:
        assert reverse(name, urlconf=ROOT_URLCONF, kwargs={"project_id": str(uuid.UUID(int=0))} if PAGES[name] else {})


@pytest.mark.parametrize("name", [name for name, kind in PAGES.items() if kind])
def test_page_with_another_orgs_object_id_is_not_found(name, alpha, bravo, bravo_ids):
    response = browser(alpha, alpha.admin).get(page_url(name, bravo_ids))

    assert response.status_code == 404
    assert not any(secret in response.content.decode() for secret in secrets_of(bravo, bravo_ids))


@pytest.mark.parametrize(("name", "kwarg", "kind", "data"), OBJECT_ACTIONS, ids=[a[0] for a in OBJECT_ACTIONS])
def test_action_on_another_orgs_object_is_not_found_and_changes_nothing(name, kwarg, kind, data, alpha, bravo,
                                                                          alpha_ids, bravo_ids):
    before = org_state(bravo)

    response = browser(alpha, alpha.admin).post(reverse(name, urlconf=ROOT_URLCONF, kwargs={kwarg: bravo_ids[kind]}),
                                                data)

    assert response.status_code == 404
    assert org_state(bravo) == before


@pytest.mark.parametrize("name", PAGES)
def test_own_pages_show_the_orgs_data_to_its_admin(name, alpha, alpha_ids):
    """The control for the tests below: these pages do show the data that outsiders must not see."""
    response = browser(alpha, alpha.admin).get(page_url(name, alpha_ids))

    assert response.status_code == 200
    assert alpha.organization.name in response.content.decode()


@pytest.mark.parametrize("name", PAGES)
def test_member_of_another_org_sees_nothing(name, alpha, bravo, alpha_ids):
    response = browser(alpha, bravo.admin).get(page_url(name, alpha_ids))

    assert response.status_code == 404
    html = response.content.decode()
    assert not any(secret in html for secret in secrets_of(alpha, alpha_ids))


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitor_is_sent_to_login(name, alpha, alpha_ids):
    url = page_url(name, alpha_ids)

    response = browser(alpha).get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert not any(secret in response.content.decode() for secret in secrets_of(alpha, alpha_ids))


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("role", [Role.VIEWER, Role.DEVELOPER, Role.ADMIN])
def test_page_roles(role, name, alpha, alpha_ids):
    response = browser(alpha, alpha.users[role]).get(page_url(name, alpha_ids))

    assert response.status_code == PAGE_ROLES[name][[Role.VIEWER, Role.DEVELOPER, Role.ADMIN].index(role)]


def test_project_pages_list_only_the_hosts_projects(alpha, bravo, alpha_ids, bravo_ids):
    html = browser(alpha, alpha.admin).get(reverse("project_list", urlconf=ROOT_URLCONF)).content.decode()

    with tenant_context(bravo.organization):
        bravo_project = Project.objects.get(pk=bravo_ids["project"])
    assert "alpha site" in html
    assert bravo_project.name not in html and bravo_ids["project"] not in html


def test_members_and_keys_pages_list_only_the_hosts_rows(alpha, bravo, alpha_ids, bravo_ids):
    client = browser(alpha, alpha.admin)
    members = client.get(reverse("members", urlconf=ROOT_URLCONF)).content.decode()
    keys = client.get(reverse("api_keys", urlconf=ROOT_URLCONF)).content.decode()

    assert alpha.viewer.email in members and f"invitee@{alpha.slug}.test" in members
    assert bravo.viewer.email not in members and f"invitee@{bravo.slug}.test" not in members
    assert ApiKey.objects.get(pk=alpha_ids["api_key"]).prefix in keys
    assert ApiKey.objects.get(pk=bravo_ids["api_key"]).prefix not in keys
