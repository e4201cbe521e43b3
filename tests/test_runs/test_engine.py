"""The browser engine: every DSL action and locator kind in a real Chromium (interpreter called
directly, one browser for the module), then whole runs through a real Celery worker.

Targets: a small static site written to a temporary folder and served by `python -m http.server`
(deterministic pages for each locator and waiting rule), and the demo shop for complete journeys.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from apps.generated_tests.dsl import Masker
from apps.generated_tests.services import test_create
from apps.projects.models import Environment, EnvironmentVariable
from apps.test_runs import live
from apps.test_runs.devices import get_device
from apps.test_runs.engine.driver import apply_device, launch_browser
from apps.test_runs.engine.interpreter import Cancelled, Interpreter, StepError, StepFailed
from apps.test_runs.models import Artifact, ArtifactKind, ResultStatus, Run, RunStatus, StepResult, StepStatus
from apps.test_runs.services import run_cancel, run_create
from apps.test_runs.tasks import execute_result
from demo_shop.suite import load_suite
from tests.runtime import free_port, stop_process

pytestmark = pytest.mark.browser

LAB_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Engine lab</title>
<style>
  .menu .submenu { display: none; } .menu:hover .submenu { display: block; }
  .covered { position: relative; display: inline-block; }
  #overlay { position: absolute; inset: 0; background: rgba(0, 0, 0, .3); }
  .hidden { display: none; }
</style></head>
<body>
<header><nav aria-label="Main"><a href="/other.html" id="other-link">Other page</a></nav></header>
<main>
  <h1 id="title">Engine lab</h1>
  <p id="status" data-testid="status">Idle</p>
  <button id="save" data-testid="save-button" class="primary big" type="button">Save changes</button>
  <div id="fake-button" role="button" aria-label="Close dialog" tabindex="0">x</div>
  <span class="hidden" id="hidden-twin">Unique words</span>
  <span id="visible-twin">Unique <b>words</b></span>
  <form id="form" action="/other.html" method="get">
    <label for="email">Email address</label>
    <input id="email" name="email" type="email" placeholder="you@example.com">
    <label>Password <input id="password" name="password" type="password"></label>
    <label for="country">Country</label>
    <select id="country" name="country">
      <option value="">Choose</option><option value="fr">France</option><option value="de">Germany</option>
    </select>
    <input id="search" type="search" aria-label="Search products" name="q">
    <input type="submit" id="submit" value="Sign in">
  </form>
  <div class="menu" id="menu"><span>Categories</span>
    <ul class="submenu"><li><a href="#shoes" id="shoes">Shoes</a></li></ul></div>
  <a id="order-link" href="/other.html?order=A-1042" data-qa="order">Order A-1042</a>
  <button id="later-enabled" type="button" disabled>Wait for me</button>
  <button id="never-enabled" type="button" disabled>Never</button>
  <span class="covered"><button id="behind-overlay" type="button">Covered</button><span id="overlay"></span></span>
  <p id="vanishing">Going away</p>
</main>
<script src="lab.js"></script>
</body></html>
"""

LAB_JS = """
const status = document.getElementById("status");
const say = (text) => () => { status.textContent = text; };
document.getElementById("save").addEventListener("click", say("Saved!"));
document.getElementById("behind-overlay").addEventListener("click", say("Covered clicked"));
document.getElementById("later-enabled").addEventListener("click", say("Enabled clicked"));
document.getElementById("shoes").addEventListener("click", say("Shoes chosen"));
document.getElementById("search").addEventListener("keydown", (event) => {
  if (event.key === "Enter") { event.preventDefault(); status.textContent = "Searched " + event.target.value; }
});
setTimeout(() => document.getElementById("overlay").remove(), 400);
setTimeout(() => { document.getElementById("later-enabled").disabled = false; }, 400);
setTimeout(() => document.getElementById("vanishing").remove(), 300);
setTimeout(() => {
  const late = document.createElement("p");
  late.id = "late";
  late.textContent = "Arrived late";
  document.querySelector("main").append(late);
}, 300);
"""

OTHER_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Other</title></head>
<body><h1>Other page</h1><p id="query"></p>
<script src="other.js"></script></body></html>
"""
OTHER_JS = """document.getElementById("query").textContent = decodeURIComponent(location.search);
if (location.search.includes("shout")) console.error("The query was " + decodeURIComponent(location.search));
"""

CONSOLE_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Noisy</title></head>
<body><h1>Noisy page</h1><script src="noisy.js"></script></body></html>
"""
NOISY_JS = 'console.error("Boom from the lab");\nfetch("/missing-data.json");\n'

SITE = {"index.html": LAB_HTML, "lab.js": LAB_JS, "other.html": OTHER_HTML, "other.js": OTHER_JS,
        "noisy.html": CONSOLE_HTML, "noisy.js": NOISY_JS}


