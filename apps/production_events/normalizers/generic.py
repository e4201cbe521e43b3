"""The generic JSON error shape, for any tracker or homegrown reporter (source `generic`) and for
LogRocket, which publishes no webhook format (source `logrocket`, see logrocket.py).

One error per delivery, a JSON object; every key is optional except that one of title, message or
exception must say what went wrong::

    {
      "id": "evt_01H...",            # unique per delivery: repeated ids are duplicates (dedupe key)
      "issue_id": "ISSUE-42",        # the error across deliveries: the same issue_id updates one event
      "type": "error",               # error (default), rage_click, dead_click, console_error, network_error...
      "level": "error",              # fatal | error | warning | info (also critical, warn, debug)
      "title": "TypeError: cart is undefined",
      "message": "cart is undefined",
      "exception": {
        "type": "TypeError",
        "value": "cart is undefined",
        "frames": [                  # innermost LAST (as Sentry orders them)
          {"filename": "src/cart.js", "function": "addItem", "lineno": 42, "colno": 7, "in_app": true,
           "module": "cart", "context_line": "cart.items.push(item)"}
        ],
        "stacktrace": "TypeError: ...\\n    at addItem (src/cart.js:42:7)"   # or a raw stack string (V8,
      },                                                                     # Firefox or Python format)
      "url": "https://shop.example.com/cart?step=2",
      "method": "POST",              # with url: the failing API endpoint ("POST /api/cart/:id")
      "component": "CartDrawer",     # the UI component / module / service the error belongs to
      "user": {"id": "u_17", "email": "ann@example.com"},
      "release": "web@2.4.1",
      "environment": "production",
      "tags": {"browser": "Chrome 120"},
      "fingerprint": "cart-undefined",  # your own grouping key (string or list of strings)
      "session_url": "https://app.logrocket.com/org/app/s/...",
      "link": "https://tracker.example.com/issues/42",
      "trail": [                     # what the user did before, oldest first
        {"timestamp": "2025-01-05T10:00:00Z", "category": "navigation", "type": "navigation",
         "message": "", "url": "https://shop.example.com/cart", "selector": "", "data": {}},
        {"timestamp": 1736071205000, "category": "ui.click", "type": "rage_click", "selector": "#checkout",
         "message": "5 clicks in 1s"}
      ],
      "timestamp": "2025-01-05T10:00:05Z",   # ISO 8601 or epoch seconds / milliseconds
      "first_seen": "2025-01-04T08:00:00Z",  # defaults to timestamp
      "count": 12,                   # occurrences so far (default 1)
      "users": 3                     # affected users (default 1 when user is given, else 0)
    }

Aliases accepted: `stack` / `stacktrace` (raw string) at top level, `exception.message` for value,
`frames` at top level, `sessionURL` / `recordingURL` / `recording_url` for session_url, `events` /
`breadcrumbs` for trail, `severity` for level, `occurrences` for count, `affected_users` for users.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from apps.production_events import entities
from apps.production_events.normalizers.base import (
    NormalizationError,
    Normalized,
    NormalizedEvent,
    as_dict,
    as_int,
    as_list,
    as_str,
    finish,
    first_str,
    frame,
    seen_range,
    severity_of,
    tags_of,
    trail_entry,
)

FRUSTRATION_TYPES = re.compile(r"rage|dead.?click|error.?click|thrash", re.IGNORECASE)
_V8_FRAME = re.compile(r"^\s*at (?:(?P<function>.+?) \()?(?P<file>[^()\s]+?):(?P<line>\d+)(?::(?P<col>\d+))?\)?\s*$")
_GECKO_FRAME = re.compile(r"^\s*(?P<function>[^@\s]*)@(?P<file>.+?):(?P<line>\d+)(?::(?P<col>\d+))?\s*$")
_PYTHON_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>.+))?\s*$')


def identity(payload: dict[str, Any], headers: Mapping[str, str], *, prefix: str = "") -> tuple[str, str | None]:
    kind = f"{prefix}{as_str(payload.get('type')) or 'error'}"
    delivery = as_str(payload.get("id"))
    return kind, f"{kind}:{delivery}" if delivery else None


def normalize(payload: dict[str, Any], headers: Mapping[str, str]) -> Normalized:
    return Normalized(events=[event_of(payload, source="generic")])


def event_of(payload: dict[str, Any], *, source: str, session_url: str = "",
             extra_trail: list[dict[str, Any]] | None = None) -> NormalizedEvent:
    exception = as_dict(payload.get("exception"))
    exception_type = first_str(exception.get("type"), payload.get("exception_type"))
    message = first_str(payload.get("message"), exception.get("value"), exception.get("message"))
    title = first_str(payload.get("title"))
    if not (title or message or exception_type):
        raise NormalizationError(f"{source} error needs at least one of title, message or exception.type")
    now = datetime.now(tz=UTC)
    event_type = as_str(payload.get("type")) or "error"
    default_severity = "warning" if FRUSTRATION_TYPES.search(event_type) else "error"
    url = as_str(payload.get("url"))
    user = as_dict(payload.get("user"))
    seen = payload.get("timestamp")
    first_seen, last_seen = seen_range(payload.get("first_seen") or seen, payload.get("last_seen") or seen, now)
    frames = _frames(exception.get("frames") or payload.get("frames"))
    if not frames:
        frames = parse_stack(first_str(exception.get("stacktrace"), exception.get("stack"),
                                       payload.get("stacktrace"), payload.get("stack")))
    fingerprint = payload.get("fingerprint")
    if isinstance(fingerprint, list):
        fingerprint = "|".join(as_str(part) for part in fingerprint if as_str(part))
    fingerprint = as_str(fingerprint)
    trail = (extra_trail or []) + trail_of(payload.get("trail") or payload.get("events") or payload.get("breadcrumbs"))
    external = first_str(payload.get("issue_id"), payload.get("id"))
    users_given = as_int(payload.get("users"), None)
    if users_given is None:
        users_given = as_int(payload.get("affected_users"), None)
    return finish(NormalizedEvent(
        external_id=external or _content_id(event_type, exception_type, title or message, url),
        event_type=event_type,
        severity=severity_of(payload.get("level") or payload.get("severity"), default_severity),
        title=title or (f"{exception_type}: {message}" if exception_type and message else exception_type or message),
        message=message,
        exception_type=exception_type,
        stack_trace=frames,
        tracker_fingerprint=f"{source}:{fingerprint}" if fingerprint else "",
        url=url,
        component=as_str(payload.get("component")),
        api_endpoint=entities.api_endpoint_of(method=as_str(payload.get("method")), url=url,
                                              transaction=as_str(payload.get("transaction"))),
        occurrence_count=as_int(payload.get("count"), None) or as_int(payload.get("occurrences"), 1) or 1,
        affected_users=users_given if users_given is not None else (1 if user.get("id") or user.get("email")
                                                                    else 0),
        first_seen=first_seen,
        last_seen=last_seen,
        release=as_str(payload.get("release")),
        environment=as_str(payload.get("environment")),
        tags=tags_of(payload.get("tags")),
        trail=trail,
        session_url=session_url or first_str(payload.get("session_url"), payload.get("sessionURL"),
                                             payload.get("recordingURL"), payload.get("recording_url")),
        link=as_str(payload.get("link")),
    ))


def _content_id(*parts: str) -> str:
    """Without any id, the same error text on the same page is the same error."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"content:{digest}"


