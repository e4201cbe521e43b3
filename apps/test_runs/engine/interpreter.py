"""The step interpreter: runs each action of the steps DSL (apps.generated_tests.dsl) in a real browser.

Waiting is polling: a step evaluates its target's locators (one script round trip, see locators.py)
until the element is ready or the step's timeout passes, checking between polls whether the run
was cancelled. Assertions retry the same way, so a page that is still rendering is not a failure.

Outcomes: an unmet expectation of the page (assertion, element not found, never visible) raises
StepFailed; anything else that went wrong (target unreachable, unknown variable, browser crash,
page load timeout) raises StepError. The interpreter knows nothing of the database: the worker
records what it reports.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urljoin

from django.conf import settings
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    JavascriptException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    UnexpectedTagNameException,
    WebDriverException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select
from urllib3.exceptions import HTTPError as DriverConnectionError

from apps.generated_tests.dsl import MissingVariable, describe_target, render
from apps.test_runs.engine.driver import browser_log, cdp
from apps.test_runs.engine.locators import WANT_PRESENT, WANT_VISIBLE, Located, describe_locator, locate

if TYPE_CHECKING:
    from apps.healing.runtime import HealingPlan, HealReport, StepHealer

FAILED = "failed"
ERROR = "error"

# Conditions a later poll may clear (an overlay goes away, the page finishes re-rendering).
TRANSIENT_ERRORS = (ElementClickInterceptedException, ElementNotInteractableException,
                    StaleElementReferenceException, JavascriptException)
# chromedriver itself is gone (the browser crashed or was killed): Selenium's HTTP client raises these.
DRIVER_GONE_ERRORS = (DriverConnectionError, ConnectionError)
MAX_POLL_PAUSE = 0.1
MAX_CONSOLE_LINES = 50
MAX_LINE_LENGTH = 1000
SCREENSHOT_QUALITY = 70

NETWORK_ERRORS = {
    "ERR_CONNECTION_REFUSED": "connection refused",
    "ERR_CONNECTION_RESET": "the connection was reset",
    "ERR_CONNECTION_CLOSED": "the connection was closed",
    "ERR_CONNECTION_TIMED_OUT": "the connection timed out",
    "ERR_TIMED_OUT": "the request timed out",
    "ERR_NAME_NOT_RESOLVED": "the host name could not be resolved",
    "ERR_ADDRESS_UNREACHABLE": "the address is unreachable",
    "ERR_INTERNET_DISCONNECTED": "no network",
    "ERR_EMPTY_RESPONSE": "the server sent an empty response",
    "ERR_UNSAFE_PORT": "the browser refuses to connect to this port (unsafe port)",
    "ERR_SSL_PROTOCOL_ERROR": "TLS handshake failed",
    "ERR_CERT_AUTHORITY_INVALID": "the TLS certificate is not trusted",
    "ERR_CERT_COMMON_NAME_INVALID": "the TLS certificate does not match the host",
    "ERR_CERT_DATE_INVALID": "the TLS certificate has expired or is not yet valid",
    "ERR_TOO_MANY_REDIRECTS": "too many redirects",
}

KEY_NAMES = {
    "enter": Keys.ENTER, "return": Keys.RETURN, "tab": Keys.TAB, "escape": Keys.ESCAPE, "esc": Keys.ESCAPE,
    "backspace": Keys.BACKSPACE, "delete": Keys.DELETE, "insert": Keys.INSERT, "space": Keys.SPACE,
    "arrowdown": Keys.ARROW_DOWN, "arrowup": Keys.ARROW_UP, "arrowleft": Keys.ARROW_LEFT,
    "arrowright": Keys.ARROW_RIGHT, "home": Keys.HOME, "end": Keys.END, "pageup": Keys.PAGE_UP,
    "pagedown": Keys.PAGE_DOWN, "control": Keys.CONTROL, "ctrl": Keys.CONTROL, "shift": Keys.SHIFT,
    "alt": Keys.ALT, "meta": Keys.META, "command": Keys.COMMAND, "cmd": Keys.COMMAND,
    **{f"f{number}": getattr(Keys, f"F{number}") for number in range(1, 13)},
}
_NET_ERROR = re.compile(r"net::(ERR_[A-Z0-9_]+)")
_FAILED_RESOURCE = re.compile(
    r"^(?P<url>\S+) - Failed to load resource: (?:the server responded with a status of (?P<status>\d+)"
    r"(?: \((?P<reason>[^)]*)\))?|(?P<error>net::\S+))")


# Actions that never change the page themselves (the page may still change while they wait).
READ_ONLY_ACTIONS = frozenset({"assert_text", "assert_visible", "assert_url", "assert_no_console_errors", "extract",
                               "wait_for"})
PAGE_STATE_SCRIPT = "return window.__argusPageState ? window.__argusPageState() : {url: location.href};"


def _visual_state(state: Mapping[str, Any]) -> tuple | None:
    """What identifies the pixels on screen; None when unknown or moving (always capture then)."""
    if "mutations" not in state or state["animating"]:
        return None
    return state["url"], state["document"], state["mutations"], tuple(state["scroll"])


class StepProblem(Exception):
    status = ERROR

    def __init__(self, message: str, *, error_type: str) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        # What self-healing did in the step (set by Interpreter.execute), for the trace.
        self.heal: HealReport | None = None


class StepFailed(StepProblem):
    """The page did not meet the step's expectation."""

    status = FAILED


