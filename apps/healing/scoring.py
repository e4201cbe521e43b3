"""How alike two element fingerprints are: pure Python, no browser, no database.

A fingerprint is what the engine's locate.js `fingerprint(el)` records (tag, id, classes, name, type,
role, accessible name, test ids, text, placeholder, href/src, label, title, alt, value, context, heading,
DOM path, parent, siblings, position and size). Each piece of evidence has a weight; only the evidence
the BASELINE has counts (an attribute missing on both sides says nothing, and an old fingerprint without
the newer fields is scored on what it has), so the score is the weighted share of the baseline's
evidence that the candidate still shows.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

# Attribute weights. Identity (test ids, id, name, text) weighs most; structure and neighbourhood tell
# look-alikes apart; position is a small tie-breaker (layouts move).
WEIGHTS: dict[str, float] = {
    "tag": 1.0,
    "id": 2.0,
    "test_ids": 2.5,
    "name": 2.0,
    "type": 0.75,
    "role": 1.0,
    "classes": 1.0,
    "text": 2.0,
    "accessible_name": 1.0,
    "aria_label": 1.0,
    "placeholder": 1.5,
    "label": 1.5,
    "title": 0.75,
    "alt": 1.0,
    "value": 1.0,
    "href": 1.5,
    "src": 1.5,
    "context": 4.0,
    "heading": 1.0,
    "dom_path": 1.5,
    "parent": 1.0,
    "previous": 0.75,
    "next": 0.75,
    "index": 0.5,
    "position": 0.5,
}
# Text of a text field is what someone typed, not what the element is.
TYPED_TAGS = frozenset({"input", "textarea", "select"})
BUTTON_INPUT_TYPES = frozenset({"button", "submit", "reset", "image"})
IDENTITY_AGREEMENT = 0.85
CONTEXT_SHARPNESS = 4.0
DEFAULT_IDF = 3.0
ADDED_WORDS_WEIGHT = 0.5
NEIGHBOUR_PENALTY = 0.6

_WORD = re.compile(r"\w+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NTH = re.compile(r":nth-of-type\(\d+\)")


def normalise(value: Any) -> str:
    return " ".join(str(value or "").split()).lower()


@lru_cache(maxsize=4096)
def _bigrams(text: str) -> Counter:
    if len(text) < 2:
        return Counter([text] if text else [])
    return Counter(text[i:i + 2] for i in range(len(text) - 1))


def text_similarity(first: Any, second: Any) -> float:
    """1 for the same words (any case or spacing), else the better of the word and character-bigram Dice."""
    a, b = normalise(first), normalise(second)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    words_a, words_b = set(_WORD.findall(a)), set(_WORD.findall(b))
    words = 2 * len(words_a & words_b) / (len(words_a) + len(words_b)) if words_a and words_b else 0.0
    # Letters only ("Log in" is "Login"), squared: short different words share a bigram or two by chance.
    grams_a, grams_b = _bigrams("".join(_WORD.findall(a))), _bigrams("".join(_WORD.findall(b)))
    overlap = sum((grams_a & grams_b).values())
    chars = (2 * overlap / (sum(grams_a.values()) + sum(grams_b.values()))) ** 2 if grams_a and grams_b else 0.0
    return max(words, chars)


def _identifier_words(value: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(_CAMEL.sub(" ", value).replace("_", " ")) if word}


def identifier_similarity(first: Any, second: Any) -> float:
    """Exact ids/names score 1; a renamed one keeps credit for the words it still shares (`login-btn`/`login`)."""
    a, b = str(first or ""), str(second or "")
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    words_a, words_b = _identifier_words(a), _identifier_words(b)
    if not words_a or not words_b:
        return 0.0
    return 0.8 * len(words_a & words_b) / len(words_a | words_b)


def jaccard(first: Any, second: Any) -> float:
    a, b = set(first or ()), set(second or ())
    return len(a & b) / len(a | b) if a and b else 0.0


def url_similarity(first: Any, second: Any) -> float:
    a, b = str(first or ""), str(second or "")
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    return 0.8 * jaccard(_WORD.findall(a.lower()), _WORD.findall(b.lower()))


def path_similarity(first: Any, second: Any) -> float:
    """Longest common subsequence of the DOM path steps over their mean length; a step with the same tag
    but another position (or id) counts half."""
    a = [step for step in str(first or "").split(" > ") if step]
    b = [step for step in str(second or "").split(" > ") if step]
    if not a or not b:
        return 0.0
    base_a = [_NTH.sub("", step).split("#")[0] for step in a]
    base_b = [_NTH.sub("", step).split("#")[0] for step in b]
    previous = [0.0] * (len(b) + 1)
    for i in range(len(a)):
        current = [0.0] * (len(b) + 1)
        for j in range(len(b)):
            match = 1.0 if a[i] == b[j] else 0.5 if base_a[i] == base_b[j] else 0.0
            current[j + 1] = max(previous[j + 1], current[j], previous[j] + match if match else 0.0)
        previous = current
    return 2 * previous[-1] / (len(a) + len(b))


def summary_similarity(first: Mapping[str, Any] | None, second: Mapping[str, Any] | None) -> float | None:
    """Parent or sibling summaries ({tag, id, classes, text}); None when the baseline has none."""
    if not first:
        return None
    if not second:
        return 0.0
    parts = [(1.0, 1.0 if first.get("tag") == second.get("tag") else 0.0)]
    if first.get("id"):
        parts.append((1.0, identifier_similarity(first.get("id"), second.get("id"))))
    if first.get("classes"):
        parts.append((1.0, jaccard(first.get("classes"), second.get("classes"))))
    if normalise(first.get("text")):
        parts.append((1.5, text_similarity(first.get("text"), second.get("text"))))
    return sum(weight * value for weight, value in parts) / sum(weight for weight, _ in parts)


def test_id_similarity(first: Mapping[str, str] | None, second: Mapping[str, str] | None) -> float:
    if not first:
        return 0.0
    theirs = set((second or {}).values())
    return sum(1.0 if value in theirs else 0.0 for value in first.values()) / len(first)


def position_similarity(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> float | None:
    try:
        width, height = float(baseline["width"]), float(baseline["height"])
        dx, dy = float(candidate["x"]) - float(baseline["x"]), float(candidate["y"]) - float(baseline["y"])
        other_width, other_height = float(candidate["width"]), float(candidate["height"])
    except (KeyError, TypeError, ValueError):
        return None
    if width <= 0 or height <= 0:
        return None
    size = (min(width, other_width) / max(width, other_width, 1)
            + min(height, other_height) / max(height, other_height, 1)) / 2
    return 0.6 * math.exp(-math.hypot(dx, dy) / 400) + 0.4 * size


def _is_typed_field(fingerprint: Mapping[str, Any]) -> bool:
    tag = str(fingerprint.get("tag") or "").lower()
    return tag in TYPED_TAGS and str(fingerprint.get("type") or "").lower() not in BUTTON_INPUT_TYPES


def _quote(value: Any, limit: int = 40) -> str:
    text = " ".join(str(value).split())
    return f"“{text[:limit]}…”" if len(text) > limit else f"“{text}”"


# (feature, comparison, evidence wording when it agrees) — the comparison answers None to skip.
Comparison = Callable[[Mapping[str, Any], Mapping[str, Any]], float | None]


def _attr(key: str, compare: Callable[[Any, Any], float]) -> Comparison:
    def score(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> float | None:
        return compare(baseline.get(key), candidate.get(key)) if baseline.get(key) else None

    return score


def _equal(key: str) -> Comparison:
    def score(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> float | None:
        mine = normalise(baseline.get(key))
        return (1.0 if mine == normalise(candidate.get(key)) else 0.0) if mine else None

    return score


def _text(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> float | None:
    if _is_typed_field(baseline) or not normalise(baseline.get("text")):
        return None
    theirs = "" if _is_typed_field(candidate) else candidate.get("text")
    return text_similarity(baseline.get("text"), theirs)


def _accessible_name(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> float | None:
    if not normalise(baseline.get("accessible_name")):
        return None
    return text_similarity(baseline.get("accessible_name"), candidate.get("accessible_name"))


def context_words(fingerprint: Mapping[str, Any], key: str = "context") -> set[str]:
    """The words around the element beyond its own text."""
    own = set(_WORD.findall(normalise(fingerprint.get("text"))))
    return {word for word in _WORD.findall(normalise(fingerprint.get(key))) if word not in own}


def _weighted(words: set[str], idf: Mapping[str, float] | None) -> float:
    return sum(idf.get(word, DEFAULT_IDF) for word in words) if idf is not None else float(len(words))


def context_similarity(baseline: Mapping[str, Any], candidate: Mapping[str, Any], *,
                       idf: Mapping[str, float] | None = None) -> float | None:
    """How alike the surroundings are. Words common to the page's candidates ("@example.com", "minutes
    ago") weigh little when `idf` is given: look-alike rows differ by their rare words (a name, a product).
    A baseline word that is gone counts twice as much as a word added next to the element (a notice
    inserted into the card); the candidate's wider surroundings beyond its nearest count a little less."""
    mine = context_words(baseline)
    if not mine:
        return None
    theirs = context_words(candidate)
    around = context_words(candidate, "context_outer") - theirs
    best = 0.0
    shared = _weighted(mine & theirs, idf)
    if shared:
        # Tversky's index with the baseline's missing words at weight 1 and the added ones at 1/2.
        best = shared / (shared + _weighted(mine - theirs, idf) + ADDED_WORDS_WEIGHT * _weighted(theirs - mine, idf))
    if around:
        dice = 2 * _weighted(mine & around, idf) / (_weighted(mine, idf) + _weighted(around, idf))
        best = max(best, 0.9 * dice)
    return best ** CONTEXT_SHARPNESS


