"""What every normalizer produces (NormalizedEvent, Normalized) and the tolerant readers they share.

Payloads come from outside and have already been through redaction, so any value may be missing, of
the wrong type, or a "[redacted:<kind>]" marker where a dict was expected. The readers here never raise
KeyError/TypeError: they return an empty value of the asked type, and a normalizer that cannot find
what it needs raises NormalizationError (a ValueError) with a message P3 stores as the failure reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from apps.production_events import entities

# Column sizes of ProductionEvent, so a long vendor value never fails the insert.
FIELD_LIMITS = {
    "external_id": 200, "event_type": 100, "title": 300, "exception_type": 200, "tracker_fingerprint": 300,
    "url": 2000, "url_path": 500, "component": 200, "api_endpoint": 300, "release": 200, "environment": 100,
    "session_url": 2000, "link": 2000,
}
MAX_FRAMES = 100
MAX_TRAIL = 100
MAX_MESSAGE = 10_000


class NormalizationError(ValueError):
    """The payload is JSON but not a shape this source's normalizer can read; the message says why."""


@dataclass
class NormalizedEvent:
    """One error as a tracker described it, in Argus's terms (see ProductionEvent for each field)."""

    external_id: str
    title: str
    first_seen: datetime
    last_seen: datetime
    event_type: str = "error"
    severity: str = "error"
    message: str = ""
    exception_type: str = ""
    stack_trace: list[dict[str, Any]] = field(default_factory=list)
    tracker_fingerprint: str = ""
    url: str = ""
    url_path: str = ""
    component: str = ""
    api_endpoint: str = ""
    occurrence_count: int = 1
    affected_users: int = 0
    release: str = ""
    environment: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    trail: list[dict[str, Any]] = field(default_factory=list)
    session_url: str = ""
    link: str = ""
    # The status the tracker itself reports ("resolved" when Sentry resolves an issue, New Relic closes
    # one, Datadog recovers, ...), as an EventStatus value; "" when the delivery says nothing about it.
    status: str = ""


@dataclass
class Normalized:
    events: list[NormalizedEvent]
    # Set when the delivery is a kind that describes no error (a deploy, an installation, ...).
    ignored_reason: str = ""


def ignored(reason: str) -> Normalized:
    return Normalized(events=[], ignored_reason=reason)


def finish(event: NormalizedEvent) -> NormalizedEvent:
    """Fill what can be derived (url_path), clamp counts and times, and cut strings to column sizes."""
    if event.url and not event.url_path:
        event.url_path = entities.page_path(event.url)
    if not event.title:
        event.title = first_line(event.message) or event.exception_type or f"{event.event_type} {event.external_id}"
    event.message = event.message[:MAX_MESSAGE]
    event.occurrence_count = max(1, event.occurrence_count)
    event.affected_users = max(0, event.affected_users)
    if event.first_seen > event.last_seen:
        event.first_seen, event.last_seen = event.last_seen, event.first_seen
    event.stack_trace = event.stack_trace[-MAX_FRAMES:]
    event.trail = event.trail[-MAX_TRAIL:]
    for f in fields(event):
        limit = FIELD_LIMITS.get(f.name)
        value = getattr(event, f.name)
        if limit and isinstance(value, str) and len(value) > limit:
            setattr(event, f.name, value[:limit])
    if not event.external_id:
        raise NormalizationError("the payload carries no id for the error")
    return event


# --- tolerant readers -------------------------------------------------------------------------------

def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    """A display string: numbers become their text, containers and null become ""."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(value) if math.isfinite(value) else ""
    return ""


def as_int(value: Any, default: int | None = None) -> int | None:
    """An int from an int, a float or a numeric string ("1234"); anything else gives `default`."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else default
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return default
            return int(number) if math.isfinite(number) else default
    return default


