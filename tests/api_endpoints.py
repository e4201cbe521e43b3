"""Every operation of the tenant API, once. A new endpoint is one line here; `test_every_api_operation_is_listed`
fails until it is added, and the isolation and role tests then cover it.

Each entry says how to call the operation for an organization (the path's placeholders and the body's
"{placeholder}" strings are filled from `create_objects`) and, in `roles`, the status a viewer, a developer
and an admin get."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_create
from apps.audit.models import AuditEntry
from apps.generated_tests.models import Suite, SuiteTest, Test, TestVersion
from apps.generated_tests.services import suite_create, test_create, test_update
from apps.organizations.models import Invitation, Membership, Role
from apps.organizations.services import invitation_create
from apps.projects.models import Environment, EnvironmentVariable, Project
from apps.projects.services import environment_variable_set, project_create
from apps.test_runs.models import (
    Artifact,
    ArtifactKind,
    ResultStatus,
    Run,
    RunLogLine,
    Schedule,
    StepResult,
    StepStatus,
    TestResult,
)
from apps.test_runs.schedules import schedule_create
from apps.test_runs.services import result_claim, result_finish, run_create
from tests.factories import MembershipFactory

ALL = (200, 200, 200)
DEVELOPER_WRITE = (403, 200, 200)
DEVELOPER_CREATE = (403, 201, 201)
DEVELOPER_DELETE = (403, 204, 204)
ADMIN_ONLY = (403, 403, 200)

DEFINITION = {"version": 1, "start_url": "/", "steps": [
    {"action": "goto", "url": "/"},
    {"action": "click", "target": {"locators": [{"kind": "test_id", "value": "add-to-cart"}]}},
]}
JUNIT_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<testsuite name="ci" tests="2" failures="1">'
    '<testcase classname="shop.checkout" name="test_pays" time="0.50"/>'
    '<testcase classname="shop.login" name="test_logs_in" time="0.25"><failure message="boom">trace</failure>'
    "</testcase></testsuite>"
)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # placeholders: the keys of `create_objects`
    body: Any = field(default=None, hash=False, compare=False)
    # (viewer, developer, admin): the status each role gets, by session or by an API key of that scope.
    roles: tuple[int, int, int] = field(default=ALL, hash=False, compare=False)
    # A placeholder of the path filled from another object, e.g. {"run": "failed_run"}.
    use: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    query: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    # A raw body (str) of this content type instead of JSON.
    content_type: str | None = field(default=None, hash=False, compare=False)
    # For a POST that changes nothing (a validation), so the role test expects no change.
    changes_state: bool | None = field(default=None, hash=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def is_write(self) -> bool:
        if self.changes_state is not None:
            return self.changes_state
        return self.method not in ("get", "head", "options")

    @property
    def names_an_object(self) -> bool:
        return "{" in self.path

    @property
    def body_placeholders(self) -> set[str]:
        """The objects the body or query names ("{project}", ...)."""
        return _placeholders(self.body) | _placeholders(self.query)

    def url(self, ids: dict[str, str]) -> str:
        ids = {**ids, **{placeholder: ids[source] for placeholder, source in self.use.items()}}
        url = self.path.format(**ids)
        query = _fill(self.query, ids)
        return f"{url}?{urlencode(query)}" if query else url

    def call(self, client, ids: dict[str, str]):
        if self.content_type is not None:
            return getattr(client, self.method)(self.url(ids), self.body, content_type=self.content_type)
        return getattr(client, self.method)(self.url(ids), _fill(self.body, ids), format="json")


def _fill(value: Any, ids: dict[str, str]) -> Any:
    """A body with every "{placeholder}" string replaced by that object's id."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    return value


def _placeholders(value: Any) -> set[str]:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1].isidentifier():
        return {value[1:-1]}
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return set().union(*(_placeholders(item) for item in items))


VARIABLES = "/api/v1/projects/{project}/environments/{environment}/variables"