def _frames(raw_frames: Any) -> list[dict[str, Any]]:
    return [frame(filename=raw.get("filename") or raw.get("file"), function=raw.get("function") or raw.get("method"),
                  module=raw.get("module"), lineno=raw.get("lineno") or raw.get("line"),
                  colno=raw.get("colno") or raw.get("column"), in_app=raw.get("in_app"),
                  context_line=raw.get("context_line"))
            for raw in as_list(raw_frames) if isinstance(raw, dict)]


def trail_of(items: Any) -> list[dict[str, Any]]:
    trail = []
    for item in as_list(items):
        if not isinstance(item, dict):
            continue
        trail.append(trail_entry(
            timestamp=item.get("timestamp") or item.get("time"), category=item.get("category"),
            type=first_str(item.get("type"), item.get("name")), message=item.get("message"),
            url=first_str(item.get("url"), item.get("href")),
            selector=first_str(item.get("selector"), item.get("target")), data=item.get("data"),
        ))
    return trail


def parse_stack(text: str) -> list[dict[str, Any]]:
    """Frames (innermost last) from a raw stack string: V8 ("at fn (file:1:2)"), Firefox / Safari
    ("fn@file:1:2"), both innermost first, or a Python traceback (innermost last)."""
    if not text:
        return []
    lines = text.splitlines()
    python = []
    for index, line in enumerate(lines):
        match = _PYTHON_FRAME.match(line)
        if match:
            following = lines[index + 1].strip() if index + 1 < len(lines) else ""
            context = "" if following.startswith("File ") or not following else following
            python.append(frame(filename=match["file"], function=match["function"] or "", lineno=match["line"],
                                context_line=context))
    if python:
        return python
    browser = []
    for line in lines:
        match = _V8_FRAME.match(line) or _GECKO_FRAME.match(line)
        if match:
            browser.append(frame(filename=match["file"], function=match["function"] or "", lineno=match["line"],
                                 colno=match["col"]))
    return list(reversed(browser))
