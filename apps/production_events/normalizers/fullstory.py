"""FullStory: v1 webhooks (`{"eventName", "version": 1, "data"}`: recording.event.custom, metric.alert,
note.created, segment.*) and v2 Streams, whose body is whatever the team mapped (the documented example
is `{"name", "timestamp", "api_version": "v2", "user", ...}`; we also read url / page_url, session_url,
properties and an events / trail list when the mapping sends them).

FullStory is a session recorder: most custom events are product analytics ("Product Added"), not
errors. A custom or stream event is an error only when its name or properties say so (error,
exception, fail, crash, rage / dead / error click, thrash, broken, timeout); other events are ignored
with the reason, so a team can send all its events without flooding the error list. Frustration
signals (rage / dead clicks, thrashing) are warnings. metric.alert is an alert on a FullStory metric
(error when the metric is about errors, else warning). The session URL and the event itself are the
trail Argus keeps for test generation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from apps.production_events.normalizers.base import (
    Normalized,
    NormalizedEvent,
    as_dict,
    as_int,
    as_list,
    as_str,
    dig,
    finish,
    first_str,
    ignored,
    parse_time,
    trail_entry,
)

ERROR_SIGNAL = re.compile(r"error|exception|fail|crash|broken|timeout|timed out", re.IGNORECASE)
FRUSTRATION_SIGNAL = re.compile(r"rage|dead.?click|error.?click|thrash|frustrat", re.IGNORECASE)
NOT_ERRORS = {"note.created", "segment.created", "segment.trend.alert"}


def identity(payload: dict[str, Any], headers: Mapping[str, str]) -> tuple[str, str | None]:
    event_name = as_str(payload.get("eventName"))
    if event_name:
        data = as_dict(payload.get("data"))
        ids = [first_str(data.get("id"), data.get("alertId"), data.get("name")), as_str(data.get("sessionUrl")),
               as_str(data.get("timestamp"))]
        return event_name, f"{event_name}:{':'.join(ids)}" if any(ids) else None
    name = as_str(payload.get("name"))
    user = as_dict(payload.get("user"))
    ids = [name, first_str(payload.get("id"), payload.get("event_id")), as_str(payload.get("timestamp")),
           first_str(user.get("id"), user.get("uid"))]
    return f"stream.{name}" if name else "stream", f"stream:{':'.join(ids)}" if any(ids[1:]) else None


def normalize(payload: dict[str, Any], headers: Mapping[str, str]) -> Normalized:
    event_name = as_str(payload.get("eventName"))
    data = as_dict(payload.get("data"))
    if event_name == "recording.event.custom":
        return _signal(as_str(data.get("name")), as_dict(data.get("properties")), data, "custom_event")
    if event_name == "metric.alert":
        return Normalized(events=[_metric_alert(data)])
    if event_name:
        reason = "describe no error" if event_name in NOT_ERRORS else "are not a kind Argus reads"
        return ignored(f"FullStory {event_name} events {reason}")
    if "name" in payload:
        return _signal(as_str(payload.get("name")), as_dict(payload.get("properties")), payload, "stream_event")
    return ignored("FullStory payload has neither eventName (v1) nor name (v2 stream)")


def _signal_text(name: str, properties: dict[str, Any]) -> str:
    keys = " ".join(str(key) for key in properties)
    values = " ".join(as_str(value) for value in properties.values())
    return f"{name} {keys} {values}"


def _signal(name: str, properties: dict[str, Any], data: dict[str, Any], event_type: str) -> Normalized:
    text = _signal_text(name, properties)
    frustration = FRUSTRATION_SIGNAL.search(text)
    if not frustration and not ERROR_SIGNAL.search(text):
        return ignored(f"FullStory event {name or '(unnamed)'!r} is not an error signal")
    now = datetime.now(tz=UTC)
    seen = parse_time(data.get("timestamp")) or now
    user = as_dict(data.get("user"))
    url = first_str(data.get("pageUrl"), data.get("page_url"), data.get("url"), properties.get("url_str"),
                    properties.get("url"))
    session_url = first_str(data.get("sessionUrl"), data.get("session_url"), properties.get("session_url"))
    message = first_str(properties.get("message_str"), properties.get("message"), properties.get("error_str"),
                        properties.get("error"), name)
    exception_type = first_str(properties.get("error_type_str"), properties.get("exception_type"),
                               properties.get("type_str"))
    selector = first_str(properties.get("selector_str"), properties.get("selector"), properties.get("target"))
    trail = _session_trail(data)
    trail.append(trail_entry(timestamp=seen, category="fullstory", type=name, message=message, url=url,
                             selector=selector, data=properties))
    user_id = first_str(user.get("id"), user.get("uid"), user.get("email"))
    external = first_str(data.get("id"), data.get("event_id"))
    return Normalized(events=[finish(NormalizedEvent(
        # No FullStory id names "this error"; the event name and page identify it across sessions.
        external_id=external or f"{event_type}:{name}:{url}",
        event_type=event_type,
        severity="warning" if frustration else "error",
        title=name if message == name else f"{name}: {message}",
        message=message,
        exception_type=exception_type,
        tracker_fingerprint="",
        url=url,
        affected_users=1 if user_id else 0,
        first_seen=seen,
        last_seen=seen,
        tags={key: as_str(value) for key, value in properties.items() if as_str(value)} | (
            {"user": user_id} if user_id else {}),
        trail=trail,
        session_url=session_url,
    ))])


def _session_trail(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Session events a stream mapping may forward (`events` / `trail`: type, timestamp, url, target)."""
    trail = []
    for item in as_list(data.get("events") or data.get("trail")):
        if not isinstance(item, dict):
            continue
        trail.append(trail_entry(
            timestamp=item.get("timestamp"), category=first_str(item.get("category"), "fullstory"),
            type=first_str(item.get("type"), item.get("name")), message=first_str(item.get("message"),
                                                                                   item.get("text")),
            url=first_str(item.get("url"), item.get("page_url")),
            selector=first_str(item.get("selector"), item.get("target")), data=as_dict(item.get("data")),
        ))
    return trail


def _metric_alert(data: dict[str, Any]) -> NormalizedEvent:
    config = as_dict(data.get("alertConfig"))
    now = datetime.now(tz=UTC)
    seen = parse_time(data.get("timestamp")) or now
    alert_id = first_str(data.get("alertId"), dig(data, "alertConfig", "alertId"), data.get("id"))
    name = first_str(config.get("alertName"), config.get("metricName"), "FullStory metric alert")
    metric = as_str(config.get("metricName"))
    value = as_int(data.get("value"))
    description = as_str(config.get("alertDescription"))
    about_errors = ERROR_SIGNAL.search(f"{name} {metric} {description}")
    message = description + (f" (value: {value})" if value is not None else "")
    return finish(NormalizedEvent(
        external_id=f"metric_alert:{alert_id}" if alert_id else "",
        event_type="metric_alert",
        severity="error" if about_errors else "warning",
        title=name,
        message=message.strip(),
        tracker_fingerprint=f"fullstory:alert:{alert_id}" if alert_id else "",
        component=metric,
        first_seen=seen,
        last_seen=seen,
        tags={"metric": metric, "value": str(value) if value is not None else ""} if metric else {},
        link=first_str(data.get("notificationUrl"), config.get("alertUrl")),
    ))
