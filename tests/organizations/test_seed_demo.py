"""`manage.py seed_demo`: the demo organization with the demo shop project, its login variables, the
approved Smoke suite and a nightly schedule; a second run leaves exactly the same rows.

Provisioning runs inside the test's transaction (PostgreSQL DDL is transactional), so the rollback
after each test removes the demo schema too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.audit.models import AuditEntry
from apps.generated_tests import services as test_services
from apps.generated_tests.models import Suite, Test, TestVersion
from apps.generated_tests.models import TestStatus as Status
from apps.organizations.models import Membership, Organization
from apps.projects.models import Environment, EnvironmentVariable, Project
from apps.test_runs.models import Schedule
from demo_shop.state import DEMO_EMAIL, DEMO_PASSWORD
from demo_shop.suite import load_suite

SHOP_URL = "http://127.0.0.1:8123/"


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def demo_org() -> Organization:
    return Organization.objects.get(slug="demo")


def demo_rows() -> dict:
    """Every row the seed is responsible for, with primary keys, so "the same" means the same rows."""
    organization = demo_org()
    rows = {
        "users": sorted(User.objects.filter(email__endswith="@demo.argus.test").values_list("pk", "email")),
        "memberships": sorted(Membership.objects.filter(organization=organization).values_list("pk", "role")),
    }
    with tenant_context(organization):
        rows.update({
            "projects": list(Project.objects.values_list("pk", "slug", "base_url")),
            "environments": list(Environment.objects.order_by("name").values_list("pk", "name", "url")),
            "variables": list(EnvironmentVariable.objects.order_by("name").values_list(
                "pk", "environment__name", "name", "value", "is_secret")),
            "tests": list(Test.objects.order_by("name").values_list("pk", "name", "status", "version", "definition")),
            "versions": TestVersion.objects.count(),
            "suites": [(suite.pk, suite.name, suite.default_environment, suite.default_devices,
                        list(suite.ordered_tests().values_list("name", flat=True))) for suite in Suite.objects.all()],
            "schedules": list(Schedule.objects.values_list(
                "pk", "name", "cron", "enabled", "next_run_at", "environment__name", "suite__name", "devices")),
            "audit": AuditEntry.objects.count(),
        })
    return rows


@pytest.fixture
def shop_url(settings) -> str:
    settings.ARGUS_DEMO_SHOP_URL = SHOP_URL
    return SHOP_URL


def test_seed_creates_the_demo_shop_project_suite_and_schedule(db, shop_url):
    output = seed()
    assert "Demo organization ready" in output and shop_url in output
    suite_file = load_suite()
    with tenant_context(demo_org()):
        project = Project.objects.get()
        assert (project.slug, project.base_url) == ("demo-shop", shop_url)
        assert list(project.environments.values_list("name", "url")) == [("dev", shop_url)]
        variables = {variable.name: variable for variable in EnvironmentVariable.objects.all()}
        assert set(variables) == {"SHOP_EMAIL", "SHOP_PASSWORD"}
        assert (variables["SHOP_EMAIL"].value, variables["SHOP_EMAIL"].is_secret) == (DEMO_EMAIL, False)
        assert (variables["SHOP_PASSWORD"].value, variables["SHOP_PASSWORD"].is_secret) == (DEMO_PASSWORD, True)
        assert variables["SHOP_PASSWORD"].environment.name == "dev"

        tests = {test.name: test for test in Test.objects.filter(project=project)}
        assert len(tests) == len(suite_file) >= 22
        for entry in suite_file:
            test = tests[entry["name"]]
            assert test.status == Status.APPROVED
            assert test.definition == {key: entry[key] for key in ("version", "start_url", "steps")}
            assert (test.description, test.tags) == (entry["description"], entry["tags"])

        suite = Suite.objects.get()
        assert (suite.name, suite.default_environment, suite.default_devices) == ("Smoke", "dev", ["desktop"])
        assert list(suite.ordered_tests().values_list("name", flat=True)) == [entry["name"] for entry in suite_file]

        schedule = Schedule.objects.get()
        assert (schedule.name, schedule.cron, schedule.enabled, schedule.suite, schedule.environment.name) == (
            "Nightly smoke", "0 3 * * *", True, suite, "dev")
        now = datetime.now(UTC)
        expected = now.replace(hour=3, minute=0, second=0, microsecond=0)
        assert schedule.next_run_at == (expected if expected > now else expected + timedelta(days=1))
        assert AuditEntry.objects.filter(action="schedule.created").count() == 1
        # Secret values never reach the audit trail.
        assert not [entry for entry in AuditEntry.objects.all() if DEMO_PASSWORD in str(entry.changes)]


def test_a_second_run_leaves_the_same_rows(db, shop_url):
    seed()
    first = demo_rows()
    seed()
    assert demo_rows() == first
    assert Organization.objects.filter(slug="demo").count() == 1


def test_a_rerun_keeps_user_changes_and_adds_only_what_is_missing(db, shop_url):
    seed()
    with tenant_context(demo_org()):
        admin = User.objects.get(email="admin@demo.argus.test")
        project = Project.objects.get()
        edited = Test.objects.get(name="Add to cart")
        test_services.test_update(test=edited, actor=admin, status=Status.DRAFT, definition={
            **edited.definition, "steps": edited.definition["steps"][:3]})
        Test.objects.filter(name="Log out").delete()
        EnvironmentVariable.objects.filter(name="SHOP_EMAIL").update(value="someone@shop.test")
        # An older seed pointed the project at Argus itself.
        Project.objects.filter(pk=project.pk).update(base_url="http://127.0.0.1:8000/")
        Environment.objects.filter(project=project, name="dev").update(url="http://127.0.0.1:8000/")
        schedule = Schedule.objects.get()

    seed()

    with tenant_context(demo_org()):
        project = Project.objects.get()
        assert project.base_url == SHOP_URL
        assert project.environments.get(name="dev").url == SHOP_URL
        edited = Test.objects.get(name="Add to cart")
        assert (edited.status, edited.version, len(edited.definition["steps"])) == (Status.DRAFT, 2, 3)
        restored = Test.objects.get(name="Log out")
        assert restored.status == Status.APPROVED
        assert EnvironmentVariable.objects.get(name="SHOP_EMAIL").value == "someone@shop.test"
        assert Test.objects.count() == len(load_suite())
        assert list(Schedule.objects.values_list("pk", flat=True)) == [schedule.pk]
        # The suite existed, so it was left as it is: the deleted test is not put back into it.
        assert "Log out" not in Suite.objects.get().ordered_tests().values_list("name", flat=True)