def serve_directory(folder: Path) -> tuple[subprocess.Popen, str]:
    """`python -m http.server` on a free port; returns the process and its base URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, f"http://127.0.0.1:{port}/"
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("the static site did not start")
            time.sleep(0.05)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("lab")
    for name, content in SITE.items():
        (folder / name).write_text(content)
    process, base_url = serve_directory(folder)
    yield base_url
    stop_process(process)


@pytest.fixture(scope="module")
def browser():
    browser = launch_browser()
    apply_device(browser.driver, get_device("desktop"))
    yield browser
    browser.quit()


@pytest.fixture
def lab(browser, site) -> Interpreter:
    """An interpreter on the lab page (short step timeout, so failures are quick)."""
    interpreter = Interpreter(browser.driver, base_url=site, env={"EMAIL": "ada@example.test"},
                              step_timeout_ms=2000)
    interpreter.open("/index.html")
    interpreter.drain_log()
    return interpreter


def target(*locators: dict) -> dict:
    return {"locators": list(locators)}


def css(selector: str) -> dict:
    return target({"kind": "css", "value": selector})


def found_id(lab: Interpreter, *locators: dict) -> str:
    """The id of the element a target resolves to (through an `extract` of its id attribute)."""
    outcome = lab.execute({"action": "extract", "target": target(*locators), "name": "FOUND", "attribute": "id"})
    return outcome.extracted["value"]


def status_text(lab: Interpreter) -> str:
    return lab.driver.find_element("id", "status").text


# -- locators ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("locator", "element_id"), [
    ({"kind": "css", "value": "form #email"}, "email"),
    ({"kind": "xpath", "value": "//button[contains(., 'Save')]"}, "save"),
    ({"kind": "xpath", "value": "//h1/text()"}, "title"),
    ({"kind": "text", "value": "save CHANGES"}, "save"),
    ({"kind": "text", "value": "Order A-1042", "exact": True}, "order-link"),
    ({"kind": "text", "value": "Sign in"}, "submit"),
    ({"kind": "role", "value": "button", "name": "Save changes"}, "save"),
    ({"kind": "role", "value": "button", "name": "close dialog"}, "fake-button"),
    ({"kind": "role", "value": "button", "name": "Sign in", "exact": True}, "submit"),
    ({"kind": "role", "value": "link", "name": "Other page"}, "other-link"),
    ({"kind": "role", "value": "textbox", "name": "Email address"}, "email"),
    ({"kind": "role", "value": "searchbox", "name": "Search products"}, "search"),
    ({"kind": "role", "value": "combobox", "name": "Country"}, "country"),
    ({"kind": "role", "value": "heading"}, "title"),
    ({"kind": "test_id", "value": "save-button"}, "save"),
    ({"kind": "test_id", "value": "order"}, "order-link"),
    ({"kind": "label", "value": "email address"}, "email"),
    ({"kind": "label", "value": "Password"}, "password"),
    ({"kind": "label", "value": "Search products"}, "search"),
])
def test_each_locator_kind_finds_its_element(lab, locator, element_id):
    assert found_id(lab, locator) == element_id


def test_locators_are_tried_in_order_and_the_one_that_matched_is_recorded(lab):
    outcome = lab.execute({"action": "click", "target": target(
        {"kind": "css", "value": "#no-such-button"}, {"kind": "role", "value": "button", "name": "Save changes"},
        {"kind": "test_id", "value": "save-button"})})
    assert outcome.resolved_locator == 'role=button[name="Save changes"]'
    assert status_text(lab) == "Saved!"


def test_a_visible_match_wins_over_a_hidden_one_and_text_finds_the_innermost_element(lab):
    assert found_id(lab, {"kind": "text", "value": "Unique words"}) == "visible-twin"
    assert found_id(lab, {"kind": "css", "value": "#hidden-twin"}, {"kind": "css", "value": "#visible-twin"}) == \
        "visible-twin"


def test_the_matched_element_s_fingerprint_is_recorded(lab):
    fingerprint = lab.execute({"action": "click", "target": target({"kind": "css", "value": "#save"})}).fingerprint
    assert fingerprint["tag"] == "button" and fingerprint["id"] == "save"
    assert fingerprint["classes"] == ["primary", "big"]
    assert fingerprint["type"] == "button" and fingerprint["role"] == "button"
    assert fingerprint["accessible_name"] == "Save changes" and fingerprint["text"] == "Save changes"
    assert fingerprint["test_ids"] == {"data-testid": "save-button"}
    assert fingerprint["dom_path"] == "button#save"
    assert fingerprint["parent"]["tag"] == "main"
    assert fingerprint["siblings"]["previous"]["id"] == "status"
    assert fingerprint["width"] > 0 and fingerprint["height"] > 0 and fingerprint["y"] > 0
    link = lab.execute({"action": "hover", "target": target({"kind": "test_id", "value": "order"})}).fingerprint
    assert link["href"] == "/other.html?order=A-1042" and link["test_ids"] == {"data-qa": "order"}


def test_an_invalid_locator_is_skipped_and_only_invalid_locators_are_an_error(lab):
    assert found_id(lab, {"kind": "css", "value": "button[["}, {"kind": "css", "value": "#save"}) == "save"
    with pytest.raises(StepError) as caught:
        lab.execute({"action": "click", "target": target({"kind": "xpath", "value": "//*[@@bad"})})
    assert caught.value.error_type == "invalid_locator"


def test_an_element_that_never_appears_fails_the_step_naming_what_was_tried(lab):
    started = time.monotonic()
    with pytest.raises(StepFailed) as caught:
        lab.execute({"action": "click", "timeout_ms": 500,
                     "target": {"locators": [{"kind": "css", "value": "#nope"}, {"kind": "text", "value": "Nothing"}],
                                "description": "The missing button"}})
    assert 0.5 <= time.monotonic() - started < 2
    assert caught.value.error_type == "element_not_found"
    assert caught.value.message == ("No element matched The missing button within 0.5 s "
                                    "(tried css=#nope, text=Nothing).")


# -- actions ----------------------------------------------------------------------------------------

def test_click_waits_for_an_overlay_to_go_and_for_a_button_to_be_enabled(lab):
    lab.execute({"action": "click", "target": target({"kind": "css", "value": "#behind-overlay"})})
    assert status_text(lab) == "Covered clicked"
    lab.execute({"action": "click", "target": target({"kind": "css", "value": "#later-enabled"})})
    assert status_text(lab) == "Enabled clicked"


def test_a_button_that_stays_disabled_fails_the_click(lab):
    with pytest.raises(StepFailed) as caught:
        lab.execute({"action": "click", "timeout_ms": 300, "target": css("#never-enabled")})
    assert caught.value.error_type == "disabled"
    assert caught.value.message == "css=#never-enabled (css=#never-enabled) stayed disabled for 0.3 s."


def test_type_clears_the_field_first_unless_told_not_to(lab):
    email = target({"kind": "label", "value": "Email address"})
    lab.execute({"action": "type", "target": email, "value": "first"})
    lab.execute({"action": "type", "target": email, "value": "{{ env.EMAIL }}"})
    assert lab.driver.find_element("id", "email").get_property("value") == "ada@example.test"
    lab.execute({"action": "type", "target": email, "value": "!", "clear": False})
    assert lab.driver.find_element("id", "email").get_property("value") == "ada@example.test!"


def test_select_by_value_then_by_visible_text(lab):
    country = target({"kind": "label", "value": "Country"})
    lab.execute({"action": "select", "target": country, "value": "de"})
    assert lab.driver.find_element("id", "country").get_property("value") == "de"
    lab.execute({"action": "select", "target": country, "value": "France"})
    assert lab.driver.find_element("id", "country").get_property("value") == "fr"
    with pytest.raises(StepFailed) as caught:
        lab.execute({"action": "select", "target": country, "value": "Atlantis", "timeout_ms": 200})
    assert caught.value.error_type == "option_not_found"
    with pytest.raises(StepFailed) as caught:
        lab.execute({"action": "select", "target": target({"kind": "css", "value": "#save"}), "value": "x"})
    assert caught.value.error_type == "not_a_select"


def test_hover_opens_a_menu_whose_item_can_then_be_clicked(lab):
    shoes = target({"kind": "role", "value": "link", "name": "Shoes"})
    with pytest.raises(StepFailed) as caught:
        lab.execute({"action": "click", "target": shoes, "timeout_ms": 200})
    assert caught.value.error_type == "not_visible"
    lab.execute({"action": "hover", "target": target({"kind": "text", "value": "Categories", "exact": True})})
    lab.execute({"action": "click", "target": shoes})
    assert status_text(lab) == "Shoes chosen"


def test_press_sends_keys_into_a_target_or_to_the_focused_element(lab):
    search = target({"kind": "role", "value": "searchbox"})
    lab.execute({"action": "type", "target": search, "value": "boots"})
    lab.execute({"action": "press", "key": "Enter", "target": search})
    assert status_text(lab) == "Searched boots"
    lab.execute({"action": "press", "key": "Control+a"})
    lab.execute({"action": "press", "key": "Backspace"})
    assert lab.driver.find_element("id", "search").get_property("value") == ""
    lab.execute({"action": "type", "target": target({"kind": "css", "value": "#email"}), "value": "x@example.test"})
    lab.execute({"action": "press", "key": "Enter"})  # submits the form the focused field is in
    lab.execute({"action": "assert_url", "value": "email=x%40example.test"})
    with pytest.raises(StepError) as caught:
        lab.execute({"action": "press", "key": "Hyperspace"})
    assert caught.value.error_type == "invalid_step"


def test_wait_for_visible_hidden_and_present(lab):
    lab.execute({"action": "wait_for", "target": target({"kind": "css", "value": "#late"})})
    lab.execute({"action": "wait_for", "state": "hidden", "target": target({"kind": "css", "value": "#vanishing"})})
    lab.execute({"action": "wait_for", "state": "present", "target": target({"kind": "css", "value": "#hidden-twin"})})
    with pytest.raises(StepFailed) as caught:
        lab.execute({"action": "wait_for", "state": "hidden", "timeout_ms": 200,
                     "target": target({"kind": "css", "value": "#title"})})
    assert caught.value.error_type == "still_visible"
    with pytest.raises(StepFailed):
        lab.execute({"action": "wait_for", "timeout_ms": 200, "target": css("#hidden-twin")})


@pytest.mark.parametrize(("text", "match"), [
    ("Engine", "contains"), ("  Engine   lab ", "equals"), (r"^Engine\s+l.b$", "regex"),
])
def test_assert_text_passes(lab, text, match):
    lab.execute({"action": "assert_text", "target": target({"kind": "css", "value": "h1"}), "text": text,
                 "match": match})


def test_assert_text_waits_for_the_text_and_reports_what_it_saw(lab):
    lab.execute({"action": "click", "target": target({"kind": "css", "value": "#save"})})
    lab.execute({"action": "assert_text", "target": target({"kind": "test_id", "value": "status"}), "text": "Saved"})
    with pytest.raises(StepFailed) as caught:
        lab.execute({"action": "assert_text", "target": target({"kind": "css", "value": "h1"}), "text": "Engine",
                     "match": "equals", "timeout_ms": 200})
    assert caught.value.error_type == "assertion"
    assert caught.value.message == "Expected css=h1 to equal “Engine”, but its text was “Engine lab”."


def test_assert_visible(lab):
    lab.execute({"action": "assert_visible", "target": target({"kind": "css", "value": "#visible-twin"})})
    with pytest.raises(StepFailed) as caught:
        lab.execute({"action": "assert_visible", "timeout_ms": 200, "target": css("#hidden-twin")})
    assert caught.value.error_type == "not_visible"
    assert "is on the page but was not visible within 0.2 s" in caught.value.message


def test_assert_url_modes(lab, site):
    lab.execute({"action": "assert_url", "value": "index.html"})
    lab.execute({"action": "assert_url", "value": "/index.html", "match": "equals"})
    lab.execute({"action": "assert_url", "value": r"127\.0\.0\.1:\d+/index", "match": "regex"})
    with pytest.raises(StepFailed) as caught:
        lab.execute({"action": "assert_url", "value": "/cart", "match": "equals", "timeout_ms": 200})
    assert caught.value.message == f"Expected the URL to be “{site}cart”, but it was “{site}index.html”."


def test_goto_is_relative_to_the_base_url(lab, site):
    lab.execute({"action": "goto", "url": "other.html?from=goto"})
    assert lab.driver.current_url == f"{site}other.html?from=goto"
    lab.execute({"action": "assert_text", "target": target({"kind": "css", "value": "#query"}), "text": "from=goto"})


def test_console_errors_and_failed_requests_are_collected_and_asserted(lab):
    lab.execute({"action": "assert_no_console_errors"})
    lab.execute({"action": "goto", "url": "/noisy.html"})
    time.sleep(0.3)  # the failing fetch completes after the load event
    console, failed = lab.drain_log()
    assert any("Boom from the lab" in line for line in console)
    assert {"url": lab.base_url + "missing-data.json", "status": 404, "error": "File not found"} in failed
    with pytest.raises(StepFailed) as caught:
        lab.execute({"action": "assert_no_console_errors"})
    assert caught.value.error_type == "console_errors"
    assert caught.value.message.startswith("2 console error(s): ")
    lab.execute({"action": "assert_no_console_errors", "ignore": ["Boom from the lab", "missing-data.json"]})


def test_extract_stores_a_value_later_steps_use(lab):
    order = target({"kind": "test_id", "value": "order"})
    outcome = lab.execute({"action": "extract", "name": "ORDER", "target": order})
    assert outcome.extracted == {"name": "ORDER", "value": "Order A-1042"}
    lab.execute({"action": "extract", "name": "HREF", "attribute": "href",
                 "target": target({"kind": "test_id", "value": "order"})})
    lab.execute({"action": "type", "target": target({"kind": "css", "value": "#search"}),
                 "value": "{{ vars.ORDER }} via {{ vars.HREF }}"})
    assert lab.driver.find_element("id", "search").get_property("value") == \
        "Order A-1042 via /other.html?order=A-1042"
    lab.execute({"action": "extract", "name": "TYPED", "attribute": "value",
                 "target": target({"kind": "css", "value": "#search"})})
    assert lab.extracted["TYPED"] == "Order A-1042 via /other.html?order=A-1042"


def test_an_unknown_variable_is_a_step_error_naming_it(lab):
    with pytest.raises(StepError) as caught:
        lab.execute({"action": "type", "target": target({"kind": "css", "value": "#email"}),
                     "value": "{{ env.NOT_THERE }}"})
    assert caught.value.error_type == "missing_variable"
    assert "{{ env.NOT_THERE }} is not defined" in caught.value.message


def test_screenshot_is_a_jpeg_of_the_viewport(lab):
    outcome = lab.execute({"action": "screenshot", "name": "lab"})
    assert outcome.screenshot_name == "lab"
    image = lab.screenshot()
    assert image[:2] == b"\xff\xd8"
    assert _jpeg_size(image) == (1920, 1080)


def test_a_step_that_only_read_an_unchanged_page_reuses_the_last_screenshot(lab):
    lab.execute({"action": "click", "target": css("#save")})
    first = lab.collect(screenshot=True)
    assert first.screenshot and not first.screenshot_unchanged and first.page_url.endswith("/index.html")
    time.sleep(0.5)  # let the lab's timers (overlay, late element) finish changing the page
    lab.collect(screenshot=True)
    lab.execute({"action": "assert_text", "target": css("#status"), "text": "Saved!"})
    again = lab.collect(screenshot=True, read_only=True)
    assert again.screenshot is None and again.screenshot_unchanged
    lab.driver.execute_script("document.getElementById('status').textContent = 'Changed';")
    changed = lab.collect(screenshot=True, read_only=True)
    assert changed.screenshot and not changed.screenshot_unchanged
    lab.driver.execute_script("document.body.style.minHeight = '3000px';")
    assert lab.collect(screenshot=True, read_only=True).screenshot
    lab.driver.execute_script("window.scrollTo(0, 500);")
    assert lab.collect(screenshot=True, read_only=True).screenshot
    lab.open("/index.html")
    assert lab.collect(screenshot=True, read_only=True).screenshot  # a new document


def test_a_device_sets_viewport_pixel_ratio_touch_and_user_agent(site):
    browser = launch_browser()
    try:
        apply_device(browser.driver, get_device("iphone-15"))
        interpreter = Interpreter(browser.driver, base_url=site)
        interpreter.open("/index.html")
        seen = browser.driver.execute_script(
            "return [innerWidth, innerHeight, devicePixelRatio, navigator.maxTouchPoints, navigator.userAgent]")
        assert seen[:4] == [393, 852, 3, 5] and "iPhone" in seen[4]
        assert _jpeg_size(interpreter.screenshot()) == (393 * 3, 852 * 3)
    finally:
        browser.quit()
    assert not Path(browser.user_data_dir).exists()


def test_unreachable_targets_are_errors_with_the_reason(lab):
    closed = free_port()
    with pytest.raises(StepError) as caught:
        lab.open(f"http://127.0.0.1:{closed}/")
    assert caught.value.error_type == "unreachable"
    assert caught.value.message == (f"Could not reach http://127.0.0.1:{closed}/: connection refused "
                                    "(net::ERR_CONNECTION_REFUSED)")
    with pytest.raises(StepError) as caught:
        lab.execute({"action": "goto", "url": "http://127.0.0.1:9/"})
    assert caught.value.message.startswith("Could not reach http://127.0.0.1:9/: the browser refuses")


def test_a_browser_that_died_is_a_step_error(site):
    browser = launch_browser()
    interpreter = Interpreter(browser.driver, base_url=site)
    interpreter.open("/index.html")
    browser.quit()
    with pytest.raises(StepError) as caught:
        interpreter.execute({"action": "click", "target": css("#save")})
    assert caught.value.error_type == "browser_error"
    assert caught.value.message.startswith("The browser stopped responding: ")
    assert interpreter.collect(screenshot=True).screenshot is None


def test_a_cancel_interrupts_a_wait(browser, site):
    stop = threading.Event()
    interpreter = Interpreter(browser.driver, base_url=site, should_stop=stop.is_set)
    interpreter.open("/index.html")
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        interpreter.execute({"action": "wait_for", "timeout_ms": 20_000,
                             "target": target({"kind": "css", "value": "#never"})})
    assert time.monotonic() - started < 1.5


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker."""
    position = 2
    while position < len(data):
        marker, length = data[position + 1], int.from_bytes(data[position + 2:position + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height = int.from_bytes(data[position + 5:position + 7], "big")
            width = int.from_bytes(data[position + 7:position + 9], "big")
            return width, height
        position += 2 + length
    raise AssertionError("no JPEG frame header")


# -- whole runs through a real Celery worker ---------------------------------------------------------

SECRET = "s3cret-Hunter2-pass"
LAB_FAILING = {"version": 1, "start_url": "/index.html", "steps": [
    {"action": "click", "target": target({"kind": "css", "value": "#save"})},
    {"action": "click", "target": target({"kind": "css", "value": "#maybe-a-cookie-banner"}), "optional": True,
     "timeout_ms": 200},
    {"action": "assert_text", "target": target({"kind": "css", "value": "h1"}), "text": "Nope", "match": "equals",
     "timeout_ms": 300},
    {"action": "click", "target": target({"kind": "css", "value": "#save"})},
]}
LAB_BAD_VARIABLE = {"version": 1, "start_url": "/index.html", "steps": [
    {"action": "type", "target": target({"kind": "css", "value": "#email"}), "value": "{{ env.NOT_DEFINED }}"},
]}
LAB_PASSING = {"version": 1, "start_url": "/index.html", "steps": [
    {"action": "click", "target": target({"kind": "css", "value": "#save"})},
    {"action": "assert_text", "target": target({"kind": "test_id", "value": "status"}), "text": "Saved!"},
]}
LAB_WAITS_LONG = {"version": 1, "start_url": "/index.html", "steps": [
    {"action": "click", "target": target({"kind": "css", "value": "#save"})},
    {"action": "wait_for", "target": target({"kind": "css", "value": "#never"}), "timeout_ms": 60_000},
    {"action": "click", "target": target({"kind": "css", "value": "#save"})},
]}


@pytest.fixture
def in_alpha(session_orgs, django_db_blocker):
    """`with in_alpha():` — committed database access in alpha's schema (workers see what it writes)."""

    @contextlib.contextmanager
    def enter() -> Iterator[None]:
        with django_db_blocker.unblock(), tenant_context(session_orgs["alpha"].organization):
            yield
        connection.set_schema_to_public()

    return enter


@pytest.fixture
def alpha_org(session_orgs):
    return session_orgs["alpha"]


def add_tests(org, project, definitions: dict[str, dict]) -> list:
    return [test_create(project=project, actor=org.developer, name=name, definition=definition, status="approved")
            for name, definition in definitions.items()]


def wait_until_finished(run_id, worker, seconds: float = 120) -> Run:
    deadline = time.monotonic() + seconds
    while True:
        run = Run.objects.get(pk=run_id)
        if run.is_finished:
            return run
        if time.monotonic() > deadline:
            pytest.fail(f"run still {run.status} after {seconds} s; worker log:\n{worker.stuck_report()}")
        time.sleep(0.2)


def subscribe(run_id) -> tuple:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.run_group(run_id), channel)
    return layer, channel


def received(layer, channel, quiet_seconds: float = 1.5) -> list[dict]:
    """Every message delivered to the channel, until it stays quiet for a moment."""
    async def collect() -> list[dict]:
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), timeout=quiet_seconds))
            except TimeoutError:
                return messages

    return async_to_sync(collect)()


