"""JUnit XML in and out: the lingua franca of test reports.

In: `parse_junit` reads the flavours real tools write (pytest, Playwright, Jest-junit, Maven
Surefire, Cypress/mocha-junit-reporter) into `ParsedCase`s; `junit_import_run` turns a report
into a finished run. Out: `render_junit_xml` writes any run (browser, command, import) as JUnit,
so CI systems can show Argus results next to their own.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET  # noqa: S405 - only used to *build* XML; parsing goes through defusedxml
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import ApplicationError
from apps.projects.models import Project
from apps.test_runs import services
from apps.test_runs.models import (
    Artifact,
    ArtifactKind,
    ResultStatus,
    Run,
    RunKind,
    RunTrigger,
    StepResult,
    StepStatus,
    TestResult,
)

MAX_CASES = 20_000
MAX_NAME_CHARS = 500
MAX_MESSAGE_CHARS = 20_000
MAX_OUTPUT_CHARS = 64_000
METADATA_KEYS = ("name", "branch", "commit", "build_url", "pull_request", "author")

# Characters XML 1.0 cannot hold at all (control characters other than tab, newline, carriage return).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class ParsedCase:
    name: str
    classname: str
    file: str
    suite: str
    status: str  # a ResultStatus value: passed, failed, error or skipped
    duration_ms: int | None
    error_type: str
    error_message: str
    output: str


def _local(tag) -> str:
    # Surefire reports may carry an XML namespace; the element names are what matter.
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _duration_ms(value: str | None) -> int | None:
    if not value:
        return None
    try:
        # Surefire writes "1,234.5" for long tests in some locales.
        seconds = float(value.replace(",", "").strip())
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return int(round(seconds * 1000))


def _text(element) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _clip(text: str, limit: int, *, keep_end: bool = False) -> str:
    if len(text) <= limit:
        return text
    return "…" + text[-(limit - 1):] if keep_end else text[: limit - 1] + "…"


def _outcome(case) -> tuple[str, str, str]:
    """(status, error type, error message) of a <testcase>."""
    children = {}
    for child in case:
        children.setdefault(_local(child.tag), child)
    # A failed assertion is what the test reports; an error in teardown after it is secondary.
    for tag, status in (("failure", ResultStatus.FAILED), ("error", ResultStatus.ERROR),
                        ("skipped", ResultStatus.SKIPPED)):
        element = children.get(tag)
        if element is None:
            continue
        message = (element.get("message") or "").strip()
        body = _text(element)
        if body and body != message:
            message = f"{message}\n\n{body}" if message else body
        if status == ResultStatus.SKIPPED and not message:
            message = "Skipped"
        return status, (element.get("type") or "").strip(), message
    # Surefire's flaky reruns (<flakyFailure>/<flakyError>) mean the test passed in the end.
    return ResultStatus.PASSED, "", ""


def _output(case) -> str:
    parts = []
    for child in case:
        if _local(child.tag) in ("system-out", "system-err"):
            text = _text(child)
            if text:
                parts.append(text)
    return "\n".join(parts)


def _walk(element, suite_name: str, suite_file: str, cases: list[ParsedCase]) -> None:
    tag = _local(element.tag)
    if tag == "testcase":
        if len(cases) >= MAX_CASES:
            raise ApplicationError(f"The report holds more than {MAX_CASES} test cases.", code="junit_too_large",
                                   status_code=413)
        status, error_type, message = _outcome(element)
        classname = (element.get("classname") or "").strip()
        name = (element.get("name") or "").strip() or classname or "(unnamed test)"
        if suite_name and name != classname and name.endswith(f" {classname}"):
            # mocha-junit-reporter (Cypress): name is the full title, classname only the test's own.
            classname = suite_name
        cases.append(ParsedCase(
            name=_clip(name, MAX_NAME_CHARS), classname=_clip(classname or suite_name, MAX_NAME_CHARS),
            file=_clip((element.get("file") or suite_file).strip(), MAX_NAME_CHARS),
            suite=_clip(suite_name, MAX_NAME_CHARS), status=status, duration_ms=_duration_ms(element.get("time")),
            error_type=_clip(error_type, 100), error_message=_clip(message, MAX_MESSAGE_CHARS),
            output=_clip(_output(element), MAX_OUTPUT_CHARS, keep_end=True),
        ))
        return
    if tag == "testsuite":
        suite_name = (element.get("name") or "").strip() or suite_name
        suite_file = (element.get("file") or "").strip() or suite_file
    else:
        # Cypress writes one report per spec with the file only on its "Root Suite".
        files = {child.get("file") for child in element if _local(child.tag) == "testsuite" and child.get("file")}
        if len(files) == 1:
            suite_file = files.pop()
    for child in element:
        if _local(child.tag) in ("testsuite", "testsuites", "testcase"):
            _walk(child, suite_name, suite_file, cases)


def parse_junit(xml_bytes: bytes) -> list[ParsedCase]:
    """The test cases of a JUnit XML report, in document order. Malformed or unsafe XML (entities,
    DTDs) → ApplicationError "invalid_junit"."""
    if not xml_bytes or not xml_bytes.strip():
        raise ApplicationError("The JUnit report is empty.", code="invalid_junit")
    try:
        root = safe_fromstring(xml_bytes, forbid_dtd=True)
    except ParseError as exc:
        raise ApplicationError(f"The JUnit report is not well-formed XML: {exc}.", code="invalid_junit") from exc
    except DefusedXmlException as exc:
        raise ApplicationError("The JUnit report uses DTDs or entities, which are refused.",
                               code="invalid_junit") from exc
    if _local(root.tag) not in ("testsuites", "testsuite", "testcase"):
        raise ApplicationError(f"Not a JUnit report: the root element is <{_local(root.tag)}>, expected "
                               "<testsuites> or <testsuite>.", code="invalid_junit")
    cases: list[ParsedCase] = []
    _walk(root, "", "", cases)
    return cases


def result_from_case(run: Run, case: ParsedCase, position: int, masker=None) -> TestResult:
    """An unsaved TestResult for a parsed case (masked when a masker is given)."""
    mask = masker.text if masker is not None else (lambda value: value)
    return TestResult(
        run=run, name=mask(case.name)[:MAX_NAME_CHARS], classname=mask(case.classname)[:MAX_NAME_CHARS],
        position=position, status=case.status, started_at=run.started_at, finished_at=run.finished_at,
        duration_ms=case.duration_ms, error_type=mask(case.error_type)[:100],
        error_message=mask(case.error_message), output=mask(case.output),
    )


def _clean_metadata(metadata: dict | None) -> dict:
    cleaned = {}
    for key in METADATA_KEYS:
        value = (metadata or {}).get(key)
        if value not in (None, ""):
            cleaned[key] = str(value)[:500]
    return cleaned


@transaction.atomic
def junit_import_run(*, project: Project, actor, xml_bytes: bytes, metadata: dict | None = None,
                     trigger: str = RunTrigger.CI) -> Run:
    """A finished run made from a JUnit report (from CI or any tool). All or nothing: a report that
    can't be read creates no run."""
    if project.is_archived:
        raise ApplicationError("Archived projects cannot receive runs.", code="archived", status_code=409)
    if trigger not in RunTrigger.values:
        raise ApplicationError("Unknown trigger.", code="invalid", details={"trigger": [f"Use {RunTrigger.values}."]})
    if len(xml_bytes) > settings.ARGUS_UPLOAD_MAX_BYTES:
        raise ApplicationError(f"The report is larger than {settings.ARGUS_UPLOAD_MAX_BYTES} bytes.",
                               code="too_large", status_code=413)
    cases = parse_junit(xml_bytes)
    if not cases:
        raise ApplicationError("The JUnit report holds no test cases.", code="invalid_junit")
    metadata = _clean_metadata(metadata)
    now = timezone.now()
    duration_ms = sum(case.duration_ms or 0 for case in cases)
    run = Run.objects.create(
        project=project, number=services.next_run_number(project), kind=RunKind.IMPORT, target_url="",
        trigger=trigger, started_by=actor if getattr(actor, "is_authenticated", False) else None,
        started_by_label=services.started_by_label(actor), metadata=metadata, total=len(cases),
        started_at=now - timedelta(milliseconds=duration_ms),
    )
    run.finished_at = now
    TestResult.objects.bulk_create([result_from_case(run, case, position) for position, case in enumerate(cases)],
                                   batch_size=1000)
    artifact = Artifact(run=run, kind=ArtifactKind.JUNIT, name="junit.xml", content_type="application/xml",
                        size=len(xml_bytes))
    artifact.file.save("junit.xml", ContentFile(xml_bytes), save=True)
    # run_refresh counts the results and derives the finished status, as for any other run.
    run = services.run_refresh(run.pk)
    audit_record(actor=actor, action="run.imported", target=run,
                 changes={"tests": run.total, "passed": run.passed, "failed": run.failed, "errored": run.errored,
                          "skipped": run.skipped, **metadata})
    return run


