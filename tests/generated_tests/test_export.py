"""Export to pytest + Selenium: the exported file runs on its own (a `python -m pytest` subprocess
with no Argus on the path), passes against the page it was written for and fails when the page changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from apps.core.errors import ApplicationError
from apps.generated_tests.export import export_test_to_pytest, export_tests_to_pytest
from apps.generated_tests.services import test_create
from apps.projects.services import project_create
from tests.runtime import stop_process
from tests.test_runs.test_engine import serve_directory

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Greeter</title>
<style>.menu .items { display: none; } .menu:hover .items { display: block; }</style></head>
<body><h1 data-testid="title">Greeter</h1>
<div class="menu"><span>Menu</span><div class="items"><a href="/next.html" id="next">Next page</a></div></div>
<label for="name">Your name</label><input id="name">
<label for="tone">Tone</label>
<select id="tone"><option value="warm">Warm</option><option value="dry">Dry</option></select>
<button id="greet" type="button">__BUTTON__</button>
<p id="greeting" aria-live="polite"></p>
<a href="/next.html?code=A-7" data-qa="code-link">Code A-7</a>
<script src="greeter.js"></script></body></html>
"""
GREETER_JS = """document.getElementById("greet").addEventListener("click", () => {
  const tone = document.getElementById("tone").value === "warm" ? "Hello" : "Hi";
  setTimeout(() => {
    document.getElementById("greeting").textContent = tone + ", " + document.getElementById("name").value + "!";
  }, 200);
});
document.getElementById("name").addEventListener("keydown", (event) => {
  if (event.key === "Enter") document.getElementById("greet").click();
});
"""
NEXT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Next</title></head>
<body><h1>Next page</h1><input id="echo" aria-label="Echo"></body></html>
"""

GREETING = {"version": 1, "start_url": "/", "steps": [
    {"action": "assert_visible", "target": {"locators": [{"kind": "test_id", "value": "title"}]}},
    {"action": "type", "target": {"locators": [{"kind": "css", "value": "#old-name-field"},
                                               {"kind": "label", "value": "Your name"}]},
     "value": "{{ env.VISITOR }}"},
    {"action": "select", "target": {"locators": [{"kind": "label", "value": "Tone"}]}, "value": "Dry"},
    {"action": "click", "target": {"locators": [{"kind": "css", "value": "#greet"},
                                                {"kind": "role", "value": "button", "name": "Greet"}],
                                   "description": "Greet button"}},
    {"action": "assert_text", "target": {"locators": [{"kind": "css", "value": "#greeting"}]},
     "text": "Hi, {{ env.VISITOR }}!", "match": "equals"},
    {"action": "type", "target": {"locators": [{"kind": "css", "value": "#name"}]}, "value": "Bo"},
    {"action": "select", "target": {"locators": [{"kind": "css", "value": "#tone"}]}, "value": "warm"},
    {"action": "press", "key": "Enter", "target": {"locators": [{"kind": "css", "value": "#name"}]}},
    {"action": "wait_for", "target": {"locators": [{"kind": "text", "value": "Hello, Bo!", "exact": True}]}},
    {"action": "extract", "name": "CODE", "target": {"locators": [{"kind": "test_id", "value": "code-link"}]}},
    {"action": "assert_no_console_errors", "ignore": ["favicon"]},
    {"action": "screenshot", "name": "greeted"},
    {"action": "hover", "target": {"locators": [{"kind": "text", "value": "Menu", "exact": True}]}},
    {"action": "click", "target": {"locators": [{"kind": "role", "value": "link", "name": "Next page"}]},
     "optional": True},
    {"action": "assert_url", "value": r"/next\.html$", "match": "regex", "timeout_ms": 3000},
    {"action": "type", "target": {"locators": [{"kind": "label", "value": "Echo"}]}, "value": "{{ vars.CODE }}"},
]}
SHORT = {"version": 1, "start_url": "/next.html", "steps": [
    {"action": "assert_text", "target": {"locators": [{"kind": "role", "value": "heading"}]}, "text": "Next"},
]}


def write_site(folder: Path, button: str) -> None:
    folder.mkdir()
    (folder / "index.html").write_text(PAGE.replace("__BUTTON__", button))
    (folder / "greeter.js").write_text(GREETER_JS)
    (folder / "next.html").write_text(NEXT)


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The page the test was written for, and the same page after a redesign renamed the button."""
    root = tmp_path_factory.mktemp("export-sites")
    write_site(root / "original", "Greet")
    write_site(root / "changed", "Say hello")
    (root / "changed" / "index.html").write_text(
        (root / "changed" / "index.html").read_text().replace('id="greet"', 'id="say-hello"'))
    original, original_url = serve_directory(root / "original")
    changed, changed_url = serve_directory(root / "changed")
    yield original_url, changed_url
    stop_process(original)
    stop_process(changed)


