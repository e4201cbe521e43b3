"""Every test of the Smoke suite (demo_shop/suite.json) passes against the demo shop when the engine's
step interpreter runs it, step by step, in a real Chromium; and the same suite fails where the shop
disagrees with it, so a pass means something.

One browser serves the module (the engine itself starts a fresh one per test; here the cookies are
deleted between tests instead, which gives each test a new, empty shop session)."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from apps.test_runs.devices import get_device
from apps.test_runs.engine.driver import Browser, apply_device, browser_log, launch_browser
from apps.test_runs.engine.interpreter import Interpreter, StepFailed, StepProblem
from demo_shop.state import DEMO_EMAIL, DEMO_PASSWORD
from demo_shop.suite import load_suite

SUITE = load_suite()
ENV = {"SHOP_EMAIL": DEMO_EMAIL, "SHOP_PASSWORD": DEMO_PASSWORD}
STEP_TIMEOUT_MS = 5000

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    browser = launch_browser()
    apply_device(browser.driver, get_device("desktop"))
    try:
        yield browser
    finally:
        browser.quit()


def run(browser: Browser, base_url: str, test: dict, *, env: dict[str, str] = ENV,
        step_timeout_ms: int = STEP_TIMEOUT_MS) -> None:
    """Run one suite test; raises the engine's StepProblem (noting the step) on the first failure."""
    browser.driver.delete_all_cookies()
    browser_log(browser.driver)  # console lines of the previous test are not this test's
    interpreter = Interpreter(browser.driver, base_url=base_url, env=env, step_timeout_ms=step_timeout_ms)
    interpreter.open(test["start_url"])
    for index, step in enumerate(test["steps"]):
        try:
            interpreter.execute(step)
        except StepProblem as problem:
            problem.add_note(f"step {index} of “{test['name']}”: {step}")
            raise


@pytest.mark.parametrize("test", SUITE, ids=[test["name"] for test in SUITE])
def test_suite_test_passes_against_the_shop(browser, demo_shop, test):
    run(browser, demo_shop, test)


def test_a_wrong_expectation_fails_the_test(browser, demo_shop):
    test = copy.deepcopy(next(test for test in SUITE if test["name"] == "Coupon SAVE10 takes 10% off"))
    total = next(step for step in test["steps"] if step.get("text") == "$35.91")
    total["text"], total["timeout_ms"] = "$39.90", 1000  # the price without the discount
    with pytest.raises(StepFailed):
        run(browser, demo_shop, test)


def test_the_wrong_password_does_not_log_in(browser, demo_shop):
    test = next(test for test in SUITE if test["name"] == "Log in with the demo account")
    with pytest.raises(StepFailed):
        run(browser, demo_shop, test, env={**ENV, "SHOP_PASSWORD": "not-the-password"}, step_timeout_ms=1000)
