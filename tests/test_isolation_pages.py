"""Tenant isolation of the HTML pages: another organization's objects are 404, outsiders see nothing."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiKey
from apps.generated_tests import urls as generated_tests_urls
from apps.organizations.models import Role
from apps.projects.models import EnvironmentVariable, Project
from apps.test_runs import urls as test_runs_urls
from tests.api_endpoints import org_state

ROOT_URLCONF = "argus.urls"
DEFINITION_JSON = json.dumps({"version": 1, "steps": [{"action": "goto", "url": "https://evil.example.com/"}]})
# name -> the object kind its URL takes, if any. HTML pages of the organization.
PAGES = {
    "dashboard": None,
    "project_list": None,
    "project_detail": "project",
    "project_update": "project",
    "members": None,
    "api_keys": None,
    "audit_log": None,
    "organization_settings": None,
    "test_list": None,
    "test_create": None,
    "test_import": None,
    "test_detail": "test",
    "test_update": "test",
    "test_history": "test",
    "test_version": "test",
    "suite_list": None,
    "suite_create": None,
    "suite_detail": "suite",
    "suite_update": "suite",
    "run_list": None,
    "run_detail": "failed_run",
    "schedule_list": None,
    "schedule_create": None,
    "schedule_update": "schedule",
}
# Files and fragments: the same isolation, but they don't carry the organization's name.
DOWNLOADS = {
    "test_export": "test",
    "run_row": "run",
    "run_report_html": "failed_run",
    "run_report_markdown": "failed_run",
    "run_report_junit": "failed_run",
    "artifact_content": "artifact",
}
# Fixed URL arguments besides the object's id.
EXTRA_KWARGS = {"test_version": {"number": 1}, "test_version_restore": {"number": 1}}
# (name, kwarg, object kind) of every POST that acts on one object.
OBJECT_ACTIONS = [
    ("project_archive", "project_id", "project", {}),
    ("project_restore", "project_id", "project", {}),
    ("project_update", "project_id", "project", {"name": "Hijacked", "base_url": "https://evil.example.com/"}),
    ("project_variable_set", "project_id", "project", {"environment": "staging", "name": "API_TOKEN", "value": "x"}),
    ("member_role_change", "membership_id", "member", {"role": "admin"}),
    ("member_remove", "membership_id", "member", {}),
    ("invitation_revoke", "invitation_id", "invitation", {}),
    ("api_key_revoke", "key_id", "api_key", {}),
    ("test_update", "test_id", "test", {"name": "Hijacked", "definition": DEFINITION_JSON}),
    ("test_status", "test_id", "test", {"action": "archive"}),
    ("test_delete", "test_id", "test", {}),
    ("test_run", "test_id", "test", {}),
    ("test_version_restore", "test_id", "test", {}),
    ("suite_update", "suite_id", "suite", {"name": "Hijacked"}),
    ("suite_run", "suite_id", "suite", {"retries": "0"}),
    ("suite_delete", "suite_id", "suite", {}),
    ("run_cancel", "run_id", "run", {}),
    ("run_rerun_failed", "run_id", "failed_run", {}),
    ("schedule_update", "schedule_id", "schedule", {"suite": "{suite}", "name": "Hijacked", "cron": "* * * * *",
                                                    "timezone": "UTC"}),
    ("schedule_toggle", "schedule_id", "schedule", {}),
    ("schedule_delete", "schedule_id", "schedule", {}),
]
# Create forms whose fields name objects: another organization's ids are not among the choices.
FOREIGN_FORM_POSTS = [
    ("test_create", {"project": "{project}", "name": "Planted", "definition": DEFINITION_JSON}),
    ("suite_create", {"project": "{project}", "name": "Planted"}),
    ("schedule_create", {"suite": "{suite}", "name": "Planted", "cron": "* * * * *", "timezone": "UTC"}),
    ("run_command_create", {"project": "{project}", "command": "true"}),
    ("run_junit_upload", {"project": "{project}", "file": b'<testsuite><testcase name="t"/></testsuite>'}),
    ("test_import", {"project": "{project}", "origin": "manual", "file": b'{"name": "Planted", "version": 1, '
                                                                       b'"steps": [{"action": "screenshot"}]}'}),
]
KWARG_BY_KIND = {"project": "project_id", "test": "test_id", "suite": "suite_id", "run": "run_id",
                 "failed_run": "run_id", "artifact": "artifact_id", "schedule": "schedule_id"}
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
    "test_list": (200, 200, 200),
    "test_create": (403, 200, 200),
    "test_import": (403, 200, 200),
    "test_detail": (200, 200, 200),
    "test_update": (403, 200, 200),
    "test_history": (200, 200, 200),
    "test_version": (200, 200, 200),
    "suite_list": (200, 200, 200),
    "suite_create": (403, 200, 200),
    "suite_detail": (200, 200, 200),
    "suite_update": (403, 200, 200),
    "run_list": (200, 200, 200),
    "run_detail": (200, 200, 200),
    "schedule_list": (200, 200, 200),
    "schedule_create": (403, 200, 200),
    "schedule_update": (403, 200, 200),
}


def page_url(name: str, ids: dict[str, str]) -> str:
    kind = PAGES[name] if name in PAGES else DOWNLOADS[name]
    kwargs = {KWARG_BY_KIND[kind]: ids[kind]} if kind else {}
    return reverse(name, urlconf=ROOT_URLCONF, kwargs={**kwargs, **EXTRA_KWARGS.get(name, {})})


def fill(data: dict, ids: dict[str, str]) -> dict:
    """The form data with each "{kind}" value replaced by that object's id, and bytes as an uploaded file."""
    def value_of(value):
        if isinstance(value, bytes):
            return SimpleUploadedFile("upload", value)
        if isinstance(value, str) and value.startswith("{") and value[1:-1] in ids:
            return ids[value[1:-1]]
        return value

    return {key: value_of(value) for key, value in data.items()}


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
            ApiKey.objects.get(pk=ids["api_key"]).prefix, ids["test"], ids["suite"], ids["failed_run"]]