def run_exported(source: str, folder: Path, base_url: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m pytest` on the exported file alone: no Django, no Argus, no project config."""
    folder.mkdir(exist_ok=True)
    path = folder / "test_exported.py"
    path.write_text(source)
    clean_env = {"PATH": os.environ["PATH"], "HOME": str(folder), "ARGUS_BASE_URL": base_url,
                 "ARGUS_STEP_TIMEOUT": "3", **env}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:django", "-p", "no:cacheprovider",
                           str(path)], cwd=folder, env=clean_env, capture_output=True, text=True, timeout=180)


def test_an_exported_test_passes_against_its_page_and_fails_when_the_page_changes(sites, tmp_path):
    original, changed = sites
    source = export_test_to_pytest(GREETING, name="Greets a visitor", base_url="http://127.0.0.1:1/")
    assert "from apps" not in source and "import apps" not in source and "django" not in source
    assert 'os.environ["VISITOR"]' in source and 'page.vars["CODE"]' in source
    assert "# 4. Click Greet button" in source
    passed = run_exported(source, tmp_path / "original", original, VISITOR="Ada", ARGUS_SCREENSHOT_DIR=str(tmp_path))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "1 passed" in passed.stdout
    assert (tmp_path / "greeted.png").read_bytes()[:4] == b"\x89PNG"
    failed = run_exported(source, tmp_path / "changed", changed, VISITOR="Ada")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "AssertionError: no element matched css=#greet or role=button [Greet]" in failed.stdout


def test_a_missing_environment_variable_fails_the_exported_test(sites, tmp_path):
    source = export_test_to_pytest(GREETING, name="Greets a visitor", base_url=sites[0])
    done = run_exported(source, tmp_path, sites[0])
    assert done.returncode == 1 and "KeyError: 'VISITOR'" in done.stdout


def test_a_suite_exports_to_one_file_with_a_function_per_test(sites, alpha, tmp_path):
    with tenant_context(alpha.organization):
        project = project_create(actor=alpha.admin, name="Greeter", base_url=sites[0])
        tests = [test_create(project=project, actor=alpha.developer, name=name, definition=definition)
                 for name, definition in (("Greets a visitor", GREETING), ("Next page", SHORT), ("Next-page", SHORT))]
        source = export_tests_to_pytest(tests, sites[0])
    assert "def test_greets_a_visitor(page):" in source
    assert "def test_next_page(page):" in source and "def test_next_page_2(page):" in source
    done = run_exported(source, tmp_path, sites[0], VISITOR="Grace")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_the_exported_file_is_lint_clean(tmp_path):
    path = tmp_path / "test_exported.py"
    long_xpath = "//main/section[@data-area='checkout']" + "/div[contains(@class, 'step')]" * 6 + "/button"
    definition = {**GREETING, "steps": [*GREETING["steps"], {"action": "click", "target": {"locators": [
        {"kind": "xpath", "value": long_xpath}, {"kind": "role", "value": "button", "name": "Pay now"}]}}]}
    path.write_text(export_test_to_pytest(definition, name='A "quoted" \\ name ' * 10, base_url="https://shop.example/"))
    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run([str(ruff), "check", "--isolated", "--line-length", "120", "--select", "E,F,I,B,UP,SIM",
                           str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_invalid_definition_is_not_exported():
    with pytest.raises(ApplicationError) as caught:
        export_test_to_pytest({"version": 1, "steps": [{"action": "fly"}]}, name="Broken", base_url="https://x.test/")
    assert caught.value.code == "invalid_steps"