class StepError(StepProblem):
    """The step could not be carried out (unreachable target, unknown variable, browser failure)."""

    status = ERROR


class Cancelled(Exception):
    """The run was cancelled while this step ran."""


@dataclass
class StepOutcome:
    resolved_locator: str = ""
    fingerprint: dict | None = None
    extracted: dict | None = None
    screenshot_name: str | None = None
    heal: HealReport | None = None


@dataclass
class Evidence:
    page_url: str = ""
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[dict] = field(default_factory=list)
    screenshot: bytes | None = None
    # True when the page did not change since the last screenshot, which stands for this step too.
    screenshot_unchanged: bool = False
    dom: str | None = None


class Pending(NamedTuple):
    """Why a polled condition does not hold yet (the step's failure if it never does)."""

    error_type: str
    message: str


def seconds(timeout: float) -> str:
    return f"{timeout:g} s"


def key_sequence(name: str) -> str:
    """`Enter`, `ArrowDown`, `a`, `Control+a` → what WebDriver's send_keys types."""
    keys = []
    for part in name.split("+") if len(name) > 1 else [name]:
        if len(part) == 1:
            keys.append(part)
        elif part.strip().lower() in KEY_NAMES:
            keys.append(KEY_NAMES[part.strip().lower()])
        else:
            raise StepError(f"Unknown key “{part}”: use a single character or a name like Enter, Tab, Escape, "
                            "ArrowDown, Backspace, Control+a.", error_type="invalid_step")
    return "".join(keys)


def text_matches(actual: str, expected: str, match: str) -> bool:
    if match == "regex":
        return re.search(expected, actual) is not None
    actual, expected = " ".join(actual.split()), " ".join(expected.split())
    return actual == expected if match == "equals" else expected in actual


def navigation_problem(url: str, error_code: str) -> StepError:
    code = error_code.strip() or "ERR_FAILED"
    reason = NETWORK_ERRORS.get(code, "the browser could not load it")
    return StepError(f"Could not reach {url}: {reason} (net::{code})", error_type="unreachable")


