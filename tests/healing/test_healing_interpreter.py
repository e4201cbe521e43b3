"""The engine hook in one Chromium, without a worker: a healed target still has to pass the step's own
check (an assertion is never healed into passing), and the polling waits only a short grace."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from apps.healing.runtime import GRACE_SECONDS, HealingPlan
from apps.test_runs.devices import get_device
from apps.test_runs.engine.driver import apply_device, launch_browser
from apps.test_runs.engine.interpreter import Interpreter, StepFailed
from apps.test_runs.engine.locators import locate

pytestmark = pytest.mark.browser

ORIGINAL = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lab</title></head><body><main>
<h1>Order status</h1><p id="status" class="status-line" data-testid="status">Idle</p>
<button id="save" type="button">Save</button></main></body></html>"""
RENAMED = ORIGINAL.replace('id="status" class="status-line" data-testid="status"',
                           'id="state" class="state-line" data-testid="state"')
STATUS = {"locators": [{"kind": "css", "value": "#status"}], "description": "status line"}


def page(html: str) -> str:
    return "data:text/html;charset=utf-8," + quote(html)


@pytest.fixture(scope="module")
def driver() -> Iterator:
    browser = launch_browser()
    apply_device(browser.driver, get_device("desktop"))
    yield browser.driver
    browser.quit()


@pytest.fixture
def baseline(driver) -> dict:
    driver.get(page(ORIGINAL))
    return locate(driver, STATUS["locators"]).fingerprint


def interpreter_on(driver, html: str) -> Interpreter:
    driver.get(page(html))
    plan = HealingPlan(mode="review", ai_note="AI not allowed for this project")
    return Interpreter(driver, base_url="http://127.0.0.1:9/", healing=plan)


def test_a_healed_assertion_still_compares_the_text(driver, baseline):
    interpreter = interpreter_on(driver, RENAMED)
    step = {"action": "assert_text", "target": {**STATUS, "fingerprint": baseline}, "text": "Saved!",
            "timeout_ms": 3000}

    with pytest.raises(StepFailed) as failure:
        interpreter.execute(step, index=0)

    assert failure.value.message.startswith("Expected status line to contain “Saved!”, but its text was “Idle”.")
    assert "(after healing to css=#state at confidence" in failure.value.message
    assert failure.value.heal.record["status"] == "failed"
    assert failure.value.heal.record["selector"] == "#state"


def test_a_healed_step_passes_on_the_relocated_element_after_the_grace(driver, baseline):
    interpreter = interpreter_on(driver, RENAMED)
    step = {"action": "assert_text", "target": {**STATUS, "fingerprint": baseline}, "text": "Idle"}

    started = time.monotonic()
    outcome = interpreter.execute(step, index=0)
    elapsed = time.monotonic() - started

    assert outcome.resolved_locator == "css=#state"
    assert outcome.heal.record["status"] == "healed" and outcome.heal.record["error_type"] == "not_found"
    assert outcome.heal.screenshot[:2] in (b"\xff\xd8", b"\x89P")  # the outlined element, captured
    # Healed after the grace, far from the 10 s step timeout.
    assert GRACE_SECONDS <= elapsed < GRACE_SECONDS + 3, elapsed
    # The temporary outline is gone again.
    assert driver.execute_script("return document.getElementById('state').style.outline") == ""


def test_without_a_baseline_or_with_healing_off_nothing_is_healed(driver):
    interpreter = interpreter_on(driver, RENAMED)
    step = {"action": "assert_visible", "target": STATUS, "timeout_ms": 1500}

    with pytest.raises(StepFailed) as failure:
        interpreter.execute(step, index=0)

    assert failure.value.heal is None and "healing" not in failure.value.message


def test_a_locator_that_now_matches_a_lookalike_first_is_healed_to_the_baseline_element(driver):
    lines = {"locators": [{"kind": "css", "value": ".status-line"}], "description": "status line"}
    driver.get(page(ORIGINAL))
    fingerprint = locate(driver, lines["locators"]).fingerprint
    promo = '<main><p class="status-line promo" data-testid="promo">Spring sale: 20% off everything</p>'
    interpreter = interpreter_on(driver, ORIGINAL.replace("<main>", promo))
    step = {"action": "assert_text", "target": {**lines, "fingerprint": fingerprint}, "text": "Idle",
            "match": "equals", "timeout_ms": 3000}

    outcome = interpreter.execute(step, index=0)

    assert outcome.heal.record["error_type"] == "several" and outcome.heal.record["status"] == "healed"
    assert outcome.resolved_locator == "css=#status"
