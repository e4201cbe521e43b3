"""The API table of healing for the isolation and role tests (see APP_TABLES in tests/api_endpoints.py).

Import tests.api_endpoints before this module: that module loads this one while it is being built.
"""

from __future__ import annotations

from apps.healing.models import Heal, HealingPattern, HealingSettings, HealStatus
from apps.test_runs.models import StepResult
from tests.api_endpoints import ADMIN_ONLY, DEVELOPER_WRITE, Endpoint

HEALED_SELECTOR = "#buy-now"
HEALED_FINGERPRINT = {"tag": "button", "id": "buy-now", "classes": ["button", "primary"], "text": "Add to cart",
                      "test_ids": {"data-testid": "buy-button"}}

ENDPOINTS = [
    Endpoint("get", "/api/v1/healing/heals"),
    Endpoint("get", "/api/v1/healing/heals/{heal}"),
    Endpoint("post", "/api/v1/healing/heals/{heal}/accept", roles=DEVELOPER_WRITE),
    Endpoint("post", "/api/v1/healing/heals/{heal}/reject", roles=DEVELOPER_WRITE),
    Endpoint("get", "/api/v1/healing/patterns"),
    Endpoint("get", "/api/v1/healing/projects/{project}/settings"),
    Endpoint("patch", "/api/v1/healing/projects/{project}/settings", {"mode": "auto_apply"}, roles=ADMIN_ONLY),
    Endpoint("get", "/api/v1/healing/accuracy"),
]
# Heal and pattern lists are checked by tests/healing/test_healing_api.py (test_isolation's _rows_of knows
# only the core lists).
LIST_PATHS: list[str] = []
MODELS = [Heal, HealingPattern, HealingSettings]
PLACEHOLDERS = {"heal_id": "heal"}
PUBLIC_OPERATIONS: set[tuple[str, str]] = set()


def make_heal(project, step: StepResult, *, status: str = HealStatus.PENDING_REVIEW) -> Heal:
    """A heal of `step` (a click on test_id=add-to-cart) to #buy-now, with its pattern, made with the ORM."""
    result = step.result
    original = [{"kind": "test_id", "value": "add-to-cart"}]
    pattern = HealingPattern.objects.create(
        project=project, fingerprint_key="k" * 40, fingerprint=HEALED_FINGERPRINT,
        original_locators="test_id=add-to-cart", healed_selector=HEALED_SELECTOR, success_count=1)
    return Heal.objects.create(
        project=project, test_id=result.test_id, test_version=result.test_version, run_id=result.run_id,
        result=result, step_result=step, step_index=step.index, action=step.action, original_locators=original,
        original_text="test_id=add-to-cart", healed_selector=HEALED_SELECTOR, fingerprint=HEALED_FINGERPRINT,
        fingerprint_key="k" * 40, confidence=0.93, runner_up={"selector": "#search", "score": 0.41},
        reasons=["same text “Add to cart”"], reason="best 0.93, runner-up 0.41", candidates=12, duration_ms=21.5,
        error_type="not_found", status=status, pattern=pattern)


def create(org, project, ids: dict[str, str]) -> dict[str, str]:
    """A pending heal of the failed run's click step (the step the test still has), with its pattern."""
    step = StepResult.objects.select_related("result").get(result_id=ids["result"], index=1)
    return {"heal": str(make_heal(project, step).pk)}
