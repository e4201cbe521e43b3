from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from apps.audit.services import audit_record, diff, snapshot
from apps.core.errors import ApplicationError
from apps.generated_tests.dsl import validate_definition
from apps.generated_tests.models import Suite, SuiteTest, Test, TestOrigin, TestStatus, TestVersion
from apps.integrations.events import emit
from apps.projects.models import EnvironmentName, Project
from apps.test_runs.devices import DEVICES

TEST_AUDITED_FIELDS = ["name", "description", "status", "tags", "version"]
SUITE_AUDITED_FIELDS = ["name", "description", "default_environment", "default_devices"]
MAX_IMPORT_TESTS = 200


def _user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _check_project_writable(project: Project) -> None:
    if project.is_archived:
        raise ApplicationError("Archived projects are read-only. Restore it first.", code="archived", status_code=409)


def _clean_tags(tags: list[str] | None) -> list[str]:
    cleaned = []
    for tag in tags or []:
        tag = tag.strip().lower()[:50]
        if tag and tag not in cleaned:
            cleaned.append(tag)
    return cleaned


def _name_taken(kind: str, name: str) -> ApplicationError:
    return ApplicationError(f"A {kind} named “{name}” exists in this project.", code="name_taken",
                            details={"name": ["This name is taken in the project."]}, status_code=409)