def test_a_run_on_two_devices_passes_with_a_full_trace(alpha_org, in_alpha, committed_project, celery_worker,
                                                       demo_shop):
    project = committed_project(alpha_org, base_url=demo_shop, environments={"dev": demo_shop})
    suite = {test["name"]: test for test in load_suite()}
    with in_alpha():
        environment = Environment.objects.get(project=project, name="dev")
        EnvironmentVariable.objects.create(environment=environment, name="SHOP_EMAIL", value="demo@shop.test")
        EnvironmentVariable.objects.create(environment=environment, name="SHOP_PASSWORD", value="shop-password-1",
                                           is_secret=True)
        chosen = ("Log in with the demo account", "Search finds a product")
        tests = add_tests(alpha_org, project, {
            name: {key: suite[name][key] for key in ("version", "start_url", "steps")} for name in chosen})
        worker = celery_worker()
        run = run_create(project=project, actor=alpha_org.developer, tests=tests, environment="dev",
                         devices=["desktop", "iphone-15"])
        run = wait_until_finished(run.pk, worker)
        results = list(run.results.order_by("position", "device"))
        assert run.status == RunStatus.PASSED, [(r.name, r.device, r.error_message) for r in results]
        assert (run.total, run.passed) == (4, 4)
        assert sorted(result.device for result in results) == ["desktop", "desktop", "iphone-15", "iphone-15"]
        steps = list(StepResult.objects.filter(result__run=run).select_related("screenshot"))
        assert len(steps) == 2 * sum(len(test.definition["steps"]) for test in tests)
        assert all(step.status == StepStatus.PASSED and step.duration_ms is not None for step in steps)
        assert all(step.screenshot and step.screenshot.kind == ArtifactKind.SCREENSHOT for step in steps)
        assert all(step.page_url.startswith(demo_shop) for step in steps)
        with steps[0].screenshot.file.open("rb") as image:
            assert image.read(2) == b"\xff\xd8"
        clicks = [step for step in steps if step.action == "click"]
        assert clicks and all(step.resolved_locator and step.fingerprint["tag"] for step in clicks)
        mobile = [step for step in steps if step.result.device == "iphone-15"][0]
        with mobile.screenshot.file.open("rb") as image:
            assert _jpeg_size(image.read()) == (393 * 3, 852 * 3)
        dump = repr([(s.description, s.target, s.page_url, s.error, s.fingerprint, s.extracted) for s in steps])
        assert "shop-password-1" not in dump


