"""Self-healing in real runs: a Celery worker runs a test recorded against the demo shop in Chromium,
then against changed variants of the shop (demo_shop/variants.py, chosen by host name).

One journey, four runs (the suite must stay fast): the baseline run records the fingerprints; the
renamed shop heals and passes; a second renamed run heals from the remembered pattern; the shop
without the button fails (no false pass). Then the review: accept writes a new test version with the
healed selector first, reject counts a failure on the pattern.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.generated_tests.models import Test, TestVersion
from apps.generated_tests.services import test_create
from apps.healing.models import Heal, HealingPattern, HealingSettings, HealSource, HealStatus
from apps.healing.services import heal_accept, heal_reject, healing_settings_update
from apps.test_runs.models import Artifact, ArtifactKind, ResultStatus, Run, RunStatus, StepResult, StepStatus
from apps.test_runs.services import run_create
from apps.test_runs.snapshots import run_snapshot

pytestmark = pytest.mark.browser

BUY_BUTTON = {"locators": [{"kind": "test_id", "value": "add-to-cart"}, {"kind": "css", "value": "#add-to-cart"}],
              "description": "Add to cart button"}
DEFINITION = {"version": 1, "start_url": "/product/1", "steps": [
    {"action": "click", "target": BUY_BUTTON},
    {"action": "assert_text", "target": {"locators": [{"kind": "test_id", "value": "flash"}]},
     "text": "Added 1 × Aurora Wireless Headphones"},
]}


@pytest.fixture
def in_alpha(session_orgs, django_db_blocker):
    """`with in_alpha():` — committed database access in alpha's schema (workers see what it writes)."""

    @contextlib.contextmanager
    def enter() -> Iterator[None]:
        with django_db_blocker.unblock(), tenant_context(session_orgs["alpha"].organization):
            yield
        connection.set_schema_to_public()

    return enter


def variant_url(shop_url: str, variant: str) -> str:
    """The shop's URL under `<variant>.localhost`, which Chromium resolves to this machine."""
    return f"http://{variant}.localhost:{urlsplit(shop_url).port}/"


def wait_until_finished(run_id, worker, seconds: float = 240) -> Run:
    deadline = time.monotonic() + seconds
    while True:
        run = Run.objects.get(pk=run_id)
        if run.is_finished:
            return run
        if time.monotonic() > deadline:
            pytest.fail(f"run still {run.status} after {seconds} s; worker log:\n{worker.stuck_report()}")
        time.sleep(0.2)


def run_on(project, test, org, worker, environment: str | None = None, retries: int = 1) -> Run:
    # One retry, as a CI pipeline would set: a browser that stops answering (seen once, on a loaded
    # machine) fails its attempt within ARGUS_BROWSER_COMMAND_TIMEOUT and the retry gets a fresh one.
    run = run_create(project=project, actor=org.developer, tests=[test], environment=environment,
                     retries=retries)
    return wait_until_finished(run.pk, worker)


def wait_for_heals(result, count: int, seconds: float = 10) -> list[Heal]:
    """Heals are recorded right after the result finishes, by the same worker task."""
    deadline = time.monotonic() + seconds
    while True:
        heals = list(Heal.objects.filter(result=result).order_by("step_index"))
        if len(heals) >= count or time.monotonic() > deadline:
            return heals
        time.sleep(0.1)


