"""Test and suite services: versions, import, suites, audit."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.core.errors import ApplicationError

# The module, not its functions: pytest would collect `test_create` & co. as tests.
from apps.generated_tests import services
from apps.generated_tests.models import Suite, Test, TestVersion
from apps.projects.services import project_archive, project_create

STEPS = {"version": 1, "start_url": "/", "steps": [{"action": "goto", "url": "/"}]}
MORE_STEPS = {"version": 1, "steps": [{"action": "goto", "url": "/"}, {"action": "screenshot"}]}


@pytest.fixture
def project(alpha):
    with tenant_context(alpha.organization):
        yield project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example/")


def test_create_keeps_version_one_and_audits(alpha, project):
    with tenant_context(alpha.organization):
        test = services.test_create(project=project, actor=alpha.developer, name=" Home ", definition=STEPS,
                           tags=["Smoke", "smoke", " cart "])
        assert test.name == "Home"
        assert test.tags == ["smoke", "cart"]
        assert list(test.versions.values_list("number", flat=True)) == [1]
        assert AuditEntry.objects.filter(action="test.created", object_id=str(test.pk)).exists()


def test_changing_steps_or_name_makes_a_version_other_fields_do_not(alpha, project):
    with tenant_context(alpha.organization):
        test = services.test_create(project=project, actor=alpha.developer, name="Home", definition=STEPS)
        test = services.test_update(test=test, actor=alpha.developer, status="approved", tags=["x"])
        assert test.version == 1
        test = services.test_update(test=test, actor=alpha.developer, definition=MORE_STEPS, change_note="screenshot")
        assert test.version == 2
        assert TestVersion.objects.get(test=test, number=2).change_note == "screenshot"
        test = services.test_restore_version(test=test, number=1, actor=alpha.developer)
        assert test.version == 3
        assert test.definition == STEPS


def test_invalid_steps_change_nothing(alpha, project):
    with tenant_context(alpha.organization):
        test = services.test_create(project=project, actor=alpha.developer, name="Home", definition=STEPS)
        with pytest.raises(ApplicationError) as caught:
            services.test_update(test=test, actor=alpha.developer,
                                 definition={"version": 1, "steps": [{"action": "click"}]})
        assert "steps[0]" in caught.value.details
        test.refresh_from_db()
        assert test.version == 1 and test.definition == STEPS


def test_duplicate_names_are_a_409(alpha, project):
    with tenant_context(alpha.organization):
        services.test_create(project=project, actor=alpha.developer, name="Home", definition=STEPS)
        with pytest.raises(ApplicationError) as caught:
            services.test_create(project=project, actor=alpha.developer, name="Home", definition=STEPS)
        assert caught.value.code == "name_taken" and caught.value.status_code == 409


def test_import_is_all_or_nothing(alpha, project):
    with tenant_context(alpha.organization):
        good = {"name": "A", **STEPS}
        bad = {"name": "B", "version": 1, "steps": [{"action": "goto"}]}
        with pytest.raises(ApplicationError) as caught:
            services.tests_import(project=project, actor=alpha.developer, document={"tests": [good, bad]})
        assert "tests[1].steps[0]" in caught.value.details
        assert not Test.objects.filter(project=project).exists()
        created = services.tests_import(project=project, actor=alpha.developer, document=[good, {**good, "name": "C"}])
        assert [test.name for test in created] == ["A", "C"]
        with pytest.raises(ApplicationError) as caught:
            services.tests_import(project=project, actor=alpha.developer, document=good)
        assert caught.value.details == {"tests[0]": ["A test named “A” exists."]}


def test_suites_keep_test_order_and_refuse_foreign_tests(alpha, project):
    with tenant_context(alpha.organization):
        first = services.test_create(project=project, actor=alpha.developer, name="First", definition=STEPS)
        second = services.test_create(project=project, actor=alpha.developer, name="Second", definition=STEPS)
        other = project_create(actor=alpha.admin, name="Other", base_url="https://other.example/")
        foreign = services.test_create(project=other, actor=alpha.developer, name="Foreign", definition=STEPS)
        suite = services.suite_create(project=project, actor=alpha.developer, name="Smoke", tests=[second.pk, first.pk],
                             default_devices=["desktop", "iphone-15"])
        assert list(suite.ordered_tests()) == [second, first]
        suite = services.suite_update(suite=suite, actor=alpha.developer, tests=[first.pk, second.pk])
        assert list(suite.ordered_tests()) == [first, second]
        with pytest.raises(ApplicationError, match="not in this project"):
            services.suite_update(suite=suite, actor=alpha.developer, tests=[foreign.pk])
        with pytest.raises(ApplicationError, match="Unknown device"):
            services.suite_create(project=project, actor=alpha.developer, name="Bad", default_devices=["toaster"])
        assert not Suite.objects.filter(name="Bad").exists()


def test_archived_projects_are_read_only(alpha, project):
    with tenant_context(alpha.organization):
        project_archive(project=project, actor=alpha.admin)
        with pytest.raises(ApplicationError) as caught:
            services.test_create(project=project, actor=alpha.developer, name="Home", definition=STEPS)
        assert caught.value.code == "archived"
