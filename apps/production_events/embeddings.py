"""A local, deterministic embedding of an error group (no model, no download, no network).

Feature hashing of weighted tokens into EMBEDDING_DIMENSIONS: the exception type, the normalized
message's words and word pairs, the in-app frames (whole, and their module and function), the top-level
module, the page path and the component. Each token lands in one dimension with a sign taken from its
hash (so collisions cancel out on average instead of piling up), term frequencies are damped with a
log, and the vector is L2-normalized so cosine distance compares shapes, not sizes.

Free-text queries go through the same tokenizer, so "TypeError reading id in checkout" lands near
groups whose type, message words and frames say the same.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from apps.production_events.grouping import normalize_message
from apps.production_events.models import EMBEDDING_DIMENSIONS

# Weights: what identifies an error most (where it broke, what broke) counts most.
EXCEPTION_WEIGHT = 3.0
FRAME_WEIGHT = 2.0
FRAME_PART_WEIGHT = 1.0
MODULE_WEIGHT = 1.0
WORD_WEIGHT = 1.0
PAIR_WEIGHT = 1.0
PLACE_WEIGHT = 1.0
COMPONENT_WEIGHT = 1.5
# The innermost frames name the failure; outer ones (framework entry points) are shared by everything.
FRAMES_EMBEDDED = 8

_WORD = re.compile(r"<\w+>|[a-z][a-z0-9_]+|[a-z]", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_STOP_WORDS = frozenset(["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of",
                        "on", "or", "the", "this", "to", "was", "with"])
_PLACEHOLDER_TOKEN = re.compile(r"^<\w+>$")


@dataclass
class ErrorFeatures:
    exception_type: str = ""
    message: str = ""  # normalized (grouping.normalize_message) or raw: normalized again here, idempotent
    frames: list[str] = field(default_factory=list)  # "module:function", innermost last
    url_path: str = ""
    component: str = ""


def _words(text: str) -> list[str]:
    words = []
    for word in _WORD.findall(text):
        lowered = word.lower()
        if _PLACEHOLDER_TOKEN.match(lowered):
            continue  # "<n>" says nothing about which error it is
        if lowered not in _STOP_WORDS:
            words.append(lowered)
    return words


def _identifier_words(name: str) -> list[str]:
    """'CheckoutForm.handleSubmit' → ['checkoutform', 'checkout', 'form', 'handlesubmit', 'handle', 'submit']"""
    words = []
    for part in re.split(r"[^A-Za-z0-9]+", name):
        if not part:
            continue
        words.append(part.lower())
        pieces = _CAMEL.split(part)
        if len(pieces) > 1:
            words.extend(piece.lower() for piece in pieces if len(piece) > 1)
    return words


def weighted_tokens(features: ErrorFeatures) -> dict[str, float]:
    """Token → summed weight. Tokens are lowercase words in one space, so free text can match them."""
    tokens: dict[str, float] = defaultdict(float)

    def add(items: Iterable[str], weight: float) -> None:
        for item in items:
            if item:
                tokens[item] += weight

    if features.exception_type:
        add([features.exception_type.lower()], EXCEPTION_WEIGHT)
        add(_identifier_words(features.exception_type), FRAME_PART_WEIGHT)
    words = _words(normalize_message(features.message))
    add(words, WORD_WEIGHT)
    add((f"{first} {second}" for first, second in zip(words, words[1:], strict=False)), PAIR_WEIGHT)
    for frame in features.frames[-FRAMES_EMBEDDED:]:
        module, _, function = frame.partition(":")
        add([frame.lower()], FRAME_WEIGHT)
        add(_identifier_words(function if function != "?" else ""), FRAME_PART_WEIGHT)
        add(_identifier_words(module.rsplit("/", 1)[-1].rsplit(".", 1)[0] if "/" in module else module),
            FRAME_PART_WEIGHT)
    if features.frames:
        top_module = re.split(r"[./]", features.frames[-1].partition(":")[0])[0].lower()
        add([top_module], MODULE_WEIGHT)
    add(_identifier_words(features.url_path), PLACE_WEIGHT)
    add(_identifier_words(features.component), COMPONENT_WEIGHT)
    return tokens


def _bucket(token: str) -> tuple[int, float]:
    digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % EMBEDDING_DIMENSIONS, (1.0 if value >> 63 else -1.0)


def _vectorize(tokens: dict[str, float]) -> list[float] | None:
    vector = [0.0] * EMBEDDING_DIMENSIONS
    for token, weight in tokens.items():
        index, sign = _bucket(token)
        # Log-damped term frequency: a word repeated ten times is not ten times as telling.
        vector[index] += sign * (1.0 + math.log(weight) if weight >= 1 else weight)
    norm = math.sqrt(sum(value * value for value in vector))
    if norm == 0:
        return None
    return [value / norm for value in vector]


def embed(features: ErrorFeatures) -> list[float] | None:
    """The unit vector of an error, or None when there is nothing to embed."""
    return _vectorize(weighted_tokens(features))


def embed_text(text: str) -> list[float] | None:
    """A free-text query: every word may be an exception type, a message word or a frame part, and an
    exact type or frame name typed in the query ("TypeError", "cart.js:add") counts as such."""
    tokens = weighted_tokens(ErrorFeatures(message=text))
    for word in _identifier_words(text):
        tokens.setdefault(word, WORD_WEIGHT)
    for raw in re.findall(r"[\w.$/:-]+", text):
        tokens.setdefault(raw.lower(), WORD_WEIGHT)
    return _vectorize(tokens)


def group_features(group) -> ErrorFeatures:
    """The features of an ErrorGroup row."""
    return ErrorFeatures(exception_type=group.exception_type, message=group.normalized_message or group.title,
                         frames=list(group.in_app_frames or []), url_path=group.url_path, component=group.component)


def embed_group(group) -> list[float] | None:
    return embed(group_features(group))
