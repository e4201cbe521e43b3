"""Steps DSL v1: the JSON document a test is made of.

    {"version": 1, "start_url": "/", "steps": [{"action": "click", "target": {...}}, ...]}

A target carries several locators, tried in order, and a slot for the element's fingerprint
from its last passing run (read by self-healing):

    {"locators": [{"kind": "test_id", "value": "add-to-cart"}, {"kind": "css", "value": "#add"}],
     "fingerprint": null, "description": "Add to cart button"}

Text values may use `{{ env.NAME }}` (a variable of the run's environment; secret ones are
masked in every trace) and `{{ vars.NAME }}` (a value an earlier `extract` step stored).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from apps.core.errors import ApplicationError

DSL_VERSION = 1
ACTIONS = ("goto", "click", "type", "select", "hover", "press", "wait_for", "assert_text", "assert_visible",
           "assert_url", "assert_no_console_errors", "extract", "screenshot")
LOCATOR_KINDS = ("css", "xpath", "text", "role", "test_id", "label")
MAX_STEPS = 500

_LOCATOR = {
    "type": "object",
    "required": ["kind", "value"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": list(LOCATOR_KINDS)},
        "value": {"type": "string", "minLength": 1, "maxLength": 2000},
        # role locators: the accessible name to match; text locators: exact match instead of contains.
        "name": {"type": "string", "maxLength": 500},
        "exact": {"type": "boolean"},
    },
}
_TARGET = {
    "type": "object",
    "required": ["locators"],
    "additionalProperties": False,
    "properties": {
        "locators": {"type": "array", "minItems": 1, "maxItems": 10, "items": _LOCATOR},
        "fingerprint": {"type": ["object", "null"]},
        "description": {"type": "string", "maxLength": 500},
    },
}
_MATCH = {"enum": ["contains", "equals", "regex"]}


def _step(action: str, required: list[str], properties: dict[str, Any]) -> dict:
    return {
        "if": {"properties": {"action": {"const": action}}, "required": ["action"]},
        "then": {"required": required, "properties": properties},
    }


STEP_SCHEMA: dict = {
    "type": "object",
    "required": ["action"],
    "additionalProperties": False,
    "properties": {
        "action": {"enum": list(ACTIONS)},
        "description": {"type": "string", "maxLength": 500},
        "target": _TARGET,
        "url": {"type": "string", "minLength": 1, "maxLength": 2000},
        "value": {"type": "string", "maxLength": 10_000},
        "text": {"type": "string", "maxLength": 10_000},
        "key": {"type": "string", "minLength": 1, "maxLength": 50},
        "name": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$", "maxLength": 64},
        "attribute": {"type": "string", "minLength": 1, "maxLength": 100},
        "match": _MATCH,
        "state": {"enum": ["visible", "hidden", "present"]},
        "clear": {"type": "boolean"},
        "timeout_ms": {"type": "integer", "minimum": 0, "maximum": 120_000},
        "optional": {"type": "boolean"},
        "ignore": {"type": "array", "items": {"type": "string", "maxLength": 500}, "maxItems": 50},
    },
    "allOf": [
        _step("goto", ["url"], {}),
        _step("click", ["target"], {}),
        _step("type", ["target", "value"], {}),
        _step("select", ["target", "value"], {}),
        _step("hover", ["target"], {}),
        _step("press", ["key"], {}),
        _step("wait_for", ["target"], {}),
        _step("assert_text", ["target", "text"], {}),
        _step("assert_visible", ["target"], {}),
        _step("assert_url", ["value"], {}),
        _step("assert_no_console_errors", [], {}),
        _step("extract", ["target", "name"], {}),
        _step("screenshot", [], {}),
    ],
}

DEFINITION_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Argus steps DSL v1",
    "type": "object",
    "required": ["version", "steps"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": DSL_VERSION},
        "start_url": {"type": "string", "maxLength": 2000},
        "steps": {"type": "array", "minItems": 1, "maxItems": MAX_STEPS, "items": STEP_SCHEMA},
    },
}

_VALIDATOR = Draft202012Validator(DEFINITION_SCHEMA)
VARIABLE_PATTERN = re.compile(r"\{\{\s*(env|vars)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _message(error) -> str:
    # jsonschema's messages quote the whole offending instance; name the field instead.
    path = list(error.absolute_path)
    in_step = len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int)
    field = ".".join(str(part) for part in (path[2:] if in_step else path)) or None
    if error.validator == "required":
        return error.message.replace(" is a required property", " is required")
    if error.validator == "additionalProperties":
        return error.message
    if error.validator == "enum":
        allowed = ", ".join(str(item) for item in error.validator_value)
        return f"{field or 'value'} must be one of: {allowed}"
    prefix = f"{field}: " if field else ""
    return prefix + error.message


def definition_errors(definition: Any) -> dict[str, list[str]]:
    """Every problem of a definition, keyed "definition" or "steps[<index>]"; empty when valid."""
    if not isinstance(definition, Mapping):
        return {"definition": ["The definition must be a JSON object with “version” and “steps”."]}
    errors: dict[str, list[str]] = {}
    for error in sorted(_VALIDATOR.iter_errors(definition), key=lambda item: list(item.absolute_path)):
        path = list(error.absolute_path)
        if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
            key = f"steps[{path[1]}]"
        else:
            key = "definition"
        if error.validator in ("if", "allOf"):
            continue  # the failing branch reports its own, more precise error
        messages = errors.setdefault(key, [])
        text = _message(error)
        if text not in messages:
            messages.append(text)
    if not errors:
        for index, step in enumerate(definition["steps"]):
            problem = _semantic_problem(step)
            if problem:
                errors.setdefault(f"steps[{index}]", []).append(problem)
    return errors


def _semantic_problem(step: Mapping[str, Any]) -> str | None:
    if step.get("match") == "regex":
        pattern = step.get("text") if step["action"] == "assert_text" else step.get("value")
        try:
            re.compile(pattern or "")
        except re.error as exc:
            return f"the regular expression is invalid: {exc}"
    for locator in (step.get("target") or {}).get("locators", []):
        if locator["kind"] == "css" and locator["value"].strip().startswith("//"):
            return "a css locator holds an XPath expression; use kind “xpath”"
    return None


def validate_definition(definition: Any) -> dict:
    """The definition when valid; otherwise an ApplicationError (400) naming each step and problem."""
    errors = definition_errors(definition)
    if errors:
        first_key, first_messages = next(iter(errors.items()))
        where = "The definition" if first_key == "definition" else f"Step {first_key[6:-1]}"
        raise ApplicationError(f"{where} is invalid: {first_messages[0]}", code="invalid_steps", details=errors)
    return dict(definition)


def referenced_variables(definition: Mapping[str, Any]) -> set[str]:
    """Names used as `{{ env.NAME }}` anywhere in the definition."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.update(name for scope, name in VARIABLE_PATTERN.findall(value) if scope == "env")
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(definition)
    return found


