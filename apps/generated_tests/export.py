"""Export tests as standalone pytest + Selenium files (no Argus import needed to run them).

The exported file embeds the engine's locator script (apps/test_runs/engine/locate.js), so its
targets resolve with the same fallbacks as in Argus, and a small `Page` helper with the engine's
waiting rules: poll until the element is visible (and enabled, to act on it) or the step timeout
passes; assertions retry until they hold. `{{ env.X }}` becomes `os.environ["X"]`, `{{ vars.X }}`
a value an earlier `extract` stored, and the base URL comes from `ARGUS_BASE_URL`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from apps.generated_tests.dsl import VARIABLE_PATTERN, describe_step, referenced_variables, validate_definition
from apps.test_runs.engine.locators import LOCATE_JS

LINE_LENGTH = 120

RUNTIME = '''
BASE_URL = os.environ.get("ARGUS_BASE_URL", __BASE_URL__)
STEP_TIMEOUT = float(os.environ.get("ARGUS_STEP_TIMEOUT", "10"))
CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOT_DIR = os.environ.get("ARGUS_SCREENSHOT_DIR")  # else the test's own tmp_path
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--no-first-run",
                  "--disable-sync", "--window-size=1920,1080"]
# Conditions a later poll may clear (an overlay goes away, the page re-renders).
TRANSIENT = (ElementClickInterceptedException, ElementNotInteractableException, StaleElementReferenceException,
             JavascriptException)
KEYS = {"enter": Keys.ENTER, "tab": Keys.TAB, "escape": Keys.ESCAPE, "esc": Keys.ESCAPE, "backspace": Keys.BACKSPACE,
        "delete": Keys.DELETE, "space": Keys.SPACE, "arrowdown": Keys.ARROW_DOWN, "arrowup": Keys.ARROW_UP,
        "arrowleft": Keys.ARROW_LEFT, "arrowright": Keys.ARROW_RIGHT, "home": Keys.HOME, "end": Keys.END,
        "pageup": Keys.PAGE_UP, "pagedown": Keys.PAGE_DOWN, "control": Keys.CONTROL, "ctrl": Keys.CONTROL,
        "shift": Keys.SHIFT, "alt": Keys.ALT, "meta": Keys.META, "return": Keys.RETURN, "insert": Keys.INSERT}

# Argus's locator script: tries the locators in order (css, xpath, text, role, test_id, label).
LOCATE_SCRIPT = __LOCATE_JS__ + "\\nreturn argusLocate(arguments[0], arguments[1], arguments[2]);"


@pytest.fixture
def page(tmp_path):
    """A fresh headless Chromium for each test."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield Page(driver, tmp_path)
    finally:
        driver.quit()


def describe(locators):
    return " or ".join(f"{loc['kind']}={loc['value']}" + (f" [{loc['name']}]" if loc.get("name") else "")
                       for loc in locators)


def text_matches(actual, expected, match):
    if match == "regex":
        return re.search(expected, actual) is not None
    actual, expected = " ".join(actual.split()), " ".join(expected.split())
    return actual == expected if match == "equals" else expected in actual


