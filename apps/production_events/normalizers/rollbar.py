"""Rollbar: `{"event_name", "data": {"item": {...}, "occurrence": {...}}}`.

new_item / occurrence / reactivated_item / reopened_item / exp_repeat_item / item_velocity are errors
(the occurrence is `data.occurrence`, else the item's `last_occurrence`); resolved_item carries the
status "resolved"; deploy and anything else are ignored with the reason. The item is the tracker issue
(external id = item id, fingerprint = the item's hash). Levels may be numbers (40 = error) or names.
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

ERROR_EVENTS = {"new_item", "occurrence", "reactivated_item", "reopened_item", "exp_repeat_item", "item_velocity"}
STATUS_EVENTS = {"resolved_item": "resolved"}


def identity(payload: dict[str, Any], headers: Mapping[str, str]) -> tuple[str, str | None]:
    event_name = as_str(payload.get("event_name")) or "unknown"
    data = as_dict(payload.get("data"))
    if event_name == "deploy":
        deploy_id = as_str(dig(data, "deploy", "id"))
        return event_name, f"deploy:{deploy_id}" if deploy_id else None
    item = as_dict(data.get("item"))
    item_id = as_str(item.get("id"))
    if not item_id:
        return event_name, None
    occurrence = first_str(dig(data, "occurrence", "uuid"), item.get("last_occurrence_id"),
                           dig(item, "last_occurrence", "uuid"), item.get("last_occurrence_timestamp"))
    return event_name, f"{event_name}:{item_id}:{occurrence}"


def normalize(payload: dict[str, Any], headers: Mapping[str, str]) -> Normalized:
    event_name = as_str(payload.get("event_name"))
    if event_name == "deploy":
        return ignored("Rollbar deploy is not an error")
    if event_name not in ERROR_EVENTS and event_name not in STATUS_EVENTS:
        return ignored(f"Rollbar {event_name or '(no event_name)'} events describe no error")
    data = as_dict(payload.get("data"))
    item = data.get("item")
    if not isinstance(item, dict) or not as_str(item.get("id")):
        raise NormalizationError(f"Rollbar {event_name} payload has no data.item with an id")
    occurrence = as_dict(data.get("occurrence")) or as_dict(item.get("last_occurrence"))
    return Normalized(events=[_event(event_name, item, occurrence)])


def _trace(body: dict[str, Any]) -> dict[str, Any]:
    """The trace of the raised error: `trace`, or the first of `trace_chain` (the most recent cause)."""
    trace = as_dict(body.get("trace"))
    if trace:
        return trace
    chain = [value for value in as_list(body.get("trace_chain")) if isinstance(value, dict)]
    return chain[0] if chain else {}


def _frames(trace: dict[str, Any]) -> list[dict[str, Any]]:
    frames = []
    for raw in as_list(trace.get("frames")):
        if not isinstance(raw, dict):
            continue
        code = raw.get("code")
        frames.append(frame(filename=raw.get("filename"), function=raw.get("method"), lineno=raw.get("lineno"),
                            colno=raw.get("colno"), in_app=raw.get("in_app") if "in_app" in raw else None,
                            context_line=code if isinstance(code, str) else ""))
    return frames


def _telemetry(occurrence: dict[str, Any]) -> list[dict[str, Any]]:
    """Rollbar.js telemetry (navigation, clicks, network, logs) is the user's trail."""
    trail = []
    for item in as_list(dig(occurrence, "body", "telemetry")):
        if not isinstance(item, dict):
            continue
        body = as_dict(item.get("body"))
        trail.append(trail_entry(
            timestamp=item.get("timestamp_ms"), category=item.get("type"), type=item.get("level"),
            message=first_str(body.get("message"), body.get("subtype")),
            url=first_str(body.get("to"), body.get("url")), selector=body.get("element"), data=body,
        ))
    return trail


def _event(event_name: str, item: dict[str, Any], occurrence: dict[str, Any]) -> NormalizedEvent:
    now = datetime.now(tz=UTC)
    body = as_dict(occurrence.get("body"))
    trace = _trace(body)
    exception = as_dict(trace.get("exception"))
    exception_type = as_str(exception.get("class"))
    message = first_str(exception.get("message"), dig(body, "message", "body"),
                        dig(body, "crash_report", "raw"), item.get("title"))
    request = as_dict(occurrence.get("request"))
    person = as_dict(occurrence.get("person"))
    url = as_str(request.get("url"))
    first_seen, last_seen = seen_range(item.get("first_occurrence_timestamp"),
                                       item.get("last_occurrence_timestamp") or occurrence.get("timestamp"), now)
    item_id = as_str(item.get("id"))
    item_hash = as_str(item.get("hash"))
    server = as_dict(occurrence.get("server"))
    tags = {
        "language": as_str(occurrence.get("language")), "framework": as_str(occurrence.get("framework")),
        "host": as_str(server.get("host")), "platform": as_str(occurrence.get("platform")),
        "notifier": as_str(dig(occurrence, "notifier", "name")),
    }
    return finish(NormalizedEvent(
        external_id=item_id,
        event_type=event_name,
        severity=severity_of(item.get("level") if item.get("level") is not None else occurrence.get("level")),
        title=first_str(item.get("title"), f"{exception_type}: {message}" if exception_type else message),
        message=message,
        exception_type=exception_type,
        stack_trace=_frames(trace),
        tracker_fingerprint=f"rollbar:{item_hash}" if item_hash else f"rollbar:item:{item_id}",
        url=url,
        component=first_str(occurrence.get("context"), dig(occurrence, "server", "root")),
        api_endpoint=entities.api_endpoint_of(method=as_str(request.get("method")), url=url),
        occurrence_count=as_int(item.get("total_occurrences"), 1) or 1,
        affected_users=as_int(item.get("unique_occurrences"), 0) or (1 if person else 0),
        first_seen=first_seen,
        last_seen=last_seen,
        release=first_str(occurrence.get("code_version"), dig(occurrence, "client", "javascript", "code_version"),
                          server.get("code_version")),
        environment=first_str(occurrence.get("environment"), item.get("environment")),
        tags={key: value for key, value in tags.items() if value},
        trail=_telemetry(occurrence),
        status=STATUS_EVENTS.get(event_name, ""),
    ))
