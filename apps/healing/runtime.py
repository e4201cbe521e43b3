"""Self-healing inside a run: the glue between the engine (apps.test_runs.engine) and the healer.

The worker loads a `HealingPlan` for a result once, before the browser starts (the project's policy,
the baseline fingerprint of every step in one query, the known patterns in one more). The
interpreter asks the plan for a `StepHealer` per step; when the step's locators find nothing, several
elements of which the first is unlike the baseline, or a hidden or disabled element, the step healer

1. waits a short grace first (a page still rendering is not a broken locator),
2. tries the project's known patterns for that element (one `locate` round trip for all of them;
   accepted only when visible, enabled when the action needs it, and still like the baseline),
3. else asks `healer.heal()` (one round trip that scores every candidate of the live DOM).

An accepted heal only relocates the element: the interpreter then runs the step, with its own
check, on the healed selector. A refusal leaves the step to fail as it would have, with the reason
appended. Nothing here touches the database: the record goes onto the StepResult through the
trace recorder, and `apps.healing.services.heals_record` turns it into Heal rows after the result.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Q
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.remote.webdriver import WebDriver

from apps.healing.models import HealErrorType, HealingMode, HealingPattern, HealingSettings
from apps.test_runs.engine.locators import WANT_VISIBLE, Located, describe_locator, locate
from apps.test_runs.models import StepResult, StepStatus, TestResult

logger = logging.getLogger(__name__)

# A locator that finds nothing for this long is worth healing; most pages settle well within it
# (the engine's own page loads and clicks take ~0.1 s here), and waiting the whole step timeout
# (10 s by default) before healing would make every healed step ten times slower.
GRACE_SECONDS = 1.0
# The interpreter's pending reasons that a heal may fix, and the heal's error type for each.
HEALABLE_PROBLEMS = {"element_not_found": HealErrorType.NOT_FOUND, "not_visible": HealErrorType.HIDDEN,
                     "disabled": HealErrorType.DISABLED}
ENABLED_ACTIONS = frozenset({"click", "type", "select", "press"})
MAX_PATTERNS_TRIED = 5

OUTLINE_ON = """const el = arguments[0]; const before = [el.style.outline, el.style.outlineOffset];
el.scrollIntoView({block: "nearest", inline: "nearest"});
el.style.outline = "3px solid #d6007a"; el.style.outlineOffset = "2px"; return before;"""
OUTLINE_OFF = "arguments[0].style.outline = arguments[1][0]; arguments[0].style.outlineOffset = arguments[1][1];"


def _healer():
    # Imported on first use: the healer (scoring, heal.js) is only needed once a locator breaks.
    from apps.healing import healer

    return healer


def locators_text(locators: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(describe_locator(locator) for locator in locators)[:1000]


@dataclass(frozen=True)
class PatternHint:
    id: str
    selector: str
    fingerprint_key: str
    original_locators: str
    confidence: float


@dataclass
class HealReport:
    """What a step's healing did: `record` goes to StepResult.healing, `screenshot` (the healed element
    outlined) becomes an artifact whose id the recorder adds to the record."""

    record: dict[str, Any]
    screenshot: bytes | None = None


@dataclass
class HealingPlan:
    mode: str
    ai_note: str
    # Step index → (the locators the baseline was recorded with, the fingerprint).
    baselines: dict[int, tuple[list, dict]] = field(default_factory=dict)
    patterns: list[PatternHint] = field(default_factory=list)

    def baseline_for(self, index: int, target: Mapping[str, Any]) -> dict | None:
        """The latest passing fingerprint of this step, if it was recorded for these very locators;
        else the fingerprint stored on the test's target."""
        recorded = self.baselines.get(index)
        if recorded is not None and recorded[0] == list(target.get("locators") or []):
            return recorded[1]
        return target.get("fingerprint") or None

    def step_healer(self, index: int | None, step: Mapping[str, Any]) -> StepHealer | None:
        target = step.get("target")
        if self.mode == HealingMode.OFF or index is None or not target:
            return None
        if step["action"] == "wait_for" and step.get("state") == "hidden":
            return None  # waiting for something to go away: a missing element is the success
        baseline = self.baseline_for(index, target)
        if not baseline:
            return None
        key = _healer().fingerprint_key(baseline)
        text = locators_text(target["locators"])
        patterns = [pattern for pattern in self.patterns
                    if pattern.fingerprint_key == key or pattern.original_locators == text]
        patterns.sort(key=lambda pattern: -pattern.confidence)
        return StepHealer(action=step["action"], target=target, baseline=baseline, key=key,
                          patterns=patterns[:MAX_PATTERNS_TRIED], ai_note=self.ai_note)