ENDPOINTS = [
    Endpoint("get", "/api/v1/me"),
    Endpoint("get", "/api/v1/organization"),
    Endpoint("patch", "/api/v1/organization", {"name": "Renamed Corp"}, roles=ADMIN_ONLY),
    Endpoint("get", "/api/v1/members"),
    Endpoint("patch", "/api/v1/members/{member}", {"role": "developer"}, roles=ADMIN_ONLY),
    Endpoint("delete", "/api/v1/members/{member}", roles=(403, 403, 204)),
    Endpoint("get", "/api/v1/invitations", roles=ADMIN_ONLY),
    Endpoint("post", "/api/v1/invitations", {"email": "newcomer@example.test", "role": "viewer"},
             roles=(403, 403, 201)),
    Endpoint("delete", "/api/v1/invitations/{invitation}", roles=ADMIN_ONLY),
    Endpoint("get", "/api/v1/api-keys", roles=ADMIN_ONLY),
    Endpoint("post", "/api/v1/api-keys", {"name": "ci", "scopes": ["read"]}, roles=(403, 403, 201)),
    Endpoint("get", "/api/v1/api-keys/{api_key}", roles=ADMIN_ONLY),
    Endpoint("delete", "/api/v1/api-keys/{api_key}", roles=ADMIN_ONLY),
    Endpoint("get", "/api/v1/projects"),
    Endpoint("post", "/api/v1/projects", {"name": "Fresh", "base_url": "https://fresh.example.com/"},
             roles=DEVELOPER_CREATE),
    Endpoint("get", "/api/v1/projects/{project}"),
    Endpoint("patch", "/api/v1/projects/{project}", {"description": "changed"}, roles=DEVELOPER_WRITE),
    Endpoint("post", "/api/v1/projects/{project}/archive", roles=DEVELOPER_WRITE),
    Endpoint("post", "/api/v1/projects/{project}/restore", roles=DEVELOPER_WRITE),
    Endpoint("get", VARIABLES),
    Endpoint("put", VARIABLES, {"name": "BASE_PATH", "value": "/shop", "is_secret": False}, roles=DEVELOPER_WRITE),
    Endpoint("delete", VARIABLES + "/{variable}", roles=DEVELOPER_DELETE),
    Endpoint("get", "/api/v1/audit-log", roles=ADMIN_ONLY),
    # Tests and suites
    Endpoint("get", "/api/v1/tests"),
    Endpoint("post", "/api/v1/tests", {"project": "{project}", "name": "Fresh test", "definition": DEFINITION},
             roles=DEVELOPER_CREATE),
    Endpoint("post", "/api/v1/tests/import", {"project": "{project}", "document": {"name": "Imported", **DEFINITION}},
             roles=DEVELOPER_CREATE),
    Endpoint("post", "/api/v1/tests/validate", {"definition": DEFINITION}, changes_state=False),
    Endpoint("post", "/api/v1/tests/run", {"project": "{project}", "tests": ["{test}"]}, roles=(403, 202, 202)),
    Endpoint("get", "/api/v1/tests/{test}"),
    Endpoint("patch", "/api/v1/tests/{test}", {"description": "changed"}, roles=DEVELOPER_WRITE),
    Endpoint("delete", "/api/v1/tests/{test}", roles=DEVELOPER_DELETE),
    Endpoint("get", "/api/v1/tests/{test}/versions"),
    Endpoint("post", "/api/v1/tests/{test}/versions/{version}/restore", roles=DEVELOPER_WRITE),
    Endpoint("get", "/api/v1/tests/{test}/export"),
    Endpoint("get", "/api/v1/suites"),
    Endpoint("post", "/api/v1/suites", {"project": "{project}", "name": "Fresh suite", "tests": ["{test}"]},
             roles=DEVELOPER_CREATE),
    Endpoint("get", "/api/v1/suites/{suite}"),
    Endpoint("patch", "/api/v1/suites/{suite}", {"description": "changed"}, roles=DEVELOPER_WRITE),
    Endpoint("delete", "/api/v1/suites/{suite}", roles=DEVELOPER_DELETE),
    # Runs, results, artifacts, reports, schedules
    Endpoint("get", "/api/v1/devices"),
    Endpoint("get", "/api/v1/runs"),
    Endpoint("post", "/api/v1/runs", {"project": "{project}", "suite": "{suite}", "devices": ["desktop", "mobile"]},
             roles=DEVELOPER_CREATE),
    Endpoint("post", "/api/v1/runs/command", {"project": "{project}", "command": "pytest -q",
                                               "junit_path": "report.xml"}, roles=DEVELOPER_CREATE),
    Endpoint("post", "/api/v1/runs/junit", JUNIT_XML, query={"project": "{project}", "branch": "main"},
             content_type="application/xml", roles=DEVELOPER_CREATE),
    Endpoint("get", "/api/v1/runs/{run}"),
    Endpoint("post", "/api/v1/runs/{run}/cancel", roles=DEVELOPER_WRITE),
    Endpoint("post", "/api/v1/runs/{run}/rerun-failed", use={"run": "failed_run"}, roles=DEVELOPER_CREATE),
    Endpoint("get", "/api/v1/runs/{run}/results"),
    Endpoint("get", "/api/v1/runs/{run}/artifacts", use={"run": "failed_run"}),
    Endpoint("get", "/api/v1/runs/{run}/logs"),
    Endpoint("get", "/api/v1/runs/{run}/report.html", use={"run": "failed_run"}),
    Endpoint("get", "/api/v1/runs/{run}/report.md", use={"run": "failed_run"}),
    Endpoint("get", "/api/v1/runs/{run}/junit.xml", use={"run": "failed_run"}),
    Endpoint("get", "/api/v1/results/{result}"),
    Endpoint("get", "/api/v1/results/{result}/steps"),
    Endpoint("get", "/api/v1/artifacts/{artifact}/content"),
    Endpoint("get", "/api/v1/schedules"),
    Endpoint("post", "/api/v1/schedules", {"project": "{project}", "suite": "{suite}", "name": "Hourly",
                                            "cron": "0 * * * *"}, roles=DEVELOPER_CREATE),
    Endpoint("get", "/api/v1/schedules/{schedule}"),
    Endpoint("patch", "/api/v1/schedules/{schedule}", {"enabled": False}, roles=DEVELOPER_WRITE),
    Endpoint("delete", "/api/v1/schedules/{schedule}", roles=DEVELOPER_DELETE),
    # Task-style paths
    Endpoint("get", "/api/v1/jobs/{run}"),
]