def context_idf(candidates: list[Mapping[str, Any]]) -> dict[str, float]:
    """Inverse document frequency of the surroundings' words over a page's candidates."""
    counts: Counter = Counter()
    for fingerprint in candidates:
        counts.update(context_words(fingerprint))
    total = len(candidates) + 1
    return {word: math.log(total / (count + 1)) + 0.1 for word, count in counts.items()}


def _parent(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> float | None:
    return summary_similarity(baseline.get("parent"), candidate.get("parent"))


def _sibling(side: str) -> Comparison:
    def score(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> float | None:
        mine, theirs = baseline.get("siblings") or {}, candidate.get("siblings") or {}
        return summary_similarity(mine.get(side), theirs.get(side))

    return score


def _sibling_index(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> float | None:
    mine, theirs = baseline.get("siblings") or {}, candidate.get("siblings") or {}
    if not isinstance(mine.get("index"), int) or mine.get("count", 0) < 2:
        return None
    if not isinstance(theirs.get("index"), int):
        return 0.0
    return 1.0 if mine["index"] == theirs["index"] else 0.0


def is_former_neighbour(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> bool:
    """Whether the candidate looks like the element that stood next to the target on the baseline (its
    previous or next sibling, with other words than the target): when the target is gone, its neighbour
    is the most target-like thing left, and must not be taken for it."""
    own = normalise(baseline.get("text"))
    summary = {"tag": candidate.get("tag"), "id": candidate.get("id"), "classes": candidate.get("classes"),
               "text": normalise(candidate.get("text"))[:60]}
    for side in ("previous", "next"):
        neighbour = (baseline.get("siblings") or {}).get(side)
        if not neighbour or not normalise(neighbour.get("text")) or normalise(neighbour.get("text")) == own:
            continue
        if text_similarity(neighbour.get("text"), summary["text"]) >= 0.99 and \
                (summary_similarity(neighbour, summary) or 0.0) >= 0.9:
            return True
    return False


FEATURES: dict[str, Comparison] = {
    "tag": _equal("tag"),
    "id": _attr("id", identifier_similarity),
    "test_ids": _attr("test_ids", test_id_similarity),
    "name": _attr("name", identifier_similarity),
    "type": _equal("type"),
    "role": _equal("role"),
    "classes": _attr("classes", jaccard),
    "text": _text,
    "accessible_name": _accessible_name,
    "aria_label": _attr("aria_label", text_similarity),
    "placeholder": _attr("placeholder", text_similarity),
    "label": _attr("label", text_similarity),
    "title": _attr("title", text_similarity),
    "alt": _attr("alt", text_similarity),
    "value": _attr("value", text_similarity),
    "href": _attr("href", url_similarity),
    "src": _attr("src", url_similarity),
    "context": context_similarity,
    "index": _sibling_index,
    "heading": _attr("heading", text_similarity),
    "dom_path": _attr("dom_path", path_similarity),
    "parent": _parent,
    "previous": _sibling("previous"),
    "next": _sibling("next"),
    "position": position_similarity,
}


def _evidence(feature: str, value: float, baseline: Mapping[str, Any]) -> str | None:
    """Human wording for one agreeing piece of evidence."""
    exact = value >= 0.999
    if feature in ("text", "accessible_name", "label", "placeholder", "aria_label", "title", "alt", "value"):
        words = {"accessible_name": "accessible name", "aria_label": "aria-label"}.get(feature, feature)
        shown = _quote(baseline.get(feature))
        return f"same {words} {shown}" if exact else f"{words} {value:.0%} alike ({shown})"
    if feature in ("id", "name"):
        return f"same {feature} {_quote(baseline.get(feature))}" if exact else f"{feature} {value:.0%} alike"
    if feature == "test_ids":
        attrs = ", ".join(baseline["test_ids"])
        return f"same {attrs}" if exact else f"{attrs} partly the same"
    if feature == "context":
        return "same surroundings (row, card or field text)" if exact else f"surroundings {value:.0%} alike"
    if feature == "heading":
        return f"under the same heading {_quote(baseline.get('heading'))}" if exact else None
    if feature == "dom_path":
        return f"DOM path {value:.0%} alike"
    if feature == "classes":
        return "same classes" if exact else f"classes {value:.0%} alike"
    if feature in ("href", "src"):
        return f"same {feature}" if exact else f"{feature} {value:.0%} alike"
    if feature == "parent":
        return "same parent" if exact else None
    if feature in ("previous", "next"):
        return f"same {feature} sibling" if exact else None
    if feature == "tag":
        return f"same tag <{baseline.get('tag')}>"
    if feature in ("role", "type"):
        return f"same {feature} {_quote(baseline.get(feature))}"
    return None


MAX_REASONS = 6


def similarity(baseline: Mapping[str, Any], candidate: Mapping[str, Any], *,
               idf: Mapping[str, float] | None = None, weights: Mapping[str, float] | None = None,
               ) -> tuple[float, list[str]]:
    """How alike (0..1) a candidate's fingerprint is to the baseline's, and the strongest evidence why.

    `idf` (context_idf of the page's candidates) sharpens the surroundings; `weights` overrides WEIGHTS."""
    weights = {**WEIGHTS, **(weights or {})}
    total = achieved = 0.0
    agreeing: list[tuple[float, str]] = []
    for feature, compare in FEATURES.items():
        if feature == "context":
            value = context_similarity(baseline, candidate, idf=idf)
        else:
            value = compare(baseline, candidate)
        if value is None:
            continue
        weight = weights[feature]
        total += weight
        achieved += weight * value
        if value >= 0.5:
            wording = _evidence(feature, value, baseline)
            if wording:
                agreeing.append((weight * value, wording))
    if not total:
        return 0.0, []
    agreeing.sort(key=lambda item: -item[0])
    reasons = [wording for _, wording in agreeing[:MAX_REASONS]]
    score = achieved / total
    if is_former_neighbour(baseline, candidate):
        score *= NEIGHBOUR_PENALTY
        reasons.insert(0, "looks like the element that stood next to the target")
    return score, reasons


def identity_agrees(baseline: Mapping[str, Any], candidate: Mapping[str, Any], *, text_required: bool) -> bool:
    """Whether the candidate is the same element by identity (text, accessible name, test id or id), not
    merely by structure or position. With text_required, a baseline that had text must keep its text."""
    has_text = bool(normalise(baseline.get("text")) or normalise(baseline.get("accessible_name")))
    same_text = has_text and max(
        text_similarity(baseline.get("text"), candidate.get("text")) if normalise(baseline.get("text")) else 0.0,
        text_similarity(baseline.get("accessible_name"), candidate.get("accessible_name")),
    ) >= IDENTITY_AGREEMENT
    if text_required and has_text:
        return same_text
    same_test_id = bool(baseline.get("test_ids")) and test_id_similarity(baseline.get("test_ids"),
                                                                          candidate.get("test_ids")) >= 1.0
    same_id = bool(baseline.get("id")) and baseline.get("id") == candidate.get("id")
    return same_text or same_test_id or same_id


def looks_alike(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> bool:
    """Same tag and the same words (text or accessible name): a twin only its surroundings tell apart."""
    if normalise(baseline.get("tag")) != normalise(candidate.get("tag")):
        return False
    words = [(key, normalise(baseline.get(key))) for key in ("text", "accessible_name", "label", "placeholder")]
    key, mine = next(((key, value) for key, value in words if value), ("", ""))
    return bool(mine) and text_similarity(mine, candidate.get(key)) >= IDENTITY_AGREEMENT


IDENTITY_FIELDS = ("tag", "id", "name", "type", "role", "test_ids", "accessible_name", "aria_label", "text",
                   "placeholder", "label", "href")


def fingerprint_key(baseline: Mapping[str, Any]) -> str:
    """A stable hash (64 hex characters) of the identity parts of a fingerprint: the same element recorded
    twice gets the same key whatever its position, classes or surroundings."""
    identity: dict[str, Any] = {}
    for field in IDENTITY_FIELDS:
        value = baseline.get(field)
        if field == "test_ids":
            value = {str(key): str(val) for key, val in sorted((value or {}).items())}
        elif field == "text" and _is_typed_field(baseline):
            value = ""
        elif field in ("tag", "type", "role"):
            value = normalise(value)
        else:
            value = " ".join(str(value or "").split())
        identity[field] = value
    canonical = json.dumps(identity, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