def test_failures_errors_and_retries_are_reported_with_reasons(alpha_org, in_alpha, committed_project, celery_worker,
                                                               site):
    project = committed_project(alpha_org, base_url=site)
    dead_project = committed_project(alpha_org, base_url="http://127.0.0.1:9/")
    with in_alpha():
        failing, bad_variable = add_tests(alpha_org, project, {"Heading check": LAB_FAILING,
                                                               "Unknown variable": LAB_BAD_VARIABLE})
        (unreachable,) = add_tests(alpha_org, dead_project, {"Home": LAB_PASSING})
        worker = celery_worker()
        run = run_create(project=project, actor=alpha_org.developer, tests=[failing, bad_variable])
        run = wait_until_finished(run.pk, worker)
        assert (run.status, run.failed, run.errored) == (RunStatus.FAILED, 1, 1)
        failed = run.results.get(test=failing)
        assert failed.status == ResultStatus.FAILED and failed.error_type == "assertion"
        assert failed.error_message == ("Step 3 (Check css=h1 equals “Nope”): Expected css=h1 to equal “Nope”, "
                                        "but its text was “Engine lab”.")
        steps = list(failed.steps.order_by("index"))
        assert [step.status for step in steps] == ["passed", "skipped", "failed", "skipped"]
        assert steps[1].error.startswith("Optional step: No element matched css=#maybe-a-cookie-banner")
        assert steps[2].error == "Expected css=h1 to equal “Nope”, but its text was “Engine lab”."
        assert steps[3].error == "Not run: step 3 failed."
        assert steps[2].screenshot_id is not None
        dom = Artifact.objects.get(result=failed, kind=ArtifactKind.DOM_SNAPSHOT)
        with dom.file.open("rb") as snapshot:
            assert b"Engine lab" in snapshot.read()
        errored = run.results.get(test=bad_variable)
        assert (errored.status, errored.error_type) == (ResultStatus.ERROR, "missing_variable")
        assert "{{ env.NOT_DEFINED }} is not defined in the environment's variables." in errored.error_message

        retried = run_create(project=project, actor=alpha_org.developer, tests=[failing], retries=1)
        retried = wait_until_finished(retried.pk, worker)
        result = retried.results.get()
        assert (retried.status, result.status, result.attempt) == (RunStatus.FAILED, ResultStatus.FAILED, 1)
        assert sorted(set(result.steps.values_list("attempt", flat=True))) == [0, 1]

        started = time.monotonic()
        dead = run_create(project=dead_project, actor=alpha_org.developer, tests=[unreachable])
        dead = wait_until_finished(dead.pk, worker, seconds=30)
        assert time.monotonic() - started < 8
        result = dead.results.get()
        assert (dead.status, result.status, result.error_type) == (RunStatus.ERROR, ResultStatus.ERROR, "unreachable")
        assert result.error_message.startswith("Could not reach http://127.0.0.1:9/index.html: ")
        assert list(result.steps.values_list("status", flat=True)) == ["skipped", "skipped"]


