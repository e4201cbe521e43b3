"""JUnit XML: parsing the flavours real tools write, importing a report as a run, and exporting any run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.core.errors import ApplicationError
from apps.generated_tests import services as test_services
from apps.projects.services import project_create
from apps.test_runs.junit import MAX_CASES, junit_import_run, parse_junit, render_junit_xml
from apps.test_runs.models import Artifact, ResultStatus, Run, RunKind, RunStatus, StepResult, TestResult
from apps.test_runs.services import result_claim, result_finish, run_create

SAMPLES = Path(__file__).parent / "junit_samples"
STEPS = {"version": 1, "start_url": "/", "steps": [{"action": "goto", "url": "/"}]}


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def by_name(cases):
    return {case.name: case for case in cases}


def test_pytest_flavour():
    cases = by_name(parse_junit(sample("pytest.xml")))
    assert [case.status for case in cases.values()] == ["passed", "failed", "skipped", "error"]
    failed = cases["test_total_includes_tax"]
    assert failed.classname == "tests.test_cart" and failed.suite == "pytest"
    assert failed.duration_ms == 21
    assert failed.error_message.startswith("assert 107.0 == 108.0")
    assert "tests/test_cart.py:14: AssertionError" in failed.error_message  # the traceback body is kept
    assert failed.output == "computing tax for region=EU"
    assert cases["test_coupon_expired"].error_type == "pytest.skip"
    assert "coupons are disabled" in cases["test_coupon_expired"].error_message
    assert "ConnectionRefusedError" in cases["test_pay"].error_message


def test_playwright_flavour():
    cases = by_name(parse_junit(sample("playwright.xml")))
    assert set(cases) == {"checkout › guest can pay with a card", "checkout › shows the order number",
                          "checkout › pays with PayPal"}
    failed = cases["checkout › shows the order number"]
    assert failed.status == "failed" and failed.classname == "checkout.spec.ts" and failed.duration_ms == 3807
    assert "toHaveText" in failed.error_message
    assert "[[ATTACHMENT|" in failed.output
    skipped = cases["checkout › pays with PayPal"]
    assert skipped.status == "skipped" and skipped.error_message == "Skipped"


def test_jest_flavour():
    cases = parse_junit(sample("jest.xml"))
    assert [(case.suite, case.status) for case in cases] == [
        ("Cart reducer", "passed"), ("Cart reducer", "failed"), ("formatPrice", "passed")]
    assert "toEqual" in cases[1].error_message  # a <failure> with a body and no message attribute
    assert cases[2].file == "src/__tests__/price.test.js"


def test_surefire_flavour():
    cases = by_name(parse_junit(sample("surefire.xml")))
    assert cases["computesTotal"].status == "failed"
    assert cases["computesTotal"].error_type == "org.opentest4j.AssertionFailedError"
    assert "CartServiceTest.java:42" in cases["computesTotal"].error_message
    assert cases["loadsFromDatabase"].status == "error"
    assert cases["loadsFromDatabase"].duration_ms == 1_203_900  # "1,203.9" seconds
    assert cases["appliesCoupon"].status == "skipped"
    assert cases["retriesPayment"].status == "passed"  # a flaky failure that passed on rerun
    assert "total computed" in cases["computesTotal"].output


def test_cypress_flavour():
    cases = parse_junit(sample("cypress.xml"))
    assert [case.status for case in cases] == ["passed", "passed", "failed"]
    # mocha-junit-reporter puts the test title in classname; the suite is the useful group.
    assert {case.classname for case in cases} == {"Login"}
    assert {case.file for case in cases} == {"cypress/e2e/login.cy.js"}
    assert "Wrong password" in cases[2].error_message


@pytest.mark.parametrize("payload", [
    b"",
    b"<testsuites><testsuite><testcase name='x'>",
    b"not xml at all",
    b"<html><body>502 Bad Gateway</body></html>",
])
def test_malformed_reports_are_refused(payload):
    with pytest.raises(ApplicationError) as raised:
        parse_junit(payload)
    assert raised.value.code == "invalid_junit"


def test_entity_expansion_is_refused():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b"<testsuite><testcase name='&lol2;'/></testsuite>")
    with pytest.raises(ApplicationError) as raised:
        parse_junit(bomb)
    assert raised.value.code == "invalid_junit"


def _big_report(count: int) -> bytes:
    body = "".join(
        f'<testcase classname="pkg.Module{index % 50}" name="test_{index}" time="0.01">'
        + ('<failure message="boom">trace</failure>' if index % 100 == 0 else "") + "</testcase>"
        for index in range(count))
    return f'<testsuites><testsuite name="big">{body}</testsuite></testsuites>'.encode()


def test_a_huge_report_parses_quickly():
    payload = _big_report(15_000)
    started = time.perf_counter()
    cases = parse_junit(payload)
    elapsed = time.perf_counter() - started
    assert len(cases) == 15_000
    assert sum(case.status == "failed" for case in cases) == 150
    assert elapsed < 5, elapsed


def test_more_cases_than_the_limit_are_refused():
    with pytest.raises(ApplicationError) as raised:
        parse_junit(_big_report(MAX_CASES + 1))
    assert raised.value.code == "junit_too_large"


def test_long_messages_and_output_are_clipped():
    message = "x" * 50_000
    payload = (f'<testsuite><testcase name="t"><failure message="{message}"/>'
               f"<system-out>{'y' * 100_000}END</system-out></testcase></testsuite>").encode()
    case = parse_junit(payload)[0]
    assert len(case.error_message) == 20_000 and case.error_message.endswith("…")
    assert len(case.output) == 64_000 and case.output.endswith("END")  # the tail of output matters most


@pytest.fixture
def project(alpha):
    with tenant_context(alpha.organization):
        yield project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example/",
                             environments={"staging": "https://staging.shop.example/"})


def test_import_creates_a_finished_run_with_results(alpha, project):
    with tenant_context(alpha.organization):
        run = junit_import_run(project=project, actor=alpha.developer, xml_bytes=sample("surefire.xml"),
                               metadata={"branch": "main", "commit": "abc123", "ignored": "x"})
        run.refresh_from_db()
        assert run.kind == RunKind.IMPORT and run.trigger == "ci"
        assert run.status == RunStatus.FAILED
        assert (run.total, run.passed, run.failed, run.errored, run.skipped) == (5, 2, 1, 1, 1)
        assert run.metadata == {"branch": "main", "commit": "abc123"}
        assert run.finished_at is not None and run.duration_ms >= 1_203_000
        assert run.started_by_label == alpha.developer.email
        names = list(run.results.values_list("name", "classname", "status"))
        assert names[1] == ("computesTotal", "com.example.shop.CartServiceTest", "failed")
        artifact = Artifact.objects.get(run=run)
        assert artifact.kind == "junit"
        with artifact.file.open("rb") as handle:
            assert handle.read() == sample("surefire.xml")
        assert AuditEntry.objects.filter(action="run.imported", object_id=str(run.pk)).exists()


def test_an_all_passing_import_is_passed(alpha, project):
    with tenant_context(alpha.organization):
        payload = b'<testsuite name="s"><testcase name="a" time="0.1"/><testcase name="b"><skipped/></testcase>' \
                  b"</testsuite>"
        run = junit_import_run(project=project, actor=alpha.developer, xml_bytes=payload, metadata={})
        assert run.status == RunStatus.PASSED and run.passed == 1 and run.skipped == 1


@pytest.mark.parametrize(("payload", "code"), [
    (b"<testsuites><testsuite>", "invalid_junit"),
    (b"<testsuites></testsuites>", "invalid_junit"),
])
def test_a_bad_import_creates_nothing(alpha, project, payload, code):
    with tenant_context(alpha.organization):
        with pytest.raises(ApplicationError) as raised:
            junit_import_run(project=project, actor=alpha.developer, xml_bytes=payload, metadata={})
        assert raised.value.code == code
        assert not Run.objects.filter(project=project).exists()
        assert not TestResult.objects.exists()


def test_an_oversized_import_is_refused(alpha, project, settings):
    settings.ARGUS_UPLOAD_MAX_BYTES = 1000
    with tenant_context(alpha.organization):
        with pytest.raises(ApplicationError) as raised:
            junit_import_run(project=project, actor=alpha.developer, xml_bytes=_big_report(100), metadata={})
        assert raised.value.code == "too_large" and raised.value.status_code == 413
        assert not Run.objects.filter(project=project).exists()


def test_a_browser_run_exports_as_junit(alpha, project):
    with tenant_context(alpha.organization):
        tests = [test_services.test_create(project=project, actor=alpha.developer, name=name, definition=STEPS)
                 for name in ("Checkout", "Search <fast>")]
        suite = test_services.suite_create(project=project, actor=alpha.developer, name="Smoke",
                                           tests=[test.pk for test in tests])
        run = run_create(project=project, actor=alpha.developer, suite=suite, devices=["desktop", "iphone-15"],
                         environment="staging")
        results = {(result.name, result.device): result for result in run.results.all()}
        failing = result_claim(results[("Checkout", "iphone-15")].pk, task_id="t", worker="w")
        StepResult.objects.create(result=failing, index=0, action="goto", description="Go to /",
                                  status="passed", started_at=timezone.now(), duration_ms=120)
        StepResult.objects.create(result=failing, index=1, action="click", description="Click “Pay” button",
                                  status="failed", started_at=timezone.now(), duration_ms=3000,
                                  page_url="https://staging.shop.example/cart",
                                  error="No element matched test_id=pay within 3000 ms")
        result_finish(failing, status=ResultStatus.FAILED, error_type="LocatorNotFound",
                      error_message="No element matched test_id=pay within 3000 ms")
        for key in [("Checkout", "desktop"), ("Search <fast>", "desktop")]:
            result_finish(result_claim(results[key].pk, task_id="t", worker="w"), status=ResultStatus.PASSED)
        # ("Search <fast>", "iphone-15") is still queued.

        document = render_junit_xml(run)
    root = fromstring(document.encode())
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("4", "1", "0", "1")
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["Smoke"]
    properties = {prop.get("name"): prop.get("value") for prop in suites[0].iter("property")}
    assert properties["argus.run_number"] == str(run.number) and properties["argus.environment"] == "staging"
    cases = {case.get("name"): case for case in suites[0].findall("testcase")}
    assert set(cases) == {"Checkout [desktop]", "Checkout [iphone-15]", "Search <fast> [desktop]",
                          "Search <fast> [iphone-15]"}
    assert {case.get("classname") for case in cases.values()} == {"Smoke"}
    failure = cases["Checkout [iphone-15]"].find("failure")
    assert failure.get("message") == "Step 2 (Click “Pay” button): No element matched test_id=pay within 3000 ms"
    assert failure.get("type") == "LocatorNotFound"
    assert "Page: https://staging.shop.example/cart" in failure.text
    assert cases["Search <fast> [iphone-15]"].find("skipped").get("message") == "Not run"
    assert cases["Checkout [desktop]"].find("failure") is None
    # What Argus exports, Argus (and any CI) reads back.
    reparsed = by_name(parse_junit(document.encode()))
    assert reparsed["Checkout [iphone-15]"].status == "failed"
    assert reparsed["Search <fast> [desktop]"].status == "passed"


def test_an_imported_run_exports_its_own_classnames(alpha, project):
    with tenant_context(alpha.organization):
        run = junit_import_run(project=project, actor=alpha.developer, xml_bytes=sample("pytest.xml"), metadata={})
        document = render_junit_xml(run)
    reparsed = parse_junit(document.encode())
    assert [(case.classname, case.name, case.status) for case in reparsed] == [
        ("tests.test_cart", "test_add_to_cart", "passed"), ("tests.test_cart", "test_total_includes_tax", "failed"),
        ("tests.test_cart", "test_coupon_expired", "skipped"), ("tests.test_checkout", "test_pay", "error")]


def test_control_characters_do_not_break_the_export(alpha, project):
    with tenant_context(alpha.organization):
        run = junit_import_run(project=project, actor=alpha.developer, metadata={}, xml_bytes=(
            b'<testsuite><testcase name="t"><failure message="bad">x</failure></testcase></testsuite>'))
        run.results.update(error_message="escape \x1b[31mred\x1b[0m and \x0c feed", output="out\x07put")
        document = render_junit_xml(run)
    case = parse_junit(document.encode())[0]  # still well-formed XML
    assert "red" in case.error_message and "\x1b" not in case.error_message
    assert case.output == "output"
