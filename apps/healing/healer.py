"""The healer: find again the element a step targeted when its locators no longer do.

One script round trip (heal.js, with the engine's locate.js helpers) collects every plausible element of
the live page with its fingerprint; scoring.similarity ranks them against the baseline fingerprint
recorded on the last passing step. The best is accepted only when it is visible (and enabled when the
action needs it), clears `min_confidence` and beats the runner-up by `min_margin`; an assertion target
must also agree on identity (text, accessible name, test id or id), so a check is never healed into
passing by mere presence. Otherwise the healer refuses and says why: no AI, no guessing.

Look-alikes (a "Delete" in every row) are told apart by their surroundings: the words of the row, card or
field around the element, weighted by how rare they are among the page's candidates. When several elements
look like the target, the best one's surroundings must still agree (otherwise the target's own row is
gone); when only one does, structure weighs less and a lower score suffices, because a unique element
that moved or was restyled is still the same element.

The same `heal()` backs the runs, `manage.py heal_locate` and bench/healing (which measured the thresholds
below: tuned on the even-seeded half of the cases, reported on all of them).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenium.common.exceptions import InvalidSelectorException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from apps.healing.scoring import (
    WEIGHTS,
    context_idf,
    context_similarity,
    fingerprint_key,
    identity_agrees,
    looks_alike,
    similarity,
)
from apps.test_runs.engine.locators import LOCATE_JS

__all__ = ["MIN_CONFIDENCE", "MIN_MARGIN", "Candidate", "HealDecision", "fingerprint_key", "fingerprint_of", "heal",
           "similarity", "still_matches"]

MIN_CONFIDENCE = 0.60
MIN_MARGIN = 0.03
MAX_CANDIDATES = 150
UNIQUE_STRUCTURE_SCALE = 0.6
STRUCTURE_FEATURES = ("context", "heading", "dom_path", "parent", "previous", "next", "index", "position")
MIN_LOOKALIKE_CONTEXT = 0.4
MIN_UNIQUE_CONFIDENCE = 0.45

# Actions that act on the element need it enabled; assertions and reads must find the same element by
# identity, not a look-alike in the same place.
ENABLED_ACTIONS = frozenset({"click", "type", "select", "press"})
IDENTITY_ACTIONS = frozenset({"assert_text", "assert_visible", "wait_for", "extract"})
TEXT_IDENTITY_ACTIONS = frozenset({"assert_text", "extract"})


def _locate_helpers() -> str:
    """The helper functions of locate.js's argusLocate (everything before its main body), so candidates
    are fingerprinted by exactly the code that recorded the baseline."""
    head = "function argusLocate(locators, want, withFingerprint) {"
    body_start = LOCATE_JS.index(head) + len(head)
    body_end = LOCATE_JS.index("\n  const invalid = [];")
    return LOCATE_JS[body_start:body_end]


_HELPERS = ("(function () {" + _locate_helpers()
            + "\n  return {fingerprint, isVisible, isEnabled, norm, roleOf};\n})()")
HEAL_JS = (Path(__file__).with_name("heal.js")).read_text()
COLLECT_SCRIPT = HEAL_JS + "\nreturn argusHealCollect(" + _HELPERS + ", arguments[0], arguments[1]);"
FINGERPRINT_SCRIPT = "return " + _HELPERS + ".fingerprint(arguments[0]);"


@dataclass
class Candidate:
    selector: str  # a CSS selector that matches exactly this element in the page now
    score: float  # 0..1 similarity to the baseline fingerprint
    fingerprint: dict
    reasons: list[str]
    visible: bool
    enabled: bool


@dataclass
class HealDecision:
    accepted: bool
    confidence: float  # the best candidate's score, 0 when none
    best: Candidate | None
    runner_up: Candidate | None
    reason: str
    candidates: int  # how many elements were scored
    duration_ms: float
    element: WebElement | None = None  # the accepted element (None when refused)

    @property
    def selector(self) -> str | None:
        return self.best.selector if self.accepted and self.best else None

    def as_dict(self) -> dict[str, Any]:
        """The decision as JSON-ready data (heal_locate's output; traces)."""
        return {
            "healed": self.accepted,
            "selector": self.selector,
            "best": self.best.selector if self.best else None,
            "confidence": round(self.confidence, 4),
            "runner_up": {"selector": self.runner_up.selector, "score": round(self.runner_up.score, 4)}
            if self.runner_up else None,
            "reason": self.reason,
            "reasons": self.best.reasons if self.best else [],
            "candidates": self.candidates,
            "duration_ms": round(self.duration_ms, 1),
        }


def fingerprint_of(driver: WebDriver, element: WebElement) -> dict:
    """The fingerprint of one element, as locate.js records it on a passing step."""
    return driver.execute_script(FINGERPRINT_SCRIPT, element)


def still_matches(baseline: Mapping[str, Any], fingerprint: Mapping[str, Any], *,
                  action: str = "click") -> tuple[bool, float, list[str]]:
    """Whether one element (say, found by a known pattern's selector) is still the baseline's element by
    heal()'s own rules, without scoring the rest of the page: the score clears MIN_CONFIDENCE, its
    surroundings agree (a pattern's nth-of-type path may now point at another row) and, for assertions,
    its identity agrees. Visibility and enabled state are the caller's to check."""
    score, reasons = similarity(baseline, fingerprint)
    surroundings = context_similarity(baseline, fingerprint)
    matches = (score >= MIN_CONFIDENCE and (surroundings is None or surroundings >= MIN_LOOKALIKE_CONTEXT)
               and (action not in IDENTITY_ACTIONS
                    or identity_agrees(baseline, fingerprint, text_required=action in TEXT_IDENTITY_ACTIONS)))
    return matches, score, reasons


def collect_candidates(driver: WebDriver, baseline: Mapping[str, Any], *,
                       max_candidates: int = MAX_CANDIDATES) -> list[dict]:
    """The page's plausible elements, at most `max_candidates`, in one script round trip."""
    answer = driver.execute_script(COLLECT_SCRIPT, dict(baseline), {"max_candidates": max_candidates}) or {}
    return answer.get("candidates") or []


def _weights_for(lookalikes: int) -> dict[str, float]:
    """Structure and surroundings tell look-alikes apart (a "Delete" in every row); when at most one element
    on the page looks like the target, they weigh less, so a target that moved elsewhere is still recognised."""
    if lookalikes >= 2:
        return {}
    return {feature: WEIGHTS[feature] * UNIQUE_STRUCTURE_SCALE for feature in STRUCTURE_FEATURES}


def _related(first: dict, second: dict, by_index: Mapping[int, dict]) -> bool:
    """Whether one candidate contains the other (a button and the span inside it are one target)."""
    for inner, outer in ((first, second), (second, first)):
        parent = inner.get("parent", -1)
        while parent is not None and parent >= 0:
            if parent == outer.get("index"):
                return True
            parent = by_index.get(parent, {}).get("parent", -1)
    return False


def _decide(action: str, best: Candidate, runner_up: Candidate | None, baseline: Mapping[str, Any],
            min_confidence: float, min_margin: float) -> str | None:
    """Why the best candidate must be refused, or None to accept it."""
    if best.score < min_confidence:
        return f"no candidate above {min_confidence:.2f} (best {best.score:.2f})"
    if runner_up is not None and best.score - runner_up.score < min_margin:
        return (f"runner-up within {min_margin:.2f} ({best.score:.2f} vs {runner_up.score:.2f}): "
                f"too close to tell apart")
    if not best.visible:
        return "best is hidden"
    if action in ENABLED_ACTIONS and not best.enabled:
        return "best is disabled"
    if action in IDENTITY_ACTIONS and not identity_agrees(baseline, best.fingerprint,
                                                          text_required=action in TEXT_IDENTITY_ACTIONS):
        return (f"the best candidate agrees only on structure or position, not on identity "
                f"(text, name, test id or id): an {action} step is not healed into passing")
    return None


def heal(driver: WebDriver, baseline: Mapping[str, Any], *, action: str = "click",
         min_confidence: float = MIN_CONFIDENCE, min_margin: float = MIN_MARGIN,
         max_candidates: int = MAX_CANDIDATES) -> HealDecision:
    """Find the element matching the baseline fingerprint on the current page, or refuse with a reason."""
    started = time.perf_counter()

    def decision(accepted: bool, reason: str, best: Candidate | None = None, runner_up: Candidate | None = None,
                 scored: int = 0, element: WebElement | None = None) -> HealDecision:
        return HealDecision(accepted=accepted, confidence=best.score if best else 0.0, best=best,
                            runner_up=runner_up, reason=reason, candidates=scored,
                            duration_ms=(time.perf_counter() - started) * 1000, element=element)

    if not baseline or not baseline.get("tag"):
        return decision(False, "no baseline fingerprint to heal from")
    raw = collect_candidates(driver, baseline, max_candidates=max_candidates)
    if not raw:
        return decision(False, "no candidate elements on the page")
    idf = context_idf([item["fingerprint"] for item in raw])
    lookalikes = sum(1 for item in raw if looks_alike(baseline, item["fingerprint"]))
    weights = _weights_for(lookalikes)
    scored: list[tuple[float, dict, list[str]]] = []
    for item in raw:
        score, reasons = similarity(baseline, item["fingerprint"], idf=idf, weights=weights)
        scored.append((score, item, reasons))
    scored.sort(key=lambda entry: -entry[0])
    by_index = {item["index"]: item for _, item, _ in scored}

    def candidate(entry: tuple[float, dict, list[str]]) -> Candidate:
        score, item, reasons = entry
        return Candidate(selector=item["selector"], score=score, fingerprint=item["fingerprint"], reasons=reasons,
                         visible=bool(item["visible"]), enabled=bool(item["enabled"]))

    best = candidate(scored[0])
    rival = next((entry for entry in scored[1:] if not _related(scored[0][1], entry[1], by_index)), None)
    runner_up = candidate(rival) if rival else None
    # Exactly one element on the page has the target's tag and words: structure changed around it (moved,
    # restyled), so a lower structural agreement is enough.
    unique = lookalikes == 1 and looks_alike(baseline, best.fingerprint)
    threshold = min(min_confidence, MIN_UNIQUE_CONFIDENCE) if unique else min_confidence
    refusal = _decide(action, best, runner_up, baseline, threshold, min_margin)
    if refusal is None and lookalikes >= 2:
        surroundings = context_similarity(baseline, best.fingerprint, idf=idf)
        if surroundings is not None and surroundings < MIN_LOOKALIKE_CONTEXT:
            refusal = (f"{lookalikes} elements look like the target and the best one's surroundings differ "
                       f"({surroundings:.0%} alike): the target's own row, card or field is gone")
    if refusal:
        return decision(False, refusal, best, runner_up, len(scored))
    try:
        matches = driver.find_elements(By.CSS_SELECTOR, best.selector)
    except (InvalidSelectorException, WebDriverException) as exc:
        return decision(False, f"the healed selector could not be used: {exc.msg or exc}", best, runner_up,
                        len(scored))
    if len(matches) != 1:
        return decision(False, f"the healed selector matched {len(matches)} elements when resolved", best,
                        runner_up, len(scored))
    margin = f", {best.score - runner_up.score:.2f} ahead of the runner-up" if runner_up else ""
    return decision(True, f"accepted at {best.score:.2f}{margin}", best, runner_up, len(scored), matches[0])