class Interpreter:
    """Runs steps in one browser, for one test: keeps the values `extract` stored and the console errors seen."""

    def __init__(self, driver: WebDriver, *, base_url: str, env: Mapping[str, str] | None = None,
                 step_timeout_ms: int | None = None, should_stop: Callable[[], bool] | None = None,
                 healing: HealingPlan | None = None) -> None:
        self.driver = driver
        self.healing = healing
        self._step_healer: StepHealer | None = None
        self.base_url = base_url
        self.env = dict(env or {})
        self.extracted: dict[str, str] = {}
        self.console_history: list[str] = []
        self.default_timeout = (step_timeout_ms or settings.ARGUS_STEP_TIMEOUT_MS) / 1000
        self._page_load_timeout: float | None = None
        self._screenshot_state: tuple | None = None
        self._should_stop = should_stop or (lambda: False)

    # -- the public surface -------------------------------------------------------------------------

    def render(self, value: Any) -> Any:
        """A step (or any part of one) with `{{ env.X }}` and `{{ vars.X }}` filled in."""
        try:
            if isinstance(value, str):
                return render(value, self.env, self.extracted)
            if isinstance(value, list):
                return [self.render(item) for item in value]
            if isinstance(value, dict):
                return {key: self.render(item) for key, item in value.items()}
            return value
        except MissingVariable as exc:
            raise StepError(str(exc), error_type="missing_variable") from exc

    def open(self, url: str, *, timeout: float | None = None) -> None:
        """Navigate to a URL (relative ones against the base URL); unreachable → StepError."""
        url = urljoin(self.base_url, url)
        self._set_page_load_timeout(timeout or self.default_timeout)
        try:
            self.driver.get(url)
        except DRIVER_GONE_ERRORS as exc:
            raise StepError(f"The browser stopped responding: {_first_line(str(exc))}",
                            error_type="browser_error") from exc
        except TimeoutException as exc:
            raise StepError(f"{url} did not finish loading within {seconds(timeout or self.default_timeout)}.",
                            error_type="timeout") from exc
        except WebDriverException as exc:
            # chromedriver sometimes reports a failed navigation as an error instead of an error page.
            code = _NET_ERROR.search(exc.msg or "")
            if code is None:
                raise StepError(f"The browser failed: {_first_line(exc.msg or str(exc))}",
                                error_type="browser_error") from exc
            raise navigation_problem(url, code.group(1)) from exc
        location, error_code = self.driver.execute_script(
            "return [location.href, (document.querySelector('.error-code') || {}).textContent || ''];")
        if location.startswith("chrome-error://"):
            raise navigation_problem(url, error_code)

    def execute(self, step: Mapping[str, Any], *, index: int | None = None) -> StepOutcome:
        """Run one step (variables rendered here). Raises StepFailed, StepError or Cancelled.

        `index` (the step's position in the test) lets self-healing find the step's baseline."""
        self.check_stop()
        step = self.render(dict(step))
        handler = getattr(self, f"_do_{step['action']}", None)
        if handler is None:
            raise StepError(f"Unknown action “{step['action']}”.", error_type="invalid_step")
        timeout = step["timeout_ms"] / 1000 if step.get("timeout_ms") is not None else self.default_timeout
        self._step_healer = self.healing.step_healer(index, step) if self.healing is not None else None
        try:
            outcome = self._run(handler, step, timeout)
        except StepProblem as problem:
            problem.heal = self._heal_report(failed=True)
            raise
        outcome.heal = self._heal_report(failed=False)
        return outcome

    def _heal_report(self, *, failed: bool) -> HealReport | None:
        healer = self._step_healer
        if healer is None:
            return None
        if failed:
            healer.mark_failed()
        return healer.report

    def _run(self, handler: Callable[[Mapping[str, Any], float], StepOutcome], step: Mapping[str, Any],
             timeout: float) -> StepOutcome:
        try:
            return handler(step, timeout)
        except (StepProblem, Cancelled):
            raise
        except re.error as exc:  # a regex that only broke once its variables were filled in
            raise StepError(f"The regular expression is invalid: {exc}", error_type="invalid_step") from exc
        except TimeoutException as exc:
            raise StepError(f"The page did not finish loading within {seconds(timeout)}.",
                            error_type="timeout") from exc
        except WebDriverException as exc:
            raise StepError(f"The browser failed: {_first_line(exc.msg or str(exc))}",
                            error_type="browser_error") from exc
        except DRIVER_GONE_ERRORS as exc:
            raise StepError(f"The browser stopped responding: {_first_line(str(exc))}",
                            error_type="browser_error") from exc

    def collect(self, *, screenshot: bool, dom: bool = False, read_only: bool = False) -> Evidence:
        """What the page shows after a step. Best effort: a crashed browser yields what it can.

        After a step that only read the page (`read_only`), the last screenshot is reused when the
        page provably did not change since it was taken (same document, no DOM mutation, same scroll,
        no running animation): capturing is the costliest part of tracing a step."""
        evidence = Evidence()
        try:
            state = self.driver.execute_script(PAGE_STATE_SCRIPT)
            evidence.page_url = state["url"]
            evidence.console_errors, evidence.failed_requests = self.drain_log()
            if screenshot:
                seen = _visual_state(state)
                if read_only and seen is not None and seen == self._screenshot_state:
                    evidence.screenshot_unchanged = True
                else:
                    evidence.screenshot = self.screenshot()
                    self._screenshot_state = seen
            if dom:
                evidence.dom = self.driver.page_source
        except (WebDriverException, *DRIVER_GONE_ERRORS):
            self._screenshot_state = None
        return evidence

    def screenshot(self) -> bytes:
        """The viewport as JPEG through DevTools (fast); PNG through WebDriver where DevTools is unavailable."""
        try:
            shot = cdp(self.driver, "Page.captureScreenshot",
                       {"format": "jpeg", "quality": SCREENSHOT_QUALITY, "optimizeForSpeed": True})
            return base64.b64decode(shot["data"])
        except WebDriverException:
            return self.driver.get_screenshot_as_png()

    def drain_log(self) -> tuple[list[str], list[dict]]:
        """Console errors and failed requests logged since the last call (severe entries only)."""
        console, failed = [], []
        for entry in browser_log(self.driver):
            if entry.get("level") != "SEVERE":
                continue
            message = entry.get("message", "")[:MAX_LINE_LENGTH]
            request = _failed_request(message) if entry.get("source") == "network" else None
            if request is not None:
                if request["url"].endswith("/favicon.ico"):
                    continue  # the browser's own favicon probe is not the page's doing
                failed.append(request)
            console.append(message)
        console, failed = console[:MAX_CONSOLE_LINES], failed[:MAX_CONSOLE_LINES]
        self.console_history.extend(console)
        return console, failed

    def check_stop(self) -> None:
        if self._should_stop():
            raise Cancelled()

    # -- polling ------------------------------------------------------------------------------------

    def _until(self, target: Mapping[str, Any], *, timeout: float, want: str,
               check: Callable[[Located], Pending | None]) -> Located:
        """Evaluate the target until `check` answers None; StepFailed with its last answer at the timeout.

        With a step healer (apps.healing.runtime), a target whose locators stay broken for a short grace
        (nothing found, hidden, disabled), or that match several elements the first of which is unlike
        the baseline, is healed once: from then on the healed selector is polled and `check` (the step's
        own condition and action) must still pass on it."""
        started = time.monotonic()
        deadline = started + timeout
        pause = 0.0
        healer = self._step_healer
        while True:
            self.check_stop()
            try:
                located = locate(self.driver, target["locators"], want=want)
                if healer is not None and healer.several_suspect(located):
                    healed = healer.heal(self.driver, "several", screenshot=self.screenshot)
                    if healed is not None:
                        target, pause = healed, 0.0
                        continue
                pending = check(located)
            except TRANSIENT_ERRORS as exc:
                located = Located(found=False)
                pending = Pending("not_interactable", f"{describe_target(target)} could not be used: "
                                                      f"{_first_line(exc.msg or '')}")
            if pending is None:
                return located
            if located.invalid and len(located.invalid) == len(target["locators"]):
                raise StepError("Every locator is invalid: " + "; ".join(located.invalid), error_type="invalid_locator")
            now = time.monotonic()
            remaining = deadline - now
            if healer is not None and healer.due(pending.error_type, elapsed=now - started, remaining=remaining):
                healed = healer.heal(self.driver, pending.error_type, screenshot=self.screenshot)
                if healed is not None:
                    target, pause = healed, 0.0
                    continue
                remaining = deadline - time.monotonic()
            if remaining <= 0:
                message = healer.explain(pending.message) if healer is not None else pending.message
                raise StepFailed(message, error_type=pending.error_type)
            time.sleep(min(pause, remaining))
            pause = min(MAX_POLL_PAUSE, pause * 2 or 0.025)

    def _not_found(self, target: Mapping[str, Any], timeout: float, located: Located) -> Pending:
        tried = ", ".join(describe_locator(locator) for locator in target["locators"])
        invalid = f" ({'; '.join(located.invalid)})" if located.invalid else ""
        return Pending("element_not_found", f"No element matched {describe_target(target)} within "
                                            f"{seconds(timeout)} (tried {tried}){invalid}.")

    def _ready(self, target: Mapping[str, Any], timeout: float, *, enabled: bool = False,
               visible: bool = True) -> Callable[[Located], Pending | None]:
        def check(located: Located) -> Pending | None:
            if not located.found:
                return self._not_found(target, timeout, located)
            where = f"{describe_target(target)} ({located.resolved})"
            if visible and not located.visible:
                return Pending("not_visible", f"{where} is on the page but was not visible within {seconds(timeout)}.")
            if enabled and not located.enabled:
                return Pending("disabled", f"{where} stayed disabled for {seconds(timeout)}.")
            return None

        return check

    def _act(self, step: Mapping[str, Any], timeout: float, action: Callable[[Located], None], *,
             enabled: bool = True) -> StepOutcome:
        """Wait for the target to be visible (and enabled), then act on it; retried while the page settles."""
        ready = self._ready(step["target"], timeout, enabled=enabled)

        def check(located: Located) -> Pending | None:
            pending = ready(located)
            if pending is None:
                action(located)
            return pending

        located = self._until(step["target"], timeout=timeout, want=WANT_VISIBLE, check=check)
        return StepOutcome(resolved_locator=located.resolved, fingerprint=located.fingerprint)

    def _set_page_load_timeout(self, timeout: float) -> None:
        if self._page_load_timeout != timeout:
            self.driver.set_page_load_timeout(timeout)
            self._page_load_timeout = timeout

    # -- actions ------------------------------------------------------------------------------------

    def _do_goto(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        self.open(step["url"], timeout=timeout)
        return StepOutcome()

    def _do_click(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        self._set_page_load_timeout(timeout)  # a click that navigates waits for the new page
        return self._act(step, timeout, lambda located: located.element.click())

    def _do_type(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        def type_into(located: Located) -> None:
            if step.get("clear", True):
                located.element.clear()
            located.element.send_keys(step["value"])

        return self._act(step, timeout, type_into)

    def _do_select(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        value = step["value"]
        missing: list[str] = []

        def choose(located: Located) -> None:
            try:
                select = Select(located.element)
            except UnexpectedTagNameException as exc:
                raise StepFailed(f"{describe_target(step['target'])} ({located.resolved}) is not a <select>.",
                                 error_type="not_a_select") from exc
            try:
                select.select_by_value(value)
            except NoSuchElementException:
                try:
                    select.select_by_visible_text(value)
                except NoSuchElementException:
                    missing.append(value)

        ready = self._ready(step["target"], timeout, enabled=True)

        def check(located: Located) -> Pending | None:
            pending = ready(located)
            if pending is not None:
                return pending
            missing.clear()
            choose(located)
            if missing:  # the options may still be loading
                return Pending("option_not_found", f"{describe_target(step['target'])} has no option with the value "
                                                   f"or text “{value}”.")
            return None

        located = self._until(step["target"], timeout=timeout, want=WANT_VISIBLE, check=check)
        return StepOutcome(resolved_locator=located.resolved, fingerprint=located.fingerprint)

    def _do_hover(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        return self._act(step, timeout, lambda located: ActionChains(self.driver).move_to_element(
            located.element).perform(), enabled=False)

    def _do_press(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        keys = key_sequence(step["key"])
        if step.get("target"):
            self._set_page_load_timeout(timeout)
            return self._act(step, timeout, lambda located: located.element.send_keys(keys))
        # Sent to whatever has the focus, as a user would; modifiers stay down for the whole sequence.
        self.driver.switch_to.active_element.send_keys(keys)
        return StepOutcome()

    def _do_wait_for(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        target, state = step["target"], step.get("state", "visible")
        if state == "hidden":
            def hidden(located: Located) -> Pending | None:
                if located.found and located.visible:
                    return Pending("still_visible", f"{describe_target(target)} ({located.resolved}) was still "
                                                    f"visible after {seconds(timeout)}.")
                return None

            self._until(target, timeout=timeout, want=WANT_VISIBLE, check=hidden)
            return StepOutcome()
        want = WANT_PRESENT if state == "present" else WANT_VISIBLE
        located = self._until(target, timeout=timeout, want=want,
                              check=self._ready(target, timeout, visible=state == "visible"))
        return StepOutcome(resolved_locator=located.resolved, fingerprint=located.fingerprint)

    def _do_assert_text(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        target, expected, match = step["target"], step["text"], step.get("match", "contains")
        verb = {"contains": "contain", "equals": "equal", "regex": "match"}[match]

        def check(located: Located) -> Pending | None:
            if not located.found:
                return self._not_found(target, timeout, located)
            if text_matches(located.text, expected, match):
                return None
            return Pending("assertion", f"Expected {describe_target(target)} to {verb} “{expected}”, but its text was "
                                        f"“{_shorten(located.text)}”.")

        located = self._until(target, timeout=timeout, want=WANT_VISIBLE, check=check)
        return StepOutcome(resolved_locator=located.resolved, fingerprint=located.fingerprint)

    def _do_assert_visible(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        located = self._until(step["target"], timeout=timeout, want=WANT_VISIBLE,
                              check=self._ready(step["target"], timeout))
        return StepOutcome(resolved_locator=located.resolved, fingerprint=located.fingerprint)

    def _do_assert_url(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        expected, match = step["value"], step.get("match", "contains")
        if match == "equals":
            expected = urljoin(self.base_url, expected)
        verb = {"contains": "contain", "equals": "be", "regex": "match"}[match]
        deadline = time.monotonic() + timeout
        while True:
            self.check_stop()
            current = self.driver.current_url
            if text_matches(current, expected, match):
                return StepOutcome()
            if time.monotonic() >= deadline:
                raise StepFailed(f"Expected the URL to {verb} “{expected}”, but it was “{current}”.",
                                 error_type="assertion")
            time.sleep(MAX_POLL_PAUSE)

    def _do_assert_no_console_errors(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        self.drain_log()
        ignore = step.get("ignore") or []
        errors = [line for line in self.console_history if not any(part in line for part in ignore)]
        if errors:
            shown = "; ".join(_shorten(line, 200) for line in errors[:3])
            more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
            raise StepFailed(f"{len(errors)} console error(s): {shown}{more}", error_type="console_errors")
        return StepOutcome()

    def _do_extract(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        target, attribute = step["target"], step.get("attribute")
        located = self._until(target, timeout=timeout, want=WANT_VISIBLE,
                              check=self._ready(target, timeout, visible=False))
        if attribute == "value":
            value = located.element.get_property("value")
        elif attribute:
            value = located.element.get_dom_attribute(attribute)
        else:
            value = located.text
        if value is None:
            raise StepFailed(f"{describe_target(target)} ({located.resolved}) has no “{attribute}” attribute.",
                             error_type="attribute_missing")
        self.extracted[step["name"]] = str(value)
        return StepOutcome(resolved_locator=located.resolved, fingerprint=located.fingerprint,
                           extracted={"name": step["name"], "value": str(value)})

    def _do_screenshot(self, step: Mapping[str, Any], timeout: float) -> StepOutcome:
        return StepOutcome(screenshot_name=step.get("name") or "screenshot")


def _failed_request(message: str) -> dict | None:
    match = _FAILED_RESOURCE.match(message)
    if match is None:
        return None
    status = match.group("status")
    return {"url": match.group("url"), "status": int(status) if status else None,
            "error": match.group("error") or match.group("reason") or ""}


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else "unknown error"


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