class MissingVariable(LookupError):
    pass


def render(text: str, env: Mapping[str, str], extracted: Mapping[str, str]) -> str:
    """Replace `{{ env.X }}` and `{{ vars.X }}`; an unknown name raises MissingVariable."""

    def substitute(match: re.Match) -> str:
        scope, name = match.groups()
        source = env if scope == "env" else extracted
        if name not in source:
            where = "the environment's variables" if scope == "env" else "the values extracted so far"
            raise MissingVariable(f"{{{{ {scope}.{name} }}}} is not defined in {where}.")
        return str(source[name])

    return VARIABLE_PATTERN.sub(substitute, text)


class Masker:
    """Replaces secret values with a fixed mask in any text or JSON that leaves the engine."""

    MASK = "••••••"

    def __init__(self, secrets: list[str]):
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, self.MASK)
        return value

    def json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, dict):
            return {key: self.json(item) for key, item in value.items()}
        return value


def describe_target(target: Mapping[str, Any] | None) -> str:
    if not target:
        return ""
    if target.get("description"):
        return target["description"]
    locator = target["locators"][0]
    if locator["kind"] == "role":
        return f"{locator['value']} “{locator.get('name', '')}”".strip()
    return f"{locator['kind']}={locator['value']}"


def describe_step(step: Mapping[str, Any]) -> str:
    """A one-line, human description of a step (before variables are rendered, so no secrets)."""
    if step.get("description"):
        return step["description"]
    action, target = step["action"], describe_target(step.get("target"))
    return {
        "goto": f"Go to {step.get('url', '')}",
        "click": f"Click {target}",
        "type": f"Type “{step.get('value', '')}” into {target}",
        "select": f"Select “{step.get('value', '')}” in {target}",
        "hover": f"Hover over {target}",
        "press": f"Press {step.get('key', '')}" + (f" in {target}" if target else ""),
        "wait_for": f"Wait for {target} to be {step.get('state', 'visible')}",
        "assert_text": f"Check {target} {step.get('match', 'contains')} “{step.get('text', '')}”",
        "assert_visible": f"Check {target} is visible",
        "assert_url": f"Check the URL {step.get('match', 'contains')} “{step.get('value', '')}”",
        "assert_no_console_errors": "Check there are no console errors",
        "extract": f"Store {target} as {step.get('name', '')}",
        "screenshot": f"Screenshot {step.get('name', '')}".strip(),
    }[action]