def test_a_renamed_shop_heals_a_removed_button_fails_and_reviews_apply_or_count(
        session_orgs, in_alpha, committed_project, celery_worker, demo_shop):
    alpha = session_orgs["alpha"]
    project = committed_project(alpha, base_url=demo_shop, environments={
        "staging": variant_url(demo_shop, "renamed"), "production": variant_url(demo_shop, "removed")})
    with in_alpha():
        test = test_create(project=project, actor=alpha.developer, name="Buy headphones", definition=DEFINITION,
                           status="approved")
        worker = celery_worker()

        # 1. The shop as recorded: passes, and each step's element fingerprint becomes the baseline.
        baseline = run_on(project, test, alpha, worker)
        assert baseline.status == RunStatus.PASSED, baseline.results.get().error_message
        click = StepResult.objects.get(result__run=baseline, index=0)
        assert click.fingerprint["test_ids"] == {"data-testid": "add-to-cart"} and click.healing is None

        # 2. Ids, classes and test ids renamed, the button reworded: the click heals and the run passes.
        healed_run = run_on(project, test, alpha, worker, environment="staging")
        result = healed_run.results.get()
        assert (healed_run.status, result.status) == (RunStatus.PASSED, ResultStatus.PASSED), result.error_message
        step = StepResult.objects.get(result=result, index=0)
        assert step.status == StepStatus.PASSED
        assert step.healing["status"] == "healed" and step.healing["source"] == "healer"
        assert step.healing["error_type"] == "not_found"
        assert step.healing["original_text"] == "test_id=add-to-cart, css=#add-to-cart"
        assert step.resolved_locator == f"css={step.healing['selector']}"
        # The check of the next step ran on the page the healed click led to.
        assert StepResult.objects.get(result=result, index=1).status == StepStatus.PASSED
        (heal,) = wait_for_heals(result, 1)
        assert heal.status == HealStatus.PENDING_REVIEW  # the project's default mode is review
        assert heal.healed_selector == step.healing["selector"] and "buy" in heal.healed_selector
        assert heal.confidence >= 0.62 and heal.reason
        assert heal.runner_up is None or heal.runner_up["score"] < heal.confidence
        assert heal.fingerprint["test_ids"] == {"data-testid": "buy-button"}
        outlined = Artifact.objects.get(pk=heal.screenshot_id)
        assert outlined.kind == ArtifactKind.SCREENSHOT and outlined.name.endswith(("-healed.jpg", "-healed.png"))
        # A heal is found well before the step timeout (10 s): only the short grace is waited.
        assert step.duration_ms < 5000, step.duration_ms
        pattern = HealingPattern.objects.get(project=project)
        assert (pattern.success_count, pattern.failure_count, pattern.healed_selector) == (1, 0, heal.healed_selector)
        # The run page's snapshot (and the live step.finished delta, same builder) carries the heal.
        shown = run_snapshot(healed_run)["results"][0]["steps"][0]["heal"]
        assert shown["original_text"] == heal.original_text and shown["selector"] == heal.healed_selector
        assert shown["screenshot"] == str(outlined.pk)

        # 3. The same break again: the remembered pattern is tried first and counts another success.
        again = run_on(project, test, alpha, worker, environment="staging")
        assert again.status == RunStatus.PASSED, again.results.get().error_message
        (reused,) = wait_for_heals(again.results.get(), 1)
        assert (reused.source, reused.pattern_id, reused.healed_selector) == (HealSource.PATTERN, pattern.pk,
                                                                             heal.healed_selector)
        pattern.refresh_from_db()
        assert (pattern.success_count, pattern.failure_count) == (2, 0)

        # 4. The button is gone: healing refuses, the step fails as before and says why.
        removed = run_on(project, test, alpha, worker, environment="production", retries=0)
        failed = removed.results.get()
        assert (removed.status, failed.status) == (RunStatus.FAILED, ResultStatus.FAILED)
        assert failed.error_type == "element_not_found"
        assert "No element matched Add to cart button" in failed.error_message
        assert "healing refused: " in failed.error_message
        assert failed.error_message.endswith("AI not allowed for this project)")
        (refused,) = wait_for_heals(failed, 1)
        assert refused.status == HealStatus.REFUSED and refused.healed_selector == ""

        # Review: accepting writes version 2 with the healed selector first and the old locators kept.
        heal_accept(heal=heal, actor=alpha.developer)
        test.refresh_from_db()
        assert test.version == 2
        target = test.definition["steps"][0]["target"]
        assert target["locators"] == [{"kind": "css", "value": heal.healed_selector}, *BUY_BUTTON["locators"]]
        assert target["fingerprint"]["test_ids"] == {"data-testid": "buy-button"}
        assert TestVersion.objects.get(test=test, number=2).change_note.startswith("Self-healing accepted")
        heal.refresh_from_db()
        assert (heal.status, heal.applied_version, heal.reviewed_by_id) == (HealStatus.ACCEPTED, 2,
                                                                            alpha.developer.pk)
        assert AuditEntry.objects.filter(action="heal.accepted", object_id=str(heal.pk)).exists()

        # Rejecting the other heal changes no test and costs its pattern a failure.
        heal_reject(heal=reused, actor=alpha.developer)
        assert Test.objects.get(pk=test.pk).version == 2
        pattern.refresh_from_db()
        assert (pattern.success_count, pattern.failure_count) == (2, 1)
        assert AuditEntry.objects.filter(action="heal.rejected", object_id=str(reused.pk)).exists()


def test_auto_apply_writes_confident_heals_and_off_heals_nothing(
        session_orgs, in_alpha, committed_project, celery_worker, demo_shop):
    alpha = session_orgs["alpha"]
    renamed = variant_url(demo_shop, "renamed")
    project = committed_project(alpha, base_url=demo_shop, environments={"staging": renamed})
    with in_alpha():
        # The baseline comes from the fingerprint stored on the test's target (no earlier run needed).
        fingerprinted = {**DEFINITION, "steps": [{**DEFINITION["steps"][0], "target": {
            **BUY_BUTTON, "fingerprint": recorded_fingerprint(demo_shop)}}, DEFINITION["steps"][1]]}
        test = test_create(project=project, actor=alpha.developer, name="Buy headphones", definition=fingerprinted,
                           status="approved")
        healing_settings_update(project=project, actor=alpha.admin, mode="auto_apply", auto_apply_min_confidence=0.6)
        worker = celery_worker()
        run = run_on(project, test, alpha, worker, environment="staging")
        assert run.status == RunStatus.PASSED, run.results.get().error_message
        (heal,) = wait_for_heals(run.results.get(), 1)
        assert (heal.status, heal.applied_version) == (HealStatus.APPLIED, 2)
        test.refresh_from_db()
        assert test.definition["steps"][0]["target"]["locators"][0] == {"kind": "css", "value": heal.healed_selector}
        assert AuditEntry.objects.filter(action="heal.applied", object_id=str(heal.pk)).exists()

        HealingSettings.objects.filter(project=project).update(mode="off")
        # Version 2 finds the button by its healed selector: nothing to heal, nothing recorded.
        off = run_on(project, Test.objects.get(pk=test.pk), alpha, worker, environment="staging")
        assert off.status == RunStatus.PASSED
        assert not Heal.objects.filter(run=off).exists()


def recorded_fingerprint(shop_url: str) -> dict:
    """The buy button's fingerprint as the engine records it, taken from the original shop."""
    from apps.test_runs.devices import get_device
    from apps.test_runs.engine.driver import apply_device, launch_browser
    from apps.test_runs.engine.locators import locate

    browser = launch_browser()
    try:
        apply_device(browser.driver, get_device("desktop"))
        browser.driver.get(f"{shop_url}product/1")
        return locate(browser.driver, BUY_BUTTON["locators"]).fingerprint
    finally:
        browser.quit()