class Page:
    """The steps Argus knows, with Argus's waiting rules."""

    def __init__(self, driver, artifacts):
        self.driver = driver
        self.artifacts = artifacts
        self.vars = {}
        self.console_errors = []

    def until(self, locators, check, timeout, want="visible"):
        """Poll the locators until check(found) answers None; fail with its last answer at the timeout."""
        deadline = time.monotonic() + (STEP_TIMEOUT if timeout is None else timeout)
        while True:
            try:
                found = self.driver.execute_script(LOCATE_SCRIPT, locators, want, False)
                problem = check(found) if found["found"] else f"no element matched {describe(locators)}"
            except TRANSIENT as exc:
                found, problem = None, exc.msg
            if problem is None:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(problem)
            time.sleep(0.05)

    def act(self, locators, action, timeout=None, enabled=True):
        def check(found):
            if not found["visible"]:
                return f"{describe(locators)} is not visible"
            if enabled and not found["enabled"]:
                return f"{describe(locators)} is disabled"
            action(found["element"])
            return None

        self.until(locators, check, timeout)

    def goto(self, url, timeout=None):
        self.driver.set_page_load_timeout(STEP_TIMEOUT if timeout is None else timeout)
        url = urljoin(BASE_URL, url)
        self.driver.get(url)
        error = self.driver.execute_script(
            "return location.href.startsWith('chrome-error://') && "
            "((document.querySelector('.error-code') || {}).textContent || 'ERR_FAILED');")
        if error:
            pytest.fail(f"Could not reach {url} (net::{error})")

    def click(self, locators, timeout=None):
        self.act(locators, lambda element: element.click(), timeout)

    def type(self, locators, value, clear=True, timeout=None):
        def type_into(element):
            if clear:
                element.clear()
            element.send_keys(value)

        self.act(locators, type_into, timeout)

    def select(self, locators, value, timeout=None):
        def choose(element):
            try:
                Select(element).select_by_value(value)
            except NoSuchElementException:
                Select(element).select_by_visible_text(value)

        self.act(locators, choose, timeout)

    def hover(self, locators, timeout=None):
        self.act(locators, lambda element: ActionChains(self.driver).move_to_element(element).perform(), timeout,
                 enabled=False)

    def press(self, key, locators=None, timeout=None):
        keys = "".join(part if len(part) == 1 else KEYS.get(part.lower()) or getattr(Keys, part.upper())
                       for part in (key.split("+") if len(key) > 1 else [key]))
        if locators:
            self.act(locators, lambda element: element.send_keys(keys), timeout)
        else:
            self.driver.switch_to.active_element.send_keys(keys)

    def wait_for(self, locators, state="visible", timeout=None):
        if state != "hidden":
            self.until(locators, lambda found: None if state == "present" or found["visible"]
                       else f"{describe(locators)} is not visible", timeout,
                       want="present" if state == "present" else "visible")
            return
        deadline = time.monotonic() + (STEP_TIMEOUT if timeout is None else timeout)
        while True:
            found = self.driver.execute_script(LOCATE_SCRIPT, locators, "visible", False)
            if not (found["found"] and found["visible"]):
                return
            if time.monotonic() >= deadline:
                raise AssertionError(f"{describe(locators)} is still visible")
            time.sleep(0.05)

    def assert_text(self, locators, text, match="contains", timeout=None):
        self.until(locators, lambda found: None if text_matches(found["text"], text, match)
                   else f"expected {describe(locators)} to {match} {text!r}, but its text was {found['text']!r}",
                   timeout)

    def assert_visible(self, locators, timeout=None):
        self.until(locators, lambda found: None if found["visible"] else f"{describe(locators)} is not visible",
                   timeout)

    def assert_url(self, value, match="contains", timeout=None):
        if match == "equals":
            value = urljoin(BASE_URL, value)
        deadline = time.monotonic() + (STEP_TIMEOUT if timeout is None else timeout)
        while not text_matches(self.driver.current_url, value, match):
            if time.monotonic() >= deadline:
                raise AssertionError(f"expected the URL to {match} {value!r}, but it was {self.driver.current_url!r}")
            time.sleep(0.1)

    def assert_no_console_errors(self, ignore=()):
        for entry in self.driver.get_log("browser"):
            if entry["level"] == "SEVERE" and not (entry.get("source") == "network"
                                                   and "/favicon.ico " in entry["message"]):
                self.console_errors.append(entry["message"])
        errors = [line for line in self.console_errors if not any(part in line for part in ignore)]
        assert not errors, f"console errors: {errors}"

    def extract(self, locators, name, attribute=None, timeout=None):
        found = self.until(locators, lambda found: None, timeout)
        if attribute == "value":
            value = found["element"].get_property("value")
        elif attribute:
            value = found["element"].get_dom_attribute(attribute)
        else:
            value = found["text"]
        assert value is not None, f"{describe(locators)} has no {attribute!r} attribute"
        self.vars[name] = str(value)

    def screenshot(self, name="screenshot"):
        self.driver.save_screenshot(os.path.join(SCREENSHOT_DIR or self.artifacts, f"{name}.png"))
