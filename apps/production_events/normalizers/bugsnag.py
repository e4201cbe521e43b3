"""Bugsnag (Insight Hub) webhooks: `{"trigger": {"type"}, "error": {...}, "project", "account", ...}`.

exception / firstException / errorEventFrequency / powerTen / reopened describe an error;
errorStateManualChange carries the error's new status (fixed → resolved, ignored/snoozed → ignored);
comment, release, projectSpiking and the rate-limit / sampling notices are ignored with the reason.
`error.url` is the Bugsnag dashboard link, `error.requestUrl` the page or request that failed. Bugsnag
lists frames innermost first and may send line numbers as strings; frames here are innermost last.
The error (errorId) is the tracker issue: external id and fingerprint.
"""

from __future__ import annotations

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
    dig,
    finish,
    first_str,
    frame,
    ignored,
    seen_range,
    severity_of,
    trail_entry,
)

ERROR_TRIGGERS = {"exception", "firstException", "errorEventFrequency", "powerTen", "reopened"}
STATE_CHANGES = {"fixed": "resolved", "ignored": "ignored", "snoozed": "ignored", "open": "", "reopened": ""}


def identity(payload: dict[str, Any], headers: Mapping[str, str]) -> tuple[str, str | None]:
    trigger = as_str(dig(payload, "trigger", "type")) or "unknown"
    error = as_dict(payload.get("error"))
    error_id = first_str(error.get("errorId"), error.get("id"))
    if trigger == "release":
        release_id = as_str(dig(payload, "release", "id"))
        return trigger, f"release:{release_id}" if release_id else None
    if not error_id:
        return trigger, None
    # The same error is delivered for every triggering occurrence; the event url / time tell them apart.
    occurrence = first_str(error.get("eventUrl"), error.get("receivedAt"), error.get("url"))
    return trigger, f"{trigger}:{error_id}:{occurrence}:{as_str(dig(payload, 'trigger', 'stateChange'))}"


def normalize(payload: dict[str, Any], headers: Mapping[str, str]) -> Normalized:
    trigger = as_dict(payload.get("trigger"))
    kind = as_str(trigger.get("type"))
    if kind not in ERROR_TRIGGERS and kind != "errorStateManualChange":
        return ignored(f"Bugsnag {kind or '(no trigger.type)'} notifications describe no error")
    error = payload.get("error")
    if not isinstance(error, dict) or not first_str(error.get("errorId"), error.get("id")):
        raise NormalizationError(f"Bugsnag {kind} payload has no error object with an id")
    status = ""
    if kind == "errorStateManualChange":
        state = first_str(trigger.get("stateChange"), error.get("status")).lower()
        status = STATE_CHANGES.get(state, "")
    return Normalized(events=[_event(kind, trigger, error, payload, status)])


def _frames(stack: Any) -> list[dict[str, Any]]:
    frames = []
    for raw in reversed(as_list(stack)):
        if not isinstance(raw, dict):
            continue
        lineno = as_int(raw.get("lineNumber"))
        code = as_dict(raw.get("code"))
        frames.append(frame(filename=raw.get("file"), function=raw.get("method"), lineno=lineno,
                            colno=raw.get("columnNumber"), in_app=raw.get("inProject"),
                            context_line=code.get(str(lineno), "") if lineno is not None else ""))
    return frames


def _breadcrumbs(crumbs: Any) -> list[dict[str, Any]]:
    trail = []
    for crumb in as_list(crumbs):
        if not isinstance(crumb, dict):
            continue
        meta = as_dict(crumb.get("metaData"))
        trail.append(trail_entry(
            timestamp=crumb.get("timestamp"), category=crumb.get("type"), type=crumb.get("type"),
            message=crumb.get("name"), url=first_str(meta.get("to"), meta.get("url"), meta.get("request")),
            selector=first_str(meta.get("targetSelector"), meta.get("selector")), data=meta,
        ))
    return trail


def _event(kind: str, trigger: dict[str, Any], error: dict[str, Any], payload: dict[str, Any],
           status: str) -> NormalizedEvent:
    now = datetime.now(tz=UTC)
    error_id = first_str(error.get("errorId"), error.get("id"))
    exception_type = first_str(error.get("exceptionClass"), dig(error, "exceptions", 0, "errorClass"))
    message = first_str(error.get("message"), dig(error, "exceptions", 0, "message"))
    stack = error.get("stackTrace") or dig(error, "exceptions", 0, "stacktrace")
    url = as_str(error.get("requestUrl"))
    app = as_dict(error.get("app"))
    release = as_dict(payload.get("release"))
    user = as_dict(error.get("user"))
    device = as_dict(error.get("device"))
    first_seen, last_seen = seen_range(error.get("firstReceived"), error.get("receivedAt"), now)
    tags = {
        "trigger": kind, "unhandled": str(error.get("unhandled")).lower() if "unhandled" in error else "",
        "app_type": as_str(app.get("type")), "os": as_str(device.get("osName")),
        "browser": as_str(device.get("browserName")), "project": as_str(dig(payload, "project", "name")),
    }
    return finish(NormalizedEvent(
        external_id=error_id,
        event_type=kind,
        severity=severity_of(error.get("severity")),
        title=f"{exception_type}: {message}" if exception_type and message else exception_type or message,
        message=message,
        exception_type=exception_type,
        stack_trace=_frames(stack),
        tracker_fingerprint=f"bugsnag:error:{error_id}",
        url=url,
        component=as_str(error.get("context")),
        api_endpoint=entities.api_endpoint_of(method=as_str(dig(error, "request", "httpMethod")), url=url),
        occurrence_count=as_int(error.get("eventsCount"), None) or as_int(error.get("occurrences"), 1) or 1,
        affected_users=as_int(error.get("usersCount"), None) or (1 if user.get("id") or user.get("email") else 0),
        first_seen=first_seen,
        last_seen=last_seen,
        release=first_str(app.get("version"), release.get("version")),
        environment=first_str(app.get("releaseStage"), release.get("releaseStage")),
        tags={key: value for key, value in tags.items() if value},
        trail=_breadcrumbs(error.get("breadcrumbs")),
        link=as_str(error.get("url")),
        status=status,
    ))