def with_variable_id(org, ids: dict[str, str]) -> dict[str, str]:
    with tenant_context(org.organization):
        variable = EnvironmentVariable.objects.get(name=ids["variable"], environment__project_id=ids["project"])
    return {**ids, "variable_id": str(variable.pk)}


@pytest.fixture
def alpha_ids(alpha, org_objects) -> dict[str, str]:
    return with_variable_id(alpha, org_objects["alpha"])


@pytest.fixture
def bravo_ids(bravo, org_objects) -> dict[str, str]:
    return with_variable_id(bravo, org_objects["bravo"])


def test_page_table_matches_the_urlconf():
    assert set(PAGE_ROLES) == set(PAGES)
    zero = str(uuid.UUID(int=0))
    for name in [*PAGES, *DOWNLOADS]:
        assert page_url(name, {kind: zero for kind in KWARG_BY_KIND})


def test_every_test_suite_run_and_schedule_url_is_in_a_table():
    """A new page or action of these apps fails here until the tables above cover it."""
    names = {pattern.name for patterns in (generated_tests_urls.urlpatterns, generated_tests_urls.suite_urlpatterns,
                                           test_runs_urls.urlpatterns, test_runs_urls.schedule_urlpatterns)
             for pattern in patterns}
    covered = {*PAGES, *DOWNLOADS, *(action[0] for action in OBJECT_ACTIONS), *(post[0] for post in FOREIGN_FORM_POSTS)}
    assert names - covered == set()


@pytest.mark.parametrize("name", [name for name, kind in {**PAGES, **DOWNLOADS}.items() if kind])
def test_page_with_another_orgs_object_id_is_not_found(name, alpha, bravo, bravo_ids):
    response = browser(alpha, alpha.admin).get(page_url(name, bravo_ids))

    assert response.status_code == 404
    assert not any(secret in response.content.decode() for secret in secrets_of(bravo, bravo_ids))


@pytest.mark.parametrize(("name", "kwarg", "kind", "data"), OBJECT_ACTIONS, ids=[a[0] for a in OBJECT_ACTIONS])
def test_action_on_another_orgs_object_is_not_found_and_changes_nothing(name, kwarg, kind, data, alpha, bravo,
                                                                          alpha_ids, bravo_ids):
    before = org_state(bravo)
    kwargs = {kwarg: bravo_ids[kind], **EXTRA_KWARGS.get(name, {})}

    response = browser(alpha, alpha.admin).post(reverse(name, urlconf=ROOT_URLCONF, kwargs=kwargs),
                                                fill(data, bravo_ids))

    assert response.status_code == 404
    assert org_state(bravo) == before


@pytest.mark.parametrize(("owner", "variable_of"), [("bravo", "bravo"), ("alpha", "bravo")])
def test_deleting_another_orgs_variable_is_not_found(owner, variable_of, alpha, bravo, alpha_ids, bravo_ids):
    """Neither another organization's project nor one's own project with another organization's variable."""
    ids = {"alpha": alpha_ids, "bravo": bravo_ids}
    before = org_state(bravo)

    response = browser(alpha, alpha.admin).post(reverse("project_variable_delete", urlconf=ROOT_URLCONF, kwargs={
        "project_id": ids[owner]["project"], "variable_id": ids[variable_of]["variable_id"]}))

    assert response.status_code == 404
    assert org_state(bravo) == before


@pytest.mark.parametrize(("name", "data"), FOREIGN_FORM_POSTS, ids=[post[0] for post in FOREIGN_FORM_POSTS])
def test_forms_refuse_another_orgs_ids(name, data, alpha, bravo, alpha_ids, bravo_ids):
    before = (org_state(alpha), org_state(bravo))

    response = browser(alpha, alpha.admin).post(reverse(name, urlconf=ROOT_URLCONF), fill(data, bravo_ids))

    assert response.status_code == 400
    assert (org_state(alpha), org_state(bravo)) == before


@pytest.mark.parametrize("name", DOWNLOADS)
def test_downloads_need_a_member_of_the_org(name, alpha, bravo, alpha_ids):
    url = page_url(name, alpha_ids)

    assert browser(alpha, alpha.viewer).get(url).status_code == 200  # the control
    assert browser(alpha, bravo.admin).get(url).status_code == 404
    anonymous = browser(alpha).get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/?next=")


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


@pytest.mark.parametrize(("name", "kind"), [("test_list", "test"), ("suite_list", "suite"), ("run_list", "failed_run"),
                                          ("schedule_list", "schedule")])
def test_lists_show_only_the_hosts_rows(name, kind, alpha, bravo, alpha_ids, bravo_ids):
    html = browser(alpha, alpha.admin).get(reverse(name, urlconf=ROOT_URLCONF)).content.decode()

    assert alpha_ids[kind] in html
    assert bravo_ids[kind] not in html


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