def test_secrets_never_leave_the_engine(alpha_org, in_alpha, committed_project, celery_worker, site):
    project = committed_project(alpha_org, base_url=site, environments={"staging": site})
    leaky = {"version": 1, "start_url": "/other.html?shout={{ env.TOKEN }}", "steps": [
        {"action": "extract", "name": "QUERY", "target": target({"kind": "css", "value": "#query"})},
        {"action": "assert_url", "value": "{{ env.TOKEN }}"},
        {"action": "assert_text", "description": f"Literal {SECRET} in a description",
         "target": {"locators": [{"kind": "css", "value": "#query"}, {"kind": "text", "value": SECRET}]},
         "text": "{{ vars.QUERY }} and {{ env.TOKEN }}", "match": "equals", "timeout_ms": 300},
    ]}
    with in_alpha():
        environment = Environment.objects.get(project=project, name="staging")
        EnvironmentVariable.objects.create(environment=environment, name="TOKEN", value=SECRET, is_secret=True)
        (test,) = add_tests(alpha_org, project, {"Leaky page": leaky})
        worker = celery_worker()
        with transaction.atomic():  # the worker is enqueued on commit, after the subscription
            run = run_create(project=project, actor=alpha_org.developer, tests=[test], environment="staging")
            layer, channel = subscribe(run.pk)
        run = wait_until_finished(run.pk, worker)
        result = run.results.get()
        assert result.status == ResultStatus.FAILED
        steps = list(result.steps.order_by("index"))
        assert [step.status for step in steps] == ["passed", "passed", "failed"]
        assert steps[0].extracted == {"name": "QUERY", "value": f"?shout={Masker.MASK}"}
        assert steps[0].fingerprint["text"] == f"?shout={Masker.MASK}"
        # Logged while the start page loaded, so reported with the first step.
        assert any(Masker.MASK in line for line in steps[0].console_errors)
        stored = [result.error_message] + [
            repr((step.description, step.target, step.page_url, step.error, step.fingerprint, step.extracted,
                  step.console_errors, step.failed_requests, step.resolved_locator)) for step in steps]
        artifacts = list(Artifact.objects.filter(result=result))
        assert {artifact.kind for artifact in artifacts} == {ArtifactKind.SCREENSHOT, ArtifactKind.DOM_SNAPSHOT}
        for artifact in artifacts:
            stored.append(artifact.name + artifact.file.name)
            with artifact.file.open("rb") as content:
                if artifact.kind == ArtifactKind.DOM_SNAPSHOT:
                    dom = content.read().decode()
                    assert Masker.MASK in dom
                    stored.append(dom)
        messages = received(layer, channel)
        assert {"step.started", "step.finished", "test.finished"} <= {message["event"] for message in messages}
        finished = [message["data"] for message in messages if message["event"] == "step.finished"]
        failing = next(data for data in finished if data["index"] == 2)
        assert (failing["status"], failing["result"], failing["attempt"]) == ("failed", str(result.pk), 0)
        assert failing["screenshot"] == str(steps[2].screenshot_id) and failing["error"] == steps[2].error
        stored.append(repr(messages))
        for text in stored:
            assert SECRET not in text
        assert Masker.MASK in steps[2].error and Masker.MASK in steps[1].page_url
        assert Masker.MASK in steps[2].description and Masker.MASK in repr(steps[2].target)


