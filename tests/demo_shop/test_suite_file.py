"""demo_shop/suite.json, the "Smoke" suite: valid steps DSL v1, 3 to 12 steps a test, and complete
enough to exercise every action and locator kind. That each test passes against the shop is proven by
running it through the engine: tests/demo_shop/test_smoke_suite.py."""

from __future__ import annotations

import json
import re

import pytest

from apps.generated_tests.dsl import (
    ACTIONS,
    LOCATOR_KINDS,
    definition_errors,
    referenced_variables,
    validate_definition,
)
from demo_shop.state import ACCOUNTS
from demo_shop.suite import SUITE_FILE, load_suite

SUITE = load_suite()
VARS_PATTERN = re.compile(r"\{\{\s*vars\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _definition(test: dict) -> dict:
    return {key: test[key] for key in ("version", "start_url", "steps")}


def test_the_suite_has_at_least_22_uniquely_named_tests():
    names = [test["name"] for test in SUITE]
    assert len(names) >= 22
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("test", SUITE, ids=[test["name"] for test in SUITE])
def test_each_test_is_a_valid_definition_of_3_to_12_steps(test):
    assert set(test) == {"name", "description", "tags", "version", "start_url", "steps"}
    assert definition_errors(_definition(test)) == {}
    assert validate_definition(_definition(test))["steps"] == test["steps"]
    assert 3 <= len(test["steps"]) <= 12
    assert test["version"] == 1 and test["start_url"].startswith("/")
    assert test["description"] and test["tags"] and "smoke" in test["tags"]


def test_the_suite_uses_every_action_and_every_locator_kind():
    steps = [step for test in SUITE for step in test["steps"]]
    assert {step["action"] for step in steps} == set(ACTIONS)
    kinds = {locator["kind"] for step in steps for locator in step.get("target", {}).get("locators", [])}
    assert kinds == set(LOCATOR_KINDS)


def test_actions_that_change_the_page_have_fallback_locators():
    for test in SUITE:
        for step in test["steps"]:
            if step["action"] in ("click", "type", "select", "hover"):
                assert len(step["target"]["locators"]) >= 2, (test["name"], step)


def test_logins_read_the_credentials_from_the_environment_only():
    assert set().union(*(referenced_variables(_definition(test)) for test in SUITE)) == {"SHOP_EMAIL", "SHOP_PASSWORD"}
    text = SUITE_FILE.read_text(encoding="utf-8")
    for email, (_name, password) in ACCOUNTS.items():
        assert password not in text
        assert email not in text
    logins = [test for test in SUITE if "{{ env.SHOP_PASSWORD }}" in json.dumps(test, ensure_ascii=False)]
    assert len(logins) >= 3


def test_every_extracted_value_is_stored_before_it_is_used():
    uses = 0
    for test in SUITE:
        stored: set[str] = set()
        for step in test["steps"]:
            used = set(VARS_PATTERN.findall(json.dumps(step)))
            assert used <= stored, (test["name"], step)
            uses += len(used)
            if step["action"] == "extract":
                stored.add(step["name"])
    assert uses >= 2