'''

def _imports(optional_steps: bool) -> str:
    selenium_errors = ["ElementClickInterceptedException", "ElementNotInteractableException", "JavascriptException",
                       "NoSuchElementException", "StaleElementReferenceException"]
    if optional_steps:
        selenium_errors.append("WebDriverException")
    errors = "".join(f"    {name},\n" for name in selenium_errors)
    return ("import contextlib\n" if optional_steps else "") + (
        "import os\nimport re\nimport time\nfrom urllib.parse import urljoin\n\nimport pytest\n"
        "from selenium import webdriver\n"
        f"from selenium.common.exceptions import (\n{errors})\n"
        "from selenium.webdriver.chrome.service import Service\n"
        "from selenium.webdriver.common.action_chains import ActionChains\n"
        "from selenium.webdriver.common.keys import Keys\n"
        "from selenium.webdriver.support.select import Select\n"
    )


def _literal(value: Any) -> str:
    """A Python literal with double-quoted strings (JSON string escapes are valid Python)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_literal(key)}: {_literal(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"cannot export {type(value).__name__}")


def _text(value: str) -> str:
    """A string of the DSL as a Python expression: literal parts joined with variable lookups."""
    parts: list[str] = []
    position = 0
    for match in VARIABLE_PATTERN.finditer(value):
        if match.start() > position:
            parts.append(_literal(value[position:match.start()]))
        scope, name = match.groups()
        parts.append(f'os.environ["{name}"]' if scope == "env" else f'page.vars["{name}"]')
        position = match.end()
    if position < len(value) or not parts:
        parts.append(_literal(value[position:]))
    return " + ".join(parts)


def _locators(target: Mapping[str, Any]) -> list[str]:
    locators = []
    for locator in target["locators"]:
        items = [f"{_literal(key)}: {_text(item) if isinstance(item, str) else _literal(item)}"
                 for key, item in locator.items()]
        locators.append("{" + ", ".join(items) + "}")
    return locators


def _arguments(step: Mapping[str, Any]) -> list[str | list[str]]:
    """The call's arguments; a locator list is kept as its items so a long call can wrap them."""
    action = step["action"]
    args: list[str | list[str]] = []
    if step.get("target") and action != "press":
        args.append(_locators(step["target"]))
    positional = {"goto": "url", "type": "value", "select": "value", "press": "key", "assert_text": "text",
                  "assert_url": "value", "extract": "name"}
    if action in positional:
        args.append(_text(step[positional[action]]))
    if action == "press" and step.get("target"):
        args.append(_locators(step["target"]))
    keywords = {"type": ["clear"], "wait_for": ["state"], "assert_text": ["match"], "assert_url": ["match"],
                "extract": ["attribute"], "assert_no_console_errors": ["ignore"], "screenshot": ["name"]}
    for key in keywords.get(action, []):
        if key in step and not (key == "clear" and step[key] is True):
            value = step[key]
            args.append(f"{key}={_text(value) if isinstance(value, str) and key != 'ignore' else _literal(value)}")
    if step.get("timeout_ms") is not None and action not in ("assert_no_console_errors", "screenshot"):
        args.append(f"timeout={step['timeout_ms'] / 1000:g}")
    return args


def _flat(arg: str | list[str]) -> str:
    return "[" + ", ".join(arg) + "]" if isinstance(arg, list) else arg


def _fit(line: str) -> str:
    return line if len(line) <= LINE_LENGTH else line + "  # noqa: E501"


def _call(step: Mapping[str, Any], indent: str) -> list[str]:
    """`page.<action>(...)` on one line, or wrapped one argument (then one locator) per line."""
    args = _arguments(step)
    one_line = f"{indent}page.{step['action']}({', '.join(_flat(arg) for arg in args)})"
    if len(one_line) <= LINE_LENGTH:
        return [one_line]
    lines = [f"{indent}page.{step['action']}("]
    inner = indent + "    "
    for arg in args:
        if isinstance(arg, list) and len(f"{inner}{_flat(arg)},") > LINE_LENGTH:
            lines += [f"{inner}["] + [_fit(f"{inner}    {item},") for item in arg] + [f"{inner}],"]
        else:
            lines.append(_fit(f"{inner}{_flat(arg)},"))
    return lines + [f"{indent})"]


def _comment(text: str) -> str:
    return " ".join(text.split())


def _function_name(name: str, taken: set[str]) -> str:
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower() or "exported"
    candidate, counter = f"test_{slug}"[:80], 2
    while candidate in taken:
        candidate, counter = f"test_{slug}"[:76] + f"_{counter}", counter + 1
    taken.add(candidate)
    return candidate


def _test_function(name: str, definition: Mapping[str, Any], taken: set[str]) -> str:
    lines = [f"def {_function_name(name, taken)}(page):", f'    """{_shorten(_plain(name), 100)}"""',
             f"    page.goto({_text(definition.get('start_url') or '')})"]
    for number, step in enumerate(definition["steps"], start=1):
        lines.append(_shorten(f"    # {number}. {_comment(describe_step(step))}", LINE_LENGTH))
        if step.get("optional"):
            lines.append("    with contextlib.suppress(AssertionError, WebDriverException):  # optional step")
            lines += _call(step, "        ")
        else:
            lines += _call(step, "    ")
    return "\n".join(lines) + "\n"


def _plain(text: str) -> str:
    """One line of text that is safe inside a docstring."""
    return re.sub(r'["\\]', "'", _comment(text))


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _definition_of(test: Any) -> tuple[str | None, dict]:
    if isinstance(test, Mapping) and "steps" in test:
        return None, dict(test)
    if isinstance(test, Mapping):
        return test.get("name"), dict(test["definition"])
    return test.name, dict(test.definition)


def _module(title: str, tests: list[tuple[str, dict]], base_url: str) -> str:
    variables = sorted(set().union(*(referenced_variables(definition) for _, definition in tests)))
    usage = [f'"""{_shorten(_plain(title), 110)}', "", "Exported from Argus: runs with pytest and Selenium alone.",
             "", f"    ARGUS_BASE_URL={base_url} python -m pytest <this file>", ""]
    if variables:
        usage.append(f"Environment variables it reads: {', '.join(variables)}.")
    usage.append('"""')
    runtime = (RUNTIME.replace("__BASE_URL__", _literal(base_url))
               .replace("__LOCATE_JS__", 'r"""\n' + LOCATE_JS.strip() + '\n"""'))
    taken: set[str] = set()
    functions = "\n\n".join(_test_function(name, definition, taken) for name, definition in tests)
    optional_steps = any(step.get("optional") for _, definition in tests for step in definition["steps"])
    return "\n".join(usage) + "\n\n" + _imports(optional_steps) + runtime + "\n\n" + functions


def export_test_to_pytest(test_or_definition: Any, *, name: str, base_url: str) -> str:
    """One runnable pytest file for a test (a Test, or a steps-DSL definition)."""
    _, definition = _definition_of(test_or_definition)
    return _module(name, [(name, validate_definition(definition))], base_url)


def export_tests_to_pytest(tests: Iterable[Any], base_url: str) -> str:
    """One runnable pytest file for several tests (Tests, or {"name", "definition"} mappings), one function each."""
    collected = []
    for test in tests:
        name, definition = _definition_of(test)
        collected.append((name or "exported", validate_definition(definition)))
    return _module("Argus suite", collected, base_url)