def _ai_note(settings_row: HealingSettings) -> str:
    tenant = getattr(connection, "tenant", None)
    if getattr(tenant, "ai_opt_out", False):
        return "AI not allowed for this organization"
    if not settings_row.allow_ai:
        return "AI not allowed for this project"
    return "AI fallback off: no AI gateway yet"


def plan_for(result: TestResult) -> HealingPlan | None:
    """The healing plan of a result's test; None when the project turned healing off."""
    run = result.run
    settings_row = HealingSettings.objects.filter(project_id=run.project_id).first() or HealingSettings()
    if settings_row.mode == HealingMode.OFF:
        return None
    plan = HealingPlan(mode=settings_row.mode, ai_note=_ai_note(settings_row))
    if result.test_id is not None:
        # One query: the latest passing step of the test at each index (PostgreSQL DISTINCT ON).
        rows = (StepResult.objects.filter(result__test_id=result.test_id, status=StepStatus.PASSED,
                                          fingerprint__isnull=False)
                .order_by("index", "-started_at").distinct("index").values_list("index", "target", "fingerprint"))
        plan.baselines = {index: (list((target or {}).get("locators") or []), fingerprint)
                          for index, target, fingerprint in rows}
    steps = (result.definition or {}).get("steps") or []
    keys, texts = set(), set()
    for index, step in enumerate(steps):
        target = step.get("target") if isinstance(step, dict) else None
        if not target or not target.get("locators"):
            continue
        baseline = plan.baseline_for(index, target)
        if baseline:
            keys.add(_healer().fingerprint_key(baseline))
            texts.add(locators_text(target["locators"]))
    if keys:
        plan.patterns = [
            PatternHint(id=str(pattern.pk), selector=pattern.healed_selector, fingerprint_key=pattern.fingerprint_key,
                        original_locators=pattern.original_locators, confidence=pattern.confidence)
            for pattern in HealingPattern.objects.filter(Q(fingerprint_key__in=keys) | Q(original_locators__in=texts),
                                                         project_id=run.project_id)
        ]
    return plan


