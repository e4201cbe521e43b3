"""Datadog webhooks: the payload is the team's template with `$VARIABLES` substituted, so every value is
a string ("date": "1591216985000"). The default template gives id, title, body, event_type, date,
last_updated, org; teams often add alert_id, alert_transition, alert_type, alert_cycle_key,
aggreg_key, tags ("env:prod,service:web"), link, priority, hostname, url. Keys may be snake_case or
upper case as the template author typed them.

Triggered / Re-Triggered / Renotify / Warn / No Data are errors (warning for Warn and No Data);
Recovered carries the status "resolved". A body whose variables were never filled ("$EVENT_TITLE": the
template itself, or a test with a broken template) is ignored. The monitor is the tracker issue: its id
(alert_id, or the "monitors#<id>" link in the body) is the external id, so retriggers update one event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from apps.production_events import entities
from apps.production_events.normalizers.base import (
    Normalized,
    NormalizedEvent,
    as_dict,
    as_str,
    finish,
    ignored,
    parse_time,
    tags_of,
)

_PLACEHOLDER = re.compile(r"^\$[A-Z_\[\].]+$")
_TRANSITION_PREFIX = re.compile(r"^\s*\[(Triggered|Re-Triggered|Recovered|Warn|Warning|No Data|Renotify|"
                                r"Triggered on [^\]]*|Recovered on [^\]]*)\]\s*", re.IGNORECASE)
_MONITOR_ID = re.compile(r"/monitors[#/](\d+)")
_FIRST_LINK = re.compile(r"\((https?://[^)\s]+)\)")
RECOVERED = {"recovered", "success"}
WARNING_TRANSITIONS = {"warn", "warning", "no data"}


def _get(payload: dict[str, Any], *names: str) -> str:
    """The first filled-in value among the names (also their upper-case spellings)."""
    for name in names:
        for key in (name, name.upper()):
            value = as_str(payload.get(key))
            if value and not _PLACEHOLDER.match(value):
                return value
    return ""


def _transition(payload: dict[str, Any]) -> str:
    transition = _get(payload, "alert_transition", "transition")
    if transition:
        return transition
    match = _TRANSITION_PREFIX.match(_get(payload, "title", "event_title"))
    return match.group(1).split(" on ")[0] if match else ""


def identity(payload: dict[str, Any], headers: Mapping[str, str]) -> tuple[str, str | None]:
    event_type = _get(payload, "event_type") or "event"
    transition = _transition(payload)
    kind = f"{event_type}.{transition.lower().replace(' ', '_')}" if transition else event_type
    event_id = _get(payload, "id", "event_id")
    if event_id:
        return kind, f"datadog:{event_id}"
    cycle = _get(payload, "alert_cycle_key")
    if cycle:
        return kind, f"datadog:cycle:{cycle}:{transition}:{_get(payload, 'last_updated', 'date')}"
    return kind, None


def normalize(payload: dict[str, Any], headers: Mapping[str, str]) -> Normalized:
    title = _get(payload, "title", "event_title")
    body = _get(payload, "body", "event_msg", "text_only_msg")
    if not title and not body:
        return ignored("Datadog payload has no filled-in title or body (an unrendered $VARIABLE template)")
    transition = _transition(payload)
    alert_type = _get(payload, "alert_type").lower()
    tags = tags_of(_get(payload, "tags"))
    monitor = _get(payload, "alert_id") or _monitor_id(body)
    event_id = _get(payload, "id", "event_id")
    aggregation = _get(payload, "aggreg_key")
    external_id = f"monitor:{monitor}" if monitor else (f"aggregation:{aggregation}" if aggregation else event_id)
    now = datetime.now(tz=UTC)
    seen = parse_time(_get(payload, "last_updated", "date")) or now
    message = _clean_body(body)
    url = _get(payload, "url", "request_url") or tags.get("url", "")
    method = _get(payload, "http_method", "method") or tags.get("http.method", "")
    extra_tags = {"transition": transition, "alert_type": alert_type, "priority": _get(payload, "priority"),
                  "hostname": _get(payload, "hostname"), "org": _get(payload, "org_name") or
                  as_str(as_dict(payload.get("org")).get("name")), "scope": _get(payload, "alert_scope")}
    event = NormalizedEvent(
        external_id=external_id,
        event_type=_get(payload, "event_type") or "monitor_alert",
        severity=_severity(transition, alert_type, _get(payload, "alert_priority", "priority")),
        title=_TRANSITION_PREFIX.sub("", title).strip() or title or message.split("\n", 1)[0],
        message=message,
        exception_type=_get(payload, "error_kind", "error_type") or tags.get("error.kind", ""),
        tracker_fingerprint=f"datadog:monitor:{monitor}" if monitor else (
            f"datadog:aggregation:{aggregation}" if aggregation else ""),
        url=url,
        component=tags.get("service") or _get(payload, "service"),
        api_endpoint=entities.api_endpoint_of(method=method, url=url,
                                              transaction=tags.get("resource_name", "")),
        first_seen=parse_time(_get(payload, "date")) or seen,
        last_seen=seen,
        release=tags.get("version", ""),
        environment=tags.get("env", ""),
        tags={**tags, **{key: value for key, value in extra_tags.items() if value}},
        link=_get(payload, "link", "url_monitor") or _first_link(body),
        status="resolved" if transition.lower() in RECOVERED or alert_type == "success" else "",
    )
    return Normalized(events=[finish(event)])


def _severity(transition: str, alert_type: str, priority: str) -> str:
    if transition.lower() in WARNING_TRANSITIONS or alert_type == "warning":
        return "warning"
    if alert_type == "info":
        return "info"
    if priority.upper() == "P1":
        return "fatal"
    return "error"


def _monitor_id(body: str) -> str:
    match = _MONITOR_ID.search(body)
    return match.group(1) if match else ""


def _first_link(body: str) -> str:
    match = _FIRST_LINK.search(body)
    return match.group(1) if match else ""


def _clean_body(body: str) -> str:
    """Datadog wraps markdown bodies in %%% fences and lists the @-notified handles first."""
    lines = [line for line in body.replace("%%%", "").split("\n") if not line.strip().startswith("@")]
    return "\n".join(lines).strip()
