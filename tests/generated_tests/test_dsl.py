"""The steps DSL: schema validation with step-indexed errors, variables, masking."""

from __future__ import annotations

import pytest

from apps.core.errors import ApplicationError
from apps.generated_tests.dsl import (
    ACTIONS,
    Masker,
    MissingVariable,
    definition_errors,
    describe_step,
    referenced_variables,
    render,
    validate_definition,
)

TARGET = {"locators": [{"kind": "css", "value": "#go"}]}
VALID_STEPS = {
    "goto": {"url": "/"},
    "click": {"target": TARGET},
    "type": {"target": TARGET, "value": "x"},
    "select": {"target": TARGET, "value": "FR"},
    "hover": {"target": TARGET},
    "press": {"key": "Enter"},
    "wait_for": {"target": TARGET, "state": "hidden", "timeout_ms": 500},
    "assert_text": {"target": TARGET, "text": "Hi", "match": "equals"},
    "assert_visible": {"target": TARGET},
    "assert_url": {"value": "/cart"},
    "assert_no_console_errors": {"ignore": ["favicon"]},
    "extract": {"target": TARGET, "name": "order_id", "attribute": "data-id"},
    "screenshot": {"name": "home"},
}


def doc(*steps):
    return {"version": 1, "start_url": "/", "steps": list(steps)}


def test_every_action_has_a_valid_example():
    assert set(VALID_STEPS) == set(ACTIONS)
    definition = doc(*({"action": action, **fields} for action, fields in VALID_STEPS.items()))
    assert definition_errors(definition) == {}
    assert validate_definition(definition) == definition


@pytest.mark.parametrize("kind", ["css", "xpath", "text", "role", "test_id", "label"])
def test_every_locator_kind_is_accepted(kind):
    step = {"action": "click", "target": {"locators": [{"kind": kind, "value": "x", "name": "n"}],
                                          "fingerprint": {"tag": "button"}}}
    assert definition_errors(doc(step)) == {}


@pytest.mark.parametrize(("step", "expected"), [
    ({"action": "click"}, "'target' is required"),
    ({"action": "type", "target": TARGET}, "'value' is required"),
    ({"action": "goto"}, "'url' is required"),
    ({"action": "jump"}, "action must be one of"),
    ({"action": "click", "target": {"locators": []}}, "should be non-empty"),
    ({"action": "click", "target": {"locators": [{"kind": "id", "value": "x"}]}}, "must be one of"),
    ({"action": "click", "target": TARGET, "colour": "red"}, "'colour' was unexpected"),
    ({"action": "wait_for", "target": TARGET, "timeout_ms": -1}, "timeout_ms"),
    ({"action": "extract", "target": TARGET, "name": "1bad"}, "name"),
    ({"action": "assert_text", "target": TARGET, "text": "(", "match": "regex"}, "regular expression is invalid"),
    ({"action": "click", "target": {"locators": [{"kind": "css", "value": "//div"}]}}, "use kind “xpath”"),
])
def test_invalid_steps_name_the_index_and_the_problem(step, expected):
    errors = definition_errors(doc({"action": "goto", "url": "/"}, step))
    assert list(errors) == ["steps[1]"]
    assert any(expected in message for message in errors["steps[1]"]), errors


def test_validate_raises_a_400_naming_the_first_bad_step():
    with pytest.raises(ApplicationError) as caught:
        validate_definition(doc({"action": "goto", "url": "/"}, {"action": "goto", "url": "/"}, {"action": "click"}))
    assert caught.value.code == "invalid_steps"
    assert caught.value.status_code == 400
    assert caught.value.message.startswith("Step 2 is invalid")
    assert "steps[2]" in caught.value.details


@pytest.mark.parametrize("definition", [
    None, [], "steps", {"steps": []}, {"version": 2, "steps": [{"action": "goto"}]},
])
def test_malformed_documents_are_refused(definition):
    assert definition_errors(definition)


def test_render_substitutes_env_and_extracted_values():
    assert render("{{ env.USER }}:{{vars.order}}", {"USER": "ada"}, {"order": "42"}) == "ada:42"
    with pytest.raises(MissingVariable, match="env.MISSING"):
        render("{{ env.MISSING }}", {}, {})


def test_referenced_variables_walks_the_whole_document():
    definition = doc({"action": "type", "target": TARGET, "value": "{{ env.PASSWORD }}"},
                     {"action": "goto", "url": "/u/{{ env.USER }}/{{ vars.x }}"})
    assert referenced_variables(definition) == {"PASSWORD", "USER"}


def test_masker_hides_secrets_everywhere_longest_first():
    masker = Masker(["hunter2", "hunter2-extended", ""])
    assert masker.text("pw=hunter2-extended and hunter2") == f"pw={Masker.MASK} and {Masker.MASK}"
    assert masker.json({"a": ["hunter2", 3], "b": None}) == {"a": [Masker.MASK, 3], "b": None}


def test_descriptions_read_like_sentences_and_never_render_variables():
    step = {"action": "type", "target": {"locators": [{"kind": "label", "value": "Password"}]},
            "value": "{{ env.PASSWORD }}"}
    assert describe_step(step) == "Type “{{ env.PASSWORD }}” into label=Password"
    role = {"action": "click", "target": {"locators": [{"kind": "role", "value": "button", "name": "Buy"}]}}
    assert describe_step(role) == "Click button “Buy”"