def dig(value: Any, *path: str | int) -> Any:
    """value[path[0]][path[1]]... or None as soon as a step is missing or of the wrong type."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
            value = value[step]
        else:
            if not isinstance(value, dict):
                return None
            value = value.get(step)
    return value


def first_str(*values: Any) -> str:
    for value in values:
        text = as_str(value)
        if text:
            return text
    return ""


def first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip() if text else ""


def header(headers: Mapping[str, str] | None, name: str) -> str:
    """A request header, whatever case the caller stored the names in."""
    if not headers:
        return ""
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return as_str(value)
    return ""


def require_object(payload: Any, source: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise NormalizationError(f"{source} payload must be a JSON object, got {type(payload).__name__}")
    return payload


# --- time -------------------------------------------------------------------------------------------

# Epoch numbers above these are milliseconds / microseconds (1e11 s is the year 5138).
_MS_THRESHOLD = 1e11
_US_THRESHOLD = 1e14
_DATADOG_DATE = re.compile(r"^\w{3} (\w{3} \d{1,2} \d{4} \d{2}:\d{2}:\d{2}) UTC$")


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from ISO 8601, epoch seconds / ms / µs (number or numeric string), RFC 2822 or
    Datadog's "Wed Jun 03 2020 20:43:04 UTC"; None when the value is absent or unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return _from_epoch(float(text))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_other(text)
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _from_epoch(number: float) -> datetime | None:
    if not math.isfinite(number) or number <= 0:
        return None
    if number >= _US_THRESHOLD:
        number /= 1_000_000
    elif number >= _MS_THRESHOLD:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _parse_other(text: str) -> datetime | None:
    match = _DATADOG_DATE.match(text)
    if match:
        try:
            return datetime.strptime(match.group(1), "%b %d %Y %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def seen_range(first: Any, last: Any, now: datetime) -> tuple[datetime, datetime]:
    """(first_seen, last_seen), each falling back to the other and then to now."""
    first_seen = parse_time(first)
    last_seen = parse_time(last)
    return first_seen or last_seen or now, last_seen or first_seen or now


def iso(value: Any) -> str | None:
    parsed = parse_time(value)
    return parsed.isoformat() if parsed else None


# --- severity ---------------------------------------------------------------------------------------

_LEVELS = {
    "fatal": "fatal", "critical": "fatal", "crit": "fatal", "emergency": "fatal", "alert": "fatal",
    "error": "error", "err": "error", "high": "error",
    "warning": "warning", "warn": "warning", "medium": "warning",
    "info": "info", "information": "info", "debug": "info", "log": "info", "notice": "info", "low": "info",
    "sample": "info", "success": "info", "trace": "info",
}


def severity_of(level: Any, default: str = "error") -> str:
    """A Severity value from a level name ("warn", "CRITICAL") or a syslog-style number (Rollbar's 40)."""
    number = as_int(level) if not isinstance(level, str) or level.strip().isdigit() else None
    if number is not None:
        if number >= 50:
            return "fatal"
        if number >= 40:
            return "error"
        if number >= 30:
            return "warning"
        return "info"
    return _LEVELS.get(as_str(level).lower(), default)


# --- frames, trail, tags ----------------------------------------------------------------------------

_VENDOR_PATH = re.compile(
    r"(?:site-packages|dist-packages|node_modules|/vendor/|/gems/|/usr/lib/|/usr/local/lib/|"
    r"webpack/bootstrap|<frozen |^internal/|^node:|/jdk|^java\.|^javax\.|^sun\.|^android\.)"
)


def guess_in_app(filename: str, module: str = "") -> bool:
    """For trackers that do not say: library and runtime frames are not the app's own."""
    return not (_VENDOR_PATH.search(filename) or _VENDOR_PATH.search(module))


def frame(*, filename: Any = "", function: Any = "", module: Any = "", lineno: Any = None, colno: Any = None,
          in_app: Any = None, context_line: Any = "") -> dict[str, Any]:
    name = as_str(filename)
    mod = as_str(module)
    return {
        "filename": name,
        "function": as_str(function),
        "module": mod,
        "lineno": as_int(lineno),
        "colno": as_int(colno),
        "in_app": bool(in_app) if isinstance(in_app, bool | int) else guess_in_app(name, mod),
        "context_line": as_str(context_line)[:500],
    }


def trail_entry(*, timestamp: Any = None, category: Any = "", type: Any = "", message: Any = "", url: Any = "",
                selector: Any = "", data: Any = None) -> dict[str, Any]:
    return {
        "timestamp": iso(timestamp),
        "category": as_str(category),
        "type": as_str(type),
        "message": as_str(message)[:2000],
        "url": as_str(url),
        "selector": as_str(selector),
        "data": data if isinstance(data, dict) else {},
    }


def tags_of(value: Any) -> dict[str, str]:
    """Tags from a dict, a list of [key, value] pairs (Sentry webhooks), a list of {"key", "value"}
    (Sentry's API) or a "k:v,k2:v2" string (Datadog)."""
    tags: dict[str, str] = {}
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = []
        for item in value:
            if isinstance(item, list | tuple) and len(item) == 2:
                items.append((item[0], item[1]))
            elif isinstance(item, dict) and "key" in item:
                items.append((item.get("key"), item.get("value")))
            elif isinstance(item, str):
                items.append(_split_tag(item))
    elif isinstance(value, str):
        items = [_split_tag(part) for part in re.split(r"[,\s]+", value) if part]
    else:
        items = []
    for key, item in items:
        name = as_str(key)
        if name:
            tags[name[:100]] = as_str(item)[:500] if not isinstance(item, bool) else str(item).lower()
    return tags


def _split_tag(text: str) -> tuple[str, str]:
    key, _, value = text.partition(":")
    return key, value