LIST_PATHS = ["/api/v1/members", "/api/v1/invitations", "/api/v1/api-keys", "/api/v1/projects",
              "/api/v1/audit-log", "/api/v1/tests", "/api/v1/suites", "/api/v1/runs", "/api/v1/schedules"]

# Later apps keep their table next to their tests: tests/<app>/endpoints.py defines ENDPOINTS, LIST_PATHS with
# LIST_MODELS ({path: the tenant model whose rows the list shows}), MODELS (tenant models whose rows a refused
# call must leave alone), PLACEHOLDERS (URL kwarg -> placeholder), PUBLIC_OPERATIONS ((method, path)
# authenticated by something other than membership, e.g. a webhook secret, with their own isolation tests)
# and `create(org, project, ids) -> dict[str, str]`, called inside the organization's schema after the
# objects above exist.
APP_TABLES = ["tests.production_events.endpoints", "tests.risk_scores.endpoints", "tests.healing.endpoints",
              "tests.integrations.endpoints"]


def _app_tables() -> list[ModuleType]:
    return [importlib.import_module(name) for name in APP_TABLES]


for _table in _app_tables():
    ENDPOINTS += _table.ENDPOINTS
    LIST_PATHS += getattr(_table, "LIST_PATHS", [])
LIST_MODELS = {path: model for table in _app_tables() for path, model in getattr(table, "LIST_MODELS", {}).items()}
PUBLIC_OPERATIONS = {operation for table in _app_tables() for operation in getattr(table, "PUBLIC_OPERATIONS", ())}
APP_PLACEHOLDERS = {kwarg: name for table in _app_tables()
                    for kwarg, name in getattr(table, "PLACEHOLDERS", {}).items()}


def _shared_artifact_file() -> str:
    """One small file per schema that every artifact made here points at, so the suite's many calls of
    `create_objects` (each rolled back) don't leave a file each behind in the media folder."""
    name = f"{connection.schema_name}/api-endpoints/run.log"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(b"GET / 200\nclick add-to-cart\n"))
    return name