@transaction.atomic
def test_create(
    *, project: Project, actor, name: str, definition: dict[str, Any], description: str = "",
    origin: str = TestOrigin.MANUAL, status: str = TestStatus.DRAFT, tags: list[str] | None = None,
) -> Test:
    _check_project_writable(project)
    definition = validate_definition(definition)
    test = Test(project=project, name=name.strip(), description=description, origin=origin, status=status,
                tags=_clean_tags(tags), definition=definition, version=1, created_by=_user(actor))
    test.full_clean(exclude=["project", "created_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            test.save()
    except IntegrityError as exc:
        raise _name_taken("test", test.name) from exc
    TestVersion.objects.create(test=test, number=1, name=test.name, definition=definition,
                               change_note="Created", created_by=_user(actor))
    audit_record(actor=actor, action="test.created", target=test,
                 changes={**snapshot(test, TEST_AUDITED_FIELDS), "steps": test.step_count})
    emit("test.created", {"test": test.pk, "project": project.pk, "name": test.name, "origin": test.origin,
                          "status": test.status, "steps": test.step_count}, source="generated_tests")
    return test


@transaction.atomic
def test_update(*, test: Test, actor, change_note: str = "", definition: dict | None = None, **fields) -> Test:
    """Change a test. A new definition (or name) makes a new version; other fields don't."""
    test = Test.objects.select_for_update().get(pk=test.pk)
    _check_project_writable(test.project)
    before = {**snapshot(test, TEST_AUDITED_FIELDS), "steps": test.step_count}
    allowed = {"name", "description", "status", "tags"}
    for field, value in fields.items():
        if field not in allowed:
            raise ApplicationError(f"“{field}” cannot be changed.", code="invalid")
        setattr(test, field, _clean_tags(value) if field == "tags" else value)
    new_version = False
    if definition is not None and definition != test.definition:
        test.definition = validate_definition(definition)
        new_version = True
    if "name" in fields and fields["name"] != before["name"]:
        test.name = fields["name"].strip()
        new_version = True
    if new_version:
        test.version += 1
    test.full_clean(exclude=["project", "created_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            test.save()
    except IntegrityError as exc:
        raise _name_taken("test", test.name) from exc
    if new_version:
        TestVersion.objects.create(test=test, number=test.version, name=test.name, definition=test.definition,
                                   change_note=change_note[:300], created_by=_user(actor))
    changes = diff(before, {**snapshot(test, TEST_AUDITED_FIELDS), "steps": test.step_count})
    if changes:
        audit_record(actor=actor, action="test.updated", target=test, changes=changes)
    return test


@transaction.atomic
def test_restore_version(*, test: Test, number: int, actor) -> Test:
    version = TestVersion.objects.filter(test=test, number=number).first()
    if version is None:
        raise ApplicationError(f"Version {number} does not exist.", code="not_found", status_code=404)
    return test_update(test=test, actor=actor, definition=version.definition, change_note=f"Restored v{number}")


@transaction.atomic
def test_delete(*, test: Test, actor) -> None:
    _check_project_writable(test.project)
    audit_record(actor=actor, action="test.deleted", target=test)
    test.delete()


def _import_entries(document: Any) -> list[dict]:
    # Accepted shapes: one test ({"name", "steps", ...}), a list of tests, or {"tests": [...]}.
    if isinstance(document, dict) and "tests" in document:
        document = document["tests"]
    entries = document if isinstance(document, list) else [document]
    if not entries or not all(isinstance(entry, dict) for entry in entries):
        raise ApplicationError("The file must hold a test object, a list of them, or {\"tests\": [...]}.",
                               code="invalid_import")
    if len(entries) > MAX_IMPORT_TESTS:
        raise ApplicationError(f"Import at most {MAX_IMPORT_TESTS} tests at a time.", code="invalid_import")
    return entries


@transaction.atomic
def tests_import(
    *, project: Project, actor, document: Any, origin: str = TestOrigin.MANUAL, status: str = TestStatus.DRAFT,
) -> list[Test]:
    """Create tests from an imported steps file. All or nothing: one bad test refuses the whole file."""
    _check_project_writable(project)
    entries = _import_entries(document)
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for position, entry in enumerate(entries):
        name = str(entry.get("name") or "").strip()
        if not name:
            errors[f"tests[{position}]"] = ["“name” is required."]
        elif name in seen or Test.objects.filter(project=project, name=name).exists():
            errors[f"tests[{position}]"] = [f"A test named “{name}” exists."]
        seen.add(name)
    if errors:
        raise ApplicationError("The import file has problems; nothing was imported.", code="invalid_import",
                               details=errors)
    created = []
    for position, entry in enumerate(entries):
        definition = {key: entry[key] for key in ("version", "start_url", "steps") if key in entry}
        definition.setdefault("version", 1)
        try:
            created.append(test_create(
                project=project, actor=actor, name=entry["name"], definition=definition,
                description=str(entry.get("description", "")), origin=origin, status=status,
                tags=entry.get("tags") if isinstance(entry.get("tags"), list) else None,
            ))
        except ApplicationError as exc:
            details = {f"tests[{position}].{key}": value for key, value in (exc.details or {}).items()}
            raise ApplicationError(f"Test {position} (“{entry['name']}”): {exc.message}", code=exc.code,
                                   details=details, status_code=exc.status_code) from exc
    return created


def _clean_devices(devices: list[str] | None) -> list[str]:
    unknown = sorted(set(devices or []) - set(DEVICES))
    if unknown:
        raise ApplicationError(f"Unknown device(s): {', '.join(unknown)}.", code="invalid",
                               details={"devices": [f"Use one of: {', '.join(DEVICES)}."]})
    return list(dict.fromkeys(devices or []))


def _set_suite_tests(suite: Suite, test_ids: list) -> None:
    tests = {str(test.pk): test for test in Test.objects.filter(project=suite.project, pk__in=test_ids)}
    missing = [str(test_id) for test_id in test_ids if str(test_id) not in tests]
    if missing:
        raise ApplicationError("Some tests are not in this project.", code="invalid",
                               details={"tests": [f"Unknown test: {test_id}" for test_id in missing]})
    SuiteTest.objects.filter(suite=suite).delete()
    SuiteTest.objects.bulk_create([
        SuiteTest(suite=suite, test=tests[str(test_id)], position=position)
        for position, test_id in enumerate(dict.fromkeys(str(test_id) for test_id in test_ids))
    ])


def _suite_snapshot(suite: Suite) -> dict:
    return {**snapshot(suite, SUITE_AUDITED_FIELDS),
            "tests": [str(pk) for pk in suite.ordered_tests().values_list("pk", flat=True)]}


@transaction.atomic
def suite_create(
    *, project: Project, actor, name: str, tests: list | None = None, description: str = "",
    default_environment: str = "", default_devices: list[str] | None = None,
) -> Suite:
    _check_project_writable(project)
    if default_environment and default_environment not in EnvironmentName.values:
        raise ApplicationError("Unknown environment.", code="invalid",
                               details={"default_environment": [f"Use one of {EnvironmentName.values}."]})
    suite = Suite(project=project, name=name.strip(), description=description,
                  default_environment=default_environment, default_devices=_clean_devices(default_devices))
    try:
        with transaction.atomic():
            suite.save()
    except IntegrityError as exc:
        raise _name_taken("suite", suite.name) from exc
    _set_suite_tests(suite, tests or [])
    audit_record(actor=actor, action="suite.created", target=suite, changes=_suite_snapshot(suite))
    return suite


@transaction.atomic
def suite_update(*, suite: Suite, actor, tests: list | None = None, **fields) -> Suite:
    _check_project_writable(suite.project)
    before = _suite_snapshot(suite)
    for field, value in fields.items():
        if field not in SUITE_AUDITED_FIELDS:
            raise ApplicationError(f"“{field}” cannot be changed.", code="invalid")
        if field == "default_devices":
            value = _clean_devices(value)
        if field == "default_environment" and value and value not in EnvironmentName.values:
            raise ApplicationError("Unknown environment.", code="invalid",
                                   details={"default_environment": [f"Use one of {EnvironmentName.values}."]})
        setattr(suite, field, value.strip() if field == "name" else value)
    try:
        with transaction.atomic():
            suite.save()
    except IntegrityError as exc:
        raise _name_taken("suite", suite.name) from exc
    if tests is not None:
        _set_suite_tests(suite, tests)
    changes = diff(before, _suite_snapshot(suite))
    if changes:
        audit_record(actor=actor, action="suite.updated", target=suite, changes=changes)
    return suite


@transaction.atomic
def suite_delete(*, suite: Suite, actor) -> None:
    _check_project_writable(suite.project)
    audit_record(actor=actor, action="suite.deleted", target=suite)
    suite.delete()


# These names start with "test_": tell pytest they are not tests when a test module imports them.
for _service in (test_create, test_update, test_restore_version, test_delete, tests_import):
    _service.__test__ = False
