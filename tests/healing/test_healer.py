"""The healer in a real headless Chromium: what it heals, what it refuses, and that it costs one round trip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from apps.healing.healer import MIN_CONFIDENCE, fingerprint_key, fingerprint_of, heal, similarity, still_matches
from apps.test_runs.engine.driver import Browser, launch_browser

ROOT = Path(__file__).resolve().parents[2]

LOGIN = """<!doctype html><html><head><title>Sign in</title></head><body>
<header><a href="/" class="logo">Acme</a></header>
<main><h1>Welcome back</h1>
<form id="login-form" class="form">
  <div class="field"><label for="email">Email</label><input id="email" name="email" type="email"></div>
  <div class="field"><label for="password">Password</label><input id="password" name="password" type="password"></div>
  <p class="status" id="status">Order confirmed</p>
  <button id="login-btn" class="btn btn-primary" type="submit">Sign in</button>
  <button class="btn" type="button">Cancel</button>
</form></main></body></html>"""

TEAM_ROWS = [("Alice Martin", "alice@acme.test"), ("Bob Stone", "bob@acme.test"), ("Carol King", "carol@acme.test")]


def team_page(rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f'<tr><td>{name}</td><td>{email}</td><td><button class="btn btn-sm">Edit</button> '
        f'<button class="btn btn-sm btn-danger">Delete</button></td></tr>' for name, email in rows)
    return (f"<!doctype html><html><body><h2>Team members</h2><table class='table'><thead><tr><th>Name</th>"
            f"<th>Email</th><th></th></tr></thead><tbody>{body}</tbody></table></body></html>")


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    browser: Browser = launch_browser()
    try:
        yield browser.driver
    finally:
        browser.quit()


def load(driver: WebDriver, html: str) -> None:
    driver.get("data:text/html;charset=utf-8," + urllib.parse.quote(html))


def baseline_of(driver: WebDriver, html: str, selector: str) -> dict:
    load(driver, html)
    return fingerprint_of(driver, driver.find_element(By.CSS_SELECTOR, selector))


def delete_button_of(driver: WebDriver, name: str):
    row = driver.find_element(By.XPATH, f"//tr[td[1][normalize-space()='{name}']]")
    return row.find_element(By.CSS_SELECTOR, "button.btn-danger")


def test_renamed_id_is_healed_above_the_threshold(driver: WebDriver) -> None:
    baseline = baseline_of(driver, LOGIN, "#login-btn")
    load(driver, LOGIN.replace('id="login-btn"', 'id="signin-submit"'))

    decision = heal(driver, baseline)

    assert decision.accepted, decision.reason
    assert decision.selector == "#signin-submit"
    assert decision.confidence >= MIN_CONFIDENCE
    assert decision.element is not None and decision.element.text == "Sign in"
    assert "same text “Sign in”" in decision.best.reasons
    assert decision.runner_up is not None and decision.runner_up.score < decision.confidence
    assert decision.candidates >= 5


def test_identical_row_buttons_are_told_apart_by_their_row(driver: WebDriver) -> None:
    load(driver, team_page(TEAM_ROWS))
    baseline = fingerprint_of(driver, delete_button_of(driver, "Bob Stone"))
    # Bob's row moved to the top and a new member was added: position and DOM path now point elsewhere.
    shuffled = [TEAM_ROWS[1], ("Dan Brown", "dan@acme.test"), TEAM_ROWS[0], TEAM_ROWS[2]]
    load(driver, team_page(shuffled))

    decision = heal(driver, baseline)

    assert decision.accepted, decision.reason
    assert decision.element == delete_button_of(driver, "Bob Stone")
    assert decision.runner_up is not None and decision.runner_up.fingerprint["text"] == "Delete"


def test_a_row_whose_data_was_edited_is_healed_onto_its_own_row_or_refused(driver: WebDriver) -> None:
    rows = [(f"Member {i}", f"member{i}@acme.test") for i in range(12)]
    load(driver, team_page(rows))
    baseline = fingerprint_of(driver, delete_button_of(driver, "Member 7"))
    rows[7] = ("Member Seven", "member7@acme.test")
    load(driver, team_page(rows))

    decision = heal(driver, baseline)

    # The row kept its rarest word (the email) and its place: it ranks first, whether or not the margin
    # is enough to act on it; another row is never taken.
    assert decision.best is not None and "member7@acme.test" in decision.best.fingerprint["context"]
    assert not decision.accepted or decision.element == delete_button_of(driver, "Member Seven")


def test_a_known_selector_that_now_points_at_another_row_no_longer_matches(driver: WebDriver) -> None:
    load(driver, team_page(TEAM_ROWS))
    baseline = fingerprint_of(driver, delete_button_of(driver, "Bob Stone"))
    load(driver, team_page([("Dan Brown", "dan@acme.test"), *TEAM_ROWS]))
    # The path that found Bob's button (second row) now finds Alice's.
    shifted = fingerprint_of(driver, driver.find_element(By.CSS_SELECTOR, "tr:nth-of-type(2) .btn-danger"))
    moved = fingerprint_of(driver, delete_button_of(driver, "Bob Stone"))

    matches, score, _reasons = still_matches(baseline, shifted)
    assert not matches and score > MIN_CONFIDENCE  # alike in every way but the row: the row decides
    assert still_matches(baseline, moved)[0]


def test_a_removed_row_is_not_healed_onto_another_rows_button(driver: WebDriver) -> None:
    load(driver, team_page(TEAM_ROWS))
    baseline = fingerprint_of(driver, delete_button_of(driver, "Bob Stone"))
    load(driver, team_page([TEAM_ROWS[0], TEAM_ROWS[2]]))

    decision = heal(driver, baseline)

    assert not decision.accepted
    assert decision.element is None and decision.selector is None
    assert decision.reason


def test_a_removed_element_is_refused(driver: WebDriver) -> None:
    baseline = baseline_of(driver, LOGIN, "#login-btn")
    load(driver, LOGIN.replace('<button id="login-btn" class="btn btn-primary" type="submit">Sign in</button>', ""))

    decision = heal(driver, baseline)

    assert not decision.accepted
    assert decision.reason.startswith("no candidate above"), decision.reason
    assert decision.best is not None and decision.best.fingerprint["text"] != "Sign in"


def test_a_hidden_best_candidate_is_refused(driver: WebDriver) -> None:
    baseline = baseline_of(driver, LOGIN, "#login-btn")
    load(driver, LOGIN.replace('id="login-btn"', 'id="login-btn-2" hidden'))

    decision = heal(driver, baseline)

    assert not decision.accepted
    assert decision.reason == "best is hidden"
    assert decision.best.selector == "#login-btn-2" and not decision.best.visible


def test_a_disabled_best_is_refused_for_a_click_but_not_for_a_visibility_check(driver: WebDriver) -> None:
    baseline = baseline_of(driver, LOGIN, "#login-btn")
    load(driver, LOGIN.replace('id="login-btn"', 'id="login-submit" disabled'))

    assert heal(driver, baseline, action="click").reason == "best is disabled"
    assert heal(driver, baseline, action="assert_visible").accepted


def test_an_assertion_whose_text_changed_is_not_healed_into_passing(driver: WebDriver) -> None:
    baseline = baseline_of(driver, LOGIN, "#status")
    load(driver, LOGIN.replace('id="status">Order confirmed', 'id="order-state">Payment failed'))

    for action in ("assert_text", "assert_visible", "wait_for"):
        decision = heal(driver, baseline, action=action)
        assert not decision.accepted, action
        assert "not on identity" in decision.reason
    # The same page and element: a click would be healed on structure, which is exactly what an assertion refuses.
    clicked = heal(driver, baseline, action="click", min_confidence=0.5)
    assert clicked.accepted and clicked.selector == "#order-state"


def test_candidates_are_collected_in_one_script_round_trip(driver: WebDriver) -> None:
    class CountingDriver:
        """Selenium's driver surface, counting script executions."""

        def __init__(self, wrapped: WebDriver) -> None:
            self.wrapped, self.scripts = wrapped, 0

        def execute_script(self, *args):
            self.scripts += 1
            return self.wrapped.execute_script(*args)

        def __getattr__(self, name: str):
            return getattr(self.wrapped, name)

    load(driver, team_page(TEAM_ROWS * 20))
    baseline = fingerprint_of(driver, driver.find_elements(By.CSS_SELECTOR, "button.btn-danger")[7])
    counting = CountingDriver(driver)

    decision = heal(counting, baseline)

    assert counting.scripts == 1
    assert decision.candidates > 100