def worker_processes(worker) -> dict[int, str]:
    """Processes in the worker's process group (its pool children, chromedrivers, browsers): pid → name."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if int(fields[2]) == worker.process.pid and fields[0] != "Z":
            found[int(entry.name)] = name
    return found


def processes_using(folder: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if folder.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
    return pids


def test_cancel_stops_the_test_and_its_browser(alpha_org, in_alpha, committed_project, celery_worker, site):
    project = committed_project(alpha_org, base_url=site)
    with in_alpha():
        (test,) = add_tests(alpha_org, project, {"Waits forever": LAB_WAITS_LONG})
        worker = celery_worker()
        run = run_create(project=project, actor=alpha_org.developer, tests=[test])
        deadline = time.monotonic() + 60
        while not StepResult.objects.filter(result__run=run, index=1, status=StepStatus.RUNNING).exists():
            assert time.monotonic() < deadline, worker.stuck_report()
            time.sleep(0.1)
        browser_dir = re.search(r"runs in browser (\S+)", worker.log()).group(1)
        assert processes_using(browser_dir)
        started = time.monotonic()
        run_cancel(run=run, actor=alpha_org.admin)
        run = wait_until_finished(run.pk, worker, seconds=15)
        assert time.monotonic() - started < 3
        result = run.results.get()
        assert (run.status, result.status) == (RunStatus.CANCELLED, ResultStatus.CANCELLED)
        assert result.error_message == f"Cancelled by {alpha_org.admin.email}."
        steps = list(result.steps.order_by("index"))
        assert [step.status for step in steps] == ["passed", "skipped", "skipped"]
        assert steps[1].error == "Stopped: the run was cancelled."
    deadline = time.monotonic() + 10
    while processes_using(browser_dir) or Path(browser_dir).exists():
        assert time.monotonic() < deadline, "the cancelled test's browser is still running"
        time.sleep(0.1)
    # The worker keeps one warm browser for its next test; a warm shutdown quits it too.
    assert "chromium" in worker_processes(worker).values()
    worker.process.send_signal(signal.SIGTERM)
    worker.process.wait(timeout=30)
    assert worker_processes(worker) == {}


def test_a_test_past_its_time_limit_is_stopped_with_an_error(alpha_org, in_alpha, committed_project, celery_worker,
                                                             site):
    project = committed_project(alpha_org, base_url=site)
    with in_alpha():
        (test,) = add_tests(alpha_org, project, {"Waits forever": LAB_WAITS_LONG})
        run = run_create(project=project, actor=alpha_org.developer, tests=[test])
        # A task message carries the limits of the process that enqueued it (ARGUS_TEST_TIME_LIMIT here):
        # enqueue the result again as a process configured with an 8 s limit would (long enough for the
        # browser start and step 1 on a busy machine, short of step 2's 60 s wait).
        with execute_result.app.connection_for_write() as broker:
            broker.default_channel.queue_purge("browser")
        execute_result.apply_async(args=[str(run.results.get().pk)], soft_time_limit=8, time_limit=38)
        worker = celery_worker(ARGUS_TEST_TIME_LIMIT="8")
        run = wait_until_finished(run.pk, worker, seconds=60)
        result = run.results.get()
        assert (run.status, result.status, result.error_type) == (RunStatus.ERROR, ResultStatus.ERROR, "time_limit")
        assert result.error_message == ("Step 2 (Wait for css=#never to be visible): "
                                        "The test exceeded the 8 s limit and was stopped.")
        assert list(result.steps.order_by("index").values_list("status", flat=True)) == ["passed", "error", "skipped"]