def _xml_text(value) -> str:
    return _XML_ILLEGAL.sub("", str(value or ""))


def _failing_steps(run: Run) -> dict:
    """The first failing step of each result's last attempt, in one query."""
    attempts = dict(run.results.values_list("pk", "attempt"))
    found: dict = {}
    steps = StepResult.objects.filter(result__run=run, status__in=[StepStatus.FAILED, StepStatus.ERROR])
    for step in steps.order_by("result_id", "attempt", "index"):
        if step.attempt == attempts.get(step.result_id) and step.result_id not in found:
            found[step.result_id] = step
    return found


def _group_of(run: Run, result: TestResult) -> str:
    if run.kind == RunKind.BROWSER:
        return run.suite.name if run.suite_id else run.project.name
    return result.classname or run.project.name


def _case_name(run: Run, result: TestResult) -> str:
    if run.kind == RunKind.BROWSER and result.device:
        return f"{result.name} [{result.device}]"
    return result.name


def _case_element(run: Run, result: TestResult, step: StepResult | None) -> ET.Element:
    case = ET.Element("testcase", {
        "name": _xml_text(_case_name(run, result)),
        "classname": _xml_text(_group_of(run, result)),
        "time": f"{(result.duration_ms or 0) / 1000:.3f}",
    })
    if result.status in (ResultStatus.FAILED, ResultStatus.ERROR):
        tag = "failure" if result.status == ResultStatus.FAILED else "error"
        message = result.error_message or ("Failed" if tag == "failure" else "Error")
        if step is not None:
            message = f"Step {step.index + 1} ({step.description or step.action}): {step.error or message}"
        details = [result.error_message]
        if step is not None and step.page_url:
            details.append(f"Page: {step.page_url}")
        if result.attempt:
            details.append(f"Attempt {result.attempt + 1}")
        element = ET.SubElement(case, tag, {"message": _xml_text(message.splitlines()[0] if message else ""),
                                            "type": _xml_text(result.error_type or tag)})
        element.text = _xml_text("\n".join(part for part in details if part))
    elif result.status in (ResultStatus.SKIPPED, ResultStatus.CANCELLED, ResultStatus.QUEUED, ResultStatus.RUNNING):
        reason = {ResultStatus.CANCELLED: "Cancelled", ResultStatus.QUEUED: "Not run",
                  ResultStatus.RUNNING: "Still running"}.get(result.status, "Skipped")
        ET.SubElement(case, "skipped", {"message": _xml_text(result.error_message or reason)})
    if result.output:
        ET.SubElement(case, "system-out").text = _xml_text(result.output)
    return case