def _failed_run(org, project: Project, test: Test) -> tuple[Run, TestResult, Artifact]:
    """A finished run whose one result failed, with a trace step, a log line and an artifact."""
    run = run_create(project=project, actor=org.admin, tests=[test])
    result = result_claim(run.results.get().pk, task_id="api-endpoints", worker="api-endpoints")
    artifact = Artifact.objects.create(run=run, result=result, kind=ArtifactKind.LOG, name="run.log",
                                       file=_shared_artifact_file(), content_type="text/plain", size=27)
    StepResult.objects.create(result=result, index=0, action="goto", description="Go to /",
                              status=StepStatus.PASSED, started_at=timezone.now(), duration_ms=40,
                              page_url="https://site.example.com/")
    StepResult.objects.create(result=result, index=1, action="click", description="Click add-to-cart",
                              status=StepStatus.FAILED, started_at=timezone.now(), duration_ms=10_000,
                              error="No element matched test_id=add-to-cart")
    RunLogLine.objects.create(run=run, seq=1, text="Chromium started")
    result = result_finish(result, status=ResultStatus.FAILED, error_type="ElementNotFound",
                           error_message="No element matched test_id=add-to-cart")
    run.refresh_from_db()
    assert run.status == "failed", run.status
    return run, result, artifact


def create_objects(org) -> dict[str, str]:
    """One object of each kind an endpoint can name, in `org`: a project with a staging environment and
    a secret variable, a test with two versions, a suite, a queued run, a failed run with a result, a
    step and an artifact, a schedule, a (viewer) member that is not the org's only admin, a pending
    invitation and an API key. Returns their ids by placeholder."""
    membership = MembershipFactory(organization=org.organization, role=Role.VIEWER)
    with tenant_context(org.organization):
        project = project_create(actor=org.admin, name=f"{org.slug} site", base_url="https://site.example.com/",
                                 environments={"staging": "https://staging.example.com/"})
        invitation, _token = invitation_create(organization=org.organization, email=f"invitee@{org.slug}.test",
                                               role=Role.DEVELOPER, actor=org.admin)
        api_key, _raw = api_key_create(organization=org.organization, actor=org.admin, name="deploy",
                                       scopes=["read"])
        environment = project.environments.get(name="staging")
        environment_variable_set(environment=environment, actor=org.admin, name="API_TOKEN", value="tok-123",
                                 is_secret=True)
        test = test_create(project=project, actor=org.admin, name="Add to cart", definition=DEFINITION)
        # A second version, so that restoring version 1 visibly changes the test.
        test = test_update(test=test, actor=org.admin, definition={**DEFINITION, "start_url": "/shop"})
        suite = suite_create(project=project, actor=org.admin, name="Smoke", tests=[test.pk])
        run = run_create(project=project, actor=org.admin, suite=suite)
        failed_run, result, artifact = _failed_run(org, project, test)
        schedule = schedule_create(project=project, actor=org.admin, suite=suite, name="Nightly", cron="0 3 * * *")
        ids = {"project": str(project.pk), "member": str(membership.pk), "invitation": str(invitation.pk),
               "api_key": str(api_key.pk), "environment": environment.name, "variable": "API_TOKEN",
               "test": str(test.pk), "version": "1", "suite": str(suite.pk), "run": str(run.pk),
               "failed_run": str(failed_run.pk), "result": str(result.pk), "artifact": str(artifact.pk),
               "schedule": str(schedule.pk)}
        for table in _app_tables():
            ids.update(table.create(org, project, ids))
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"
    return ids


TENANT_MODELS = [Project, Environment, EnvironmentVariable, Test, TestVersion, Suite, SuiteTest, Run, TestResult,
                 StepResult, Artifact, RunLogLine, Schedule,
                 *(model for table in _app_tables() for model in getattr(table, "MODELS", []))]


def org_state(org) -> dict:
    """Everything an API call could change in `org`, to prove a refused call changed nothing."""
    organization = org.organization
    state = {
        "organization": list(type(organization).objects.filter(pk=organization.pk).values()),
        "members": list(Membership.objects.filter(organization=organization).order_by("pk").values()),
        "invitations": list(Invitation.objects.filter(organization=organization).order_by("pk").values()),
        # last_used_at is the bookkeeping of whichever key makes the call, not a change by it.
        "api_keys": list(ApiKey.objects.filter(organization=organization).order_by("pk").values(
            *[f.attname for f in ApiKey._meta.concrete_fields if f.name != "last_used_at"])),
    }
    with tenant_context(organization):
        for model in TENANT_MODELS:
            state[model._meta.label] = list(model.objects.order_by("pk").values())
        state["audit"] = list(AuditEntry.objects.order_by("pk").values_list("pk", flat=True))
    return state