class StepHealer:
    """Healing for one step: at most one attempt, whose record the interpreter hands back with the step."""

    def __init__(self, *, action: str, target: Mapping[str, Any], baseline: dict, key: str,
                 patterns: list[PatternHint], ai_note: str) -> None:
        self.action = action
        self.target = target
        self.baseline = baseline
        self.key = key
        self.patterns = patterns
        self.ai_note = ai_note
        self.needs_enabled = action in ENABLED_ACTIONS
        self.report: HealReport | None = None
        self._attempted = False
        self._several_checked = False

    # -- when to heal ---------------------------------------------------------------------------------

    def several_suspect(self, located: Located) -> bool:
        """The locators match several elements and the one they pick is unlike the baseline (checked once)."""
        if self._attempted or self._several_checked or not located.found or located.count <= 1:
            return False
        self._several_checked = True
        if not located.fingerprint:
            return False
        matches, _score, _reasons = _healer().still_matches(self.baseline, located.fingerprint, action=self.action)
        return not matches

    def due(self, error_type: str, *, elapsed: float, remaining: float) -> bool:
        return (not self._attempted and error_type in HEALABLE_PROBLEMS
                and (elapsed >= GRACE_SECONDS or remaining <= 0))

    @property
    def healed(self) -> bool:
        return self.report is not None and self.report.record["status"] == "healed"

    # -- healing --------------------------------------------------------------------------------------

    def heal(self, driver: WebDriver, error_type: str, *, screenshot: Callable[[], bytes]) -> dict | None:
        """One attempt. Returns the target to use from now on (the healed selector), or None (refused)."""
        self._attempted = True
        started = time.perf_counter()
        record = self._from_patterns(driver) or self._from_healer(driver)
        record.update({
            "error_type": HEALABLE_PROBLEMS.get(error_type, HealErrorType.SEVERAL),
            "original": [dict(locator) for locator in self.target["locators"]],
            "original_text": locators_text(self.target["locators"]),
            "fingerprint_key": self.key,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "screenshot": None,
        })
        element = record.pop("element", None)
        self.report = HealReport(record=record)
        if record["status"] != "healed":
            return None
        self.report.screenshot = self._outlined(driver, element, screenshot)
        return {**self.target, "locators": [{"kind": "css", "value": record["selector"]}]}

    def _from_patterns(self, driver: WebDriver) -> dict | None:
        if not self.patterns:
            return None
        located = locate(driver, [{"kind": "css", "value": pattern.selector} for pattern in self.patterns],
                         want=WANT_VISIBLE)
        if not located.found or not located.visible or (self.needs_enabled and not located.enabled):
            return None
        if not located.fingerprint or located.count != 1:
            return None
        # By heal()'s own rules: a pattern's nth-of-type selector may now point at another row's look-alike.
        matches, score, reasons = _healer().still_matches(self.baseline, located.fingerprint, action=self.action)
        if not matches:
            return None
        pattern = next(pattern for pattern in self.patterns if pattern.selector == located.locator["value"])
        return {"status": "healed", "source": "pattern", "pattern": pattern.id, "selector": pattern.selector,
                "confidence": round(score, 3), "runner_up": None, "reasons": list(reasons),
                "reason": f"known pattern (confidence {pattern.confidence:.2f}) still matches the element",
                "candidates": 1, "fingerprint": located.fingerprint, "element": located.element}

    def _from_healer(self, driver: WebDriver) -> dict:
        decision = _healer().heal(driver, self.baseline, action=self.action)
        best, runner_up = decision.best, decision.runner_up
        record = {
            "status": "healed" if decision.accepted else "refused", "source": "healer", "pattern": None,
            "selector": best.selector if decision.accepted and best else "",
            "best": {"selector": best.selector, "score": round(best.score, 3)} if best else None,
            "confidence": round(decision.confidence, 3),
            "runner_up": {"selector": runner_up.selector, "score": round(runner_up.score, 3)} if runner_up else None,
            "reasons": list(best.reasons) if best else [], "reason": decision.reason,
            "candidates": decision.candidates,
            "fingerprint": best.fingerprint if decision.accepted and best else None,
            "element": decision.element,
        }
        if decision.accepted and decision.element is None:
            record.update(status="refused", selector="", reason="the healed element could not be resolved")
        return record

    def _outlined(self, driver: WebDriver, element, screenshot: Callable[[], bytes]) -> bytes | None:
        """A screenshot with the healed element outlined (a temporary inline outline, removed after)."""
        if element is None:
            return None
        try:
            before = driver.execute_script(OUTLINE_ON, element)
            try:
                return screenshot()
            finally:
                driver.execute_script(OUTLINE_OFF, element, before)
        except WebDriverException:
            logger.info("the healed element could not be outlined for its screenshot", exc_info=True)
            return None

    # -- the outcome ----------------------------------------------------------------------------------

    def mark_failed(self) -> None:
        """The healed element was used but the step did not pass."""
        if self.healed:
            self.report.record["status"] = "failed"

    def explain(self, message: str) -> str:
        """The step's failure message, saying what healing did about it."""
        if self.report is None:
            return message
        record = self.report.record
        if record["status"] == "refused":
            return f"{message} (healing refused: {record['reason']}; {self.ai_note})"
        self.mark_failed()
        return f"{message} (after healing to css={record['selector']} at confidence {record['confidence']:.2f})"


def heal_summary(healing: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What the run page and the live deltas show of a step's healing."""
    if not healing:
        return None
    return {key: healing.get(key) for key in ("status", "source", "error_type", "original_text", "selector",
                                              "confidence", "runner_up", "reason", "duration_ms", "screenshot")}
