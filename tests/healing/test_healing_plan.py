"""Which baseline a step heals against, when a step is not healed at all, and the shop's changed variants."""

from __future__ import annotations

from apps.healing.runtime import HealingPlan, locators_text
from demo_shop import pages
from demo_shop.catalog import product_by_id
from demo_shop.variants import apply_variant, variant_for_host

OLD = [{"kind": "test_id", "value": "add-to-cart"}]
HEALED = [{"kind": "css", "value": "#buy-now"}, *OLD]
RECORDED = {"tag": "button", "id": "add-to-cart", "text": "Add to cart"}
STORED = {"tag": "button", "id": "buy-now", "text": "Add to cart"}


def test_the_latest_passing_fingerprint_counts_only_for_the_same_locators():
    plan = HealingPlan(mode="review", ai_note="", baselines={0: (OLD, RECORDED)})

    assert plan.baseline_for(0, {"locators": OLD, "fingerprint": STORED}) == RECORDED
    # After a heal was applied the step's locators changed: the target's own fingerprint is the baseline.
    assert plan.baseline_for(0, {"locators": HEALED, "fingerprint": STORED}) == STORED
    assert plan.baseline_for(1, {"locators": OLD}) is None


def test_steps_without_a_baseline_waiting_for_absence_or_with_healing_off_get_no_healer():
    plan = HealingPlan(mode="review", ai_note="", baselines={0: (OLD, RECORDED)})

    assert plan.step_healer(1, {"action": "click", "target": {"locators": OLD}}) is None
    assert plan.step_healer(0, {"action": "wait_for", "state": "hidden", "target": {"locators": OLD}}) is None
    assert plan.step_healer(0, {"action": "goto", "url": "/"}) is None
    assert HealingPlan(mode="off", ai_note="", baselines={0: (OLD, RECORDED)}).step_healer(
        0, {"action": "click", "target": {"locators": OLD}}) is None
    assert locators_text(HEALED) == "css=#buy-now, test_id=add-to-cart"


def test_the_shop_variants_rename_or_remove_the_buy_button():
    html = pages.product(product_by_id(1))

    renamed, removed = apply_variant(html, "renamed"), apply_variant(html, "removed")

    assert 'id="buy-now" class="btn btn-main" data-testid="buy-button">Add to cart</button>' in renamed
    assert 'data-testid="add-to-cart"' not in renamed and 'data-testid="add-to-cart-form"' in renamed
    assert "<button" not in removed.split('data-testid="add-to-cart-form"')[1].split("</form>")[0]
    assert (variant_for_host("renamed.localhost:8001"), variant_for_host("127.0.0.1:8001"),
            variant_for_host("alpha.localhost:8001"), variant_for_host("127.0.0.1:8001", "removed")) == (
        "renamed", "original", "original", "removed")