def test_similarity_is_computed_on_what_the_baseline_has() -> None:
    new = {"tag": "button", "id": "save", "classes": ["btn"], "text": "Save", "accessible_name": "Save",
           "role": "button", "label": "", "context": "Profile Save", "dom_path": "form > button#save",
           "x": 10, "y": 20, "width": 80, "height": 30}
    old = {key: value for key, value in new.items() if key not in ("label", "context")}

    assert similarity(new, new)[0] == pytest.approx(1.0)
    assert similarity(old, new)[0] == pytest.approx(1.0)  # fields an old fingerprint lacks are not held against it
    renamed, reasons = similarity(old, {**new, "id": "persist"})
    assert 0.5 < renamed < 1.0
    assert "same text “Save”" in reasons
    moved = {**new, "x": 900, "y": 700, "classes": ["button"]}
    assert fingerprint_key(new) == fingerprint_key(moved)
    assert fingerprint_key(new) != fingerprint_key({**new, "text": "Delete"})
    assert len(fingerprint_key(new)) == 64


def run_heal_locate(tmp_path: Path, baseline: str, page: str, selector: str) -> subprocess.CompletedProcess:
    (tmp_path / "baseline.html").write_text(baseline)
    (tmp_path / "page.html").write_text(page)
    # A database URL that cannot connect proves the command never touches the database.
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nowhere"}
    return subprocess.run(
        [sys.executable, "manage.py", "heal_locate", "--baseline", str(tmp_path / "baseline.html"),
         "--page", str(tmp_path / "page.html"), "--selector", selector],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_heal_locate_prints_the_healed_selector_and_exits_0(tmp_path: Path) -> None:
    result = run_heal_locate(tmp_path, LOGIN, LOGIN.replace('id="login-btn"', 'id="signin-submit"'), "#login-btn")

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["healed"] is True
    assert answer["selector"] == "#signin-submit"
    assert answer["confidence"] >= MIN_CONFIDENCE
    assert set(answer) >= {"runner_up", "reason", "reasons", "candidates", "duration_ms"}
    assert answer["runner_up"]["score"] < answer["confidence"]


def test_heal_locate_refuses_with_exit_1_and_rejects_a_selector_missing_on_the_baseline(tmp_path: Path) -> None:
    removed = LOGIN.replace('<button id="login-btn" class="btn btn-primary" type="submit">Sign in</button>', "")
    refused = run_heal_locate(tmp_path, LOGIN, removed, "#login-btn")
    assert refused.returncode == 1, refused.stderr
    answer = json.loads(refused.stdout)
    assert answer["healed"] is False and answer["selector"] is None
    assert answer["reason"].startswith("no candidate above")

    missing = run_heal_locate(tmp_path, LOGIN, LOGIN, "#no-such-element")
    assert missing.returncode == 2
    assert "finds nothing on the baseline" in missing.stderr
    assert missing.stdout == ""
