"""Normalizers: one module per tracker turns a (redacted) delivery into NormalizedEvents.

    normalize(source, payload, headers) -> Normalized(events, ignored_reason)
    delivery_identity(source, payload, headers) -> (event_kind, vendor delivery id or None)

Every normalizer is a pure function of the payload and headers (no database). A payload a normalizer
cannot read raises NormalizationError (a ValueError) with a message for the delivery's failure reason;
kinds that describe no error (a Rollbar deploy, a Sentry installation) give Normalized(events=[],
ignored_reason=...). The generic JSON shape (also LogRocket's) is documented in generic.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from apps.production_events.normalizers import (
    bugsnag,
    datadog,
    fullstory,
    generic,
    logrocket,
    newrelic,
    rollbar,
    sentry,
)
from apps.production_events.normalizers.base import (
    NormalizationError,
    Normalized,
    NormalizedEvent,
    parse_time,
    require_object,
)

__all__ = ["NORMALIZERS", "Normalized", "NormalizationError", "NormalizedEvent", "delivery_identity", "normalize",
           "parse_time"]

NORMALIZERS: dict[str, ModuleType] = {
    "sentry": sentry,
    "datadog": datadog,
    "bugsnag": bugsnag,
    "rollbar": rollbar,
    "newrelic": newrelic,
    "fullstory": fullstory,
    "logrocket": logrocket,
    "generic": generic,
}


def _normalizer(source: str) -> ModuleType:
    module = NORMALIZERS.get(source)
    if module is None:
        raise NormalizationError(f"unknown source {source!r}")
    return module


def normalize(source: str, payload: Any, headers: Mapping[str, str] | None = None) -> Normalized:
    """The errors a delivery describes. Raises NormalizationError, never KeyError / TypeError."""
    module = _normalizer(source)
    payload = require_object(payload, source)
    try:
        return module.normalize(payload, headers or {})
    except NormalizationError:
        raise
    except (KeyError, TypeError, AttributeError, IndexError, ValueError, OverflowError) as error:
        # A shape no fixture showed: fail the delivery with a readable reason, never a crash.
        raise NormalizationError(f"{source} payload could not be read: {type(error).__name__}: {error}") from error


def delivery_identity(source: str, payload: Any, headers: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """(event kind, the vendor's stable id for this delivery or None). None lets the caller fall back to
    a hash of the body. Never raises for a JSON object or anything else: intake must not fail here."""
    module = NORMALIZERS.get(source)
    if module is None or not isinstance(payload, dict):
        return "unknown", None
    try:
        kind, delivery_id = module.identity(payload, headers or {})
    except (KeyError, TypeError, AttributeError, IndexError, ValueError):
        return "unknown", None
    return kind[:100], delivery_id[:200] if delivery_id else None
