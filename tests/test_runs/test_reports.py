"""Run reports: the self-contained HTML file and the Markdown summary."""

from __future__ import annotations

import base64
import re
import struct
import zlib

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.generated_tests import services as test_services
from apps.projects.services import project_create
from apps.test_runs import reports
from apps.test_runs.junit import junit_import_run
from apps.test_runs.models import Artifact, ResultStatus, RunLogLine, StepResult
from apps.test_runs.services import result_claim, result_finish, run_create

STEPS = {"version": 1, "start_url": "/", "steps": [{"action": "goto", "url": "/"}]}
EVIL = "<script>alert('x')</script> | `code` [link](https://evil.example)"


def png(width: int, height: int, shade: int) -> bytes:
    """A real, tiny PNG (solid grey) so the inlined bytes are an image a browser would show."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def add_step(result, index, status, *, image: bytes | None = None, error="", description=None):
    screenshot = None
    if image is not None:
        screenshot = Artifact(run=result.run, result=result, kind="screenshot", name=f"step-{index}.png",
                              content_type="image/png", size=len(image))
        screenshot.file.save(f"step-{index}.png", ContentFile(image), save=True)
    return StepResult.objects.create(result=result, index=index, action="click", status=status,
                                     description=description or f"Click button {index}", started_at=timezone.now(),
                                     duration_ms=100 * (index + 1), error=error, screenshot=screenshot,
                                     page_url="https://staging.shop.example/cart", resolved_locator="css=#pay")


@pytest.fixture
def finished_run(alpha):
    """A browser run of 2 tests × 2 devices: one failure with screenshots, one error, two passes."""
    with tenant_context(alpha.organization):
        project = project_create(actor=alpha.admin, name="Shop & Co", base_url="https://shop.example/",
                                 environments={"staging": "https://staging.shop.example/"})
        tests = [test_services.test_create(project=project, actor=alpha.developer, name=name, definition=STEPS)
                 for name in ("Checkout", "Search <b>bold</b>")]
        suite = test_services.suite_create(project=project, actor=alpha.developer, name="Smoke",
                                           tests=[test.pk for test in tests])
        run = run_create(project=project, actor=alpha.developer, suite=suite, devices=["desktop", "iphone-15"],
                         environment="staging")
        results = {(result.name, result.device): result for result in run.results.all()}
        images = {}
        failing = result_claim(results[("Checkout", "iphone-15")].pk, task_id="t", worker="w")
        images["first"] = png(4, 3, 10)
        images["failure"] = png(5, 4, 200)
        add_step(failing, 0, "passed", image=images["first"])
        add_step(failing, 1, "failed", image=images["failure"], error=EVIL)
        add_step(failing, 2, "skipped")
        result_finish(failing, status=ResultStatus.FAILED, error_type="AssertionFailed", error_message=EVIL)
        erroring = result_claim(results[("Search <b>bold</b>", "desktop")].pk, task_id="t", worker="w")
        add_step(erroring, 0, "error", error="Could not reach https://staging.shop.example/: connection refused")
        result_finish(erroring, status=ResultStatus.ERROR, error_type="Unreachable",
                      error_message="Could not reach https://staging.shop.example/: connection refused")
        for key in [("Checkout", "desktop"), ("Search <b>bold</b>", "iphone-15")]:
            passing = result_claim(results[key].pk, task_id="t", worker="w")
            images[key] = png(3, 3, 90)
            add_step(passing, 0, "passed", image=images[key])
            result_finish(passing, status=ResultStatus.PASSED)
        RunLogLine.objects.create(run=run, seq=1, stream="system", text="worker w started <b>")
        run.refresh_from_db()
        yield run, images


def data_uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


def test_html_report_content(alpha, finished_run):
    run, images = finished_run
    with tenant_context(alpha.organization):
        html = reports.render_html_report(run)
    assert html.startswith("<!doctype html>")
    assert f"Run #{run.number} · Shop &amp; Co" in html
    assert "Desktop 1920×1080, iPhone 15" in html
    assert "Staging" in html and "https://staging.shop.example/" in html
    assert alpha.developer.email in html
    assert re.search(r"<b>4</b>total.*<b>2</b>passed.*<b>1</b>failed.*<b>1</b>errors", html, re.S)
    assert ">Failed<" in html  # the run's status badge
    # Escaping: names and errors from the app under test are shown, never interpreted.
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "Search &lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert "worker w started &lt;b&gt;" in html
    # Steps with durations and errors; screenshots inline.
    assert "Click button 1" in html and "200 ms" in html and "css=#pay" in html
    for image in images.values():
        assert data_uri(image) in html
    assert "Could not reach https://staging.shop.example/: connection refused" in html
    # Self-contained: no script, no stylesheet link, no remote image or font.
    assert "<script" not in html and "<link" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert "only failure screenshots" not in html


def test_html_report_of_a_large_run_keeps_failure_and_last_screenshots(alpha, finished_run, monkeypatch):
    run, images = finished_run
    # Budget for the failure screenshot and the last one of each test, not the first of the failing test.
    budget = sum(len(image) for key, image in images.items() if key != "first")
    monkeypatch.setattr(reports, "INLINE_SCREENSHOT_BYTES", budget)
    with tenant_context(alpha.organization):
        html = reports.render_html_report(run)
    assert data_uri(images["failure"]) in html
    assert data_uri(images[("Checkout", "desktop")]) in html
    assert data_uri(images["first"]) not in html
    assert "includes only failure screenshots and the last screenshot of each test: 3 of 4 are shown" in html
    assert "Screenshot not included in this file." in html


def test_html_report_of_an_imported_run(alpha, finished_run):
    run, _ = finished_run
    with tenant_context(alpha.organization):
        imported = junit_import_run(project=run.project, actor=alpha.developer, metadata={"branch": "feature/x"},
                                    xml_bytes=b'<testsuite><testcase classname="pkg.T" name="t1">'
                                              b'<failure message="m">trace &lt;here&gt;</failure>'
                                              b"<system-out>printed</system-out></testcase></testsuite>")
        html = reports.render_html_report(imported)
    assert "Imported JUnit report" in html and "feature/x" in html
    assert "pkg.T" in html and "trace &lt;here&gt;" in html and "printed" in html


def test_markdown_report(alpha, finished_run):
    run, _ = finished_run
    with tenant_context(alpha.organization):
        markdown = reports.render_markdown_report(run)
    lines = markdown.splitlines()
    assert lines[0] == f"## ❌ Argus run #{run.number} — failed"
    assert "**Project:** Shop &amp; Co" in markdown and "**Environment:** staging" in markdown
    assert "| 2 | 1 | 1 | 0 | 0 | 4 |" in markdown
    rows = [line for line in lines if line.startswith("| Checkout") or line.startswith("| Search")]
    assert len(rows) == 2
    failure = rows[0]
    assert failure.count(" | ") == 3  # the pipes in the error did not add columns
    assert "2\\. Click button 1" in failure or "2. Click button 1" in failure
    assert "&lt;script&gt;" in failure and "<script>" not in markdown
    assert "\\[link\\](https://evil.example)" in failure  # the error's Markdown link stays text
    assert "\\`code\\`" in failure
    assert "Search &lt;b&gt;bold&lt;/b&gt;" in rows[1] and "connection refused" in rows[1]
    assert "](http" not in markdown.replace("\\](http", "")  # Argus adds no link


def test_markdown_report_of_a_passed_run(alpha, finished_run):
    run, _ = finished_run
    with tenant_context(alpha.organization):
        imported = junit_import_run(project=run.project, actor=alpha.developer, metadata={},
                                    xml_bytes=b'<testsuite><testcase name="ok" time="1.5"/></testsuite>')
        markdown = reports.render_markdown_report(imported)
    assert markdown.startswith(f"## ✅ Argus run #{imported.number} — passed")
    assert "All tests passed." in markdown and "### Failures" not in markdown


@pytest.mark.parametrize(("ms", "text"), [(None, "—"), (850, "850 ms"), (3240, "3.2 s"), (64_000, "1 min 04 s"),
                                          (3_725_000, "1 h 02 min")])
def test_format_duration(ms, text):
    assert reports.format_duration(ms) == text