def render_junit_xml(run: Run) -> str:
    """Any run as a JUnit XML document: one <testsuite> per suite (browser runs) or classname."""
    run = Run.objects.select_related("project", "suite", "environment").get(pk=run.pk)
    results = list(run.results.order_by("position", "device", "created_at"))
    failing = _failing_steps(run)
    groups: dict[str, list[TestResult]] = defaultdict(list)
    for result in results:
        groups[_group_of(run, result)].append(result)

    def counts(items: list[TestResult]) -> dict[str, str]:
        skipped = {ResultStatus.SKIPPED, ResultStatus.CANCELLED, ResultStatus.QUEUED, ResultStatus.RUNNING}
        return {
            "tests": str(len(items)),
            "failures": str(sum(item.status == ResultStatus.FAILED for item in items)),
            "errors": str(sum(item.status == ResultStatus.ERROR for item in items)),
            "skipped": str(sum(item.status in skipped for item in items)),
            "time": f"{sum(item.duration_ms or 0 for item in items) / 1000:.3f}",
        }

    root = ET.Element("testsuites", {"name": _xml_text(f"Argus run #{run.number} ({run.project.name})"),
                                     **counts(results)})
    if run.duration_ms is not None:
        root.set("time", f"{run.duration_ms / 1000:.3f}")
    for name, items in groups.items():
        suite = ET.SubElement(root, "testsuite", {"name": _xml_text(name), **counts(items)})
        if run.started_at:
            suite.set("timestamp", run.started_at.replace(microsecond=0).isoformat())
        properties = ET.SubElement(suite, "properties")
        for key, value in (("argus.run", str(run.pk)), ("argus.run_number", str(run.number)),
                           ("argus.status", run.status), ("argus.kind", run.kind),
                           ("argus.environment", run.environment.name if run.environment else ""),
                           ("argus.target_url", run.target_url), ("argus.devices", ",".join(run.devices))):
            if value:
                ET.SubElement(properties, "property", {"name": key, "value": _xml_text(value)})
        for result in items:
            suite.append(_case_element(run, result, failing.get(result.pk)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
