"""Sentry: integration-platform webhooks (`Sentry-Hook-Resource` issue / error / event_alert /
metric_alert / installation / comment ...), plus the raw SDK event (what an SDK posts to /store/) and
the event as Sentry's own API returns it, so teams can forward either.

- issue: created / unresolved are errors; resolved / ignored / archived carry the tracker's status
  (status "resolved" / "ignored"); assigned is not news → ignored.
- error, event_alert: the full event (exception chain, frames, breadcrumbs, request, user, tags).
- metric_alert: an aggregate threshold ("1000 errors in 10 minutes"), not one error: critical / warning
  become an event of type metric_alert (no stack), resolved becomes the same event with status resolved.
- installation, comment, seer and anything else: ignored with the reason.

The external id is the Sentry issue id when the payload has one, so the issue webhook, the error
webhook and alerts about the same issue update one ProductionEvent; the tracker fingerprint is
"sentry:issue:<id>", else a custom SDK fingerprint, else Sentry's grouping hash.
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
    header,
    ignored,
    parse_time,
    seen_range,
    severity_of,
    tags_of,
    trail_entry,
)

ISSUE_ERROR_ACTIONS = {"created", "unresolved"}
ISSUE_STATUS_ACTIONS = {"resolved": "resolved", "ignored": "ignored", "archived": "ignored"}
WEBHOOK_RESOURCES = ("issue", "error", "event_alert", "metric_alert", "installation", "comment", "seer")
FAILED_HTTP_CATEGORIES = {"fetch", "xhr", "http", "httplib", "requests"}


def resource_of(payload: dict[str, Any], headers: Mapping[str, str]) -> str:
    """The webhook resource from the header, else from the data key; "event" for an SDK / API event."""
    resource = header(headers, "Sentry-Hook-Resource")
    if resource:
        return resource
    data = payload.get("data")
    if isinstance(data, dict) and "action" in payload:
        if "event" in data and "triggered_rule" in data:
            return "event_alert"
        for key in WEBHOOK_RESOURCES:
            if key in data:
                return key
        return "unknown"
    return "event"


def identity(payload: dict[str, Any], headers: Mapping[str, str]) -> tuple[str, str | None]:
    resource = resource_of(payload, headers)
    if resource == "event":
        event_id = first_str(payload.get("event_id"), payload.get("eventID"), payload.get("id"))
        return "event", f"event:{event_id}" if event_id else None
    action = as_str(payload.get("action"))
    kind = f"{resource}.{action}" if action else resource
    data = as_dict(payload.get("data"))
    if resource == "issue":
        issue = as_dict(data.get("issue"))
        issue_id = as_str(issue.get("id"))
        # An issue is sent again on every update; lastSeen / status tell the updates apart.
        return kind, f"{kind}:{issue_id}:{as_str(issue.get('lastSeen'))}:{as_str(issue.get('status'))}" \
            if issue_id else None
    if resource in ("error", "event_alert"):
        event = as_dict(data.get("error") or data.get("event"))
        event_id = as_str(event.get("event_id"))
        return kind, f"{kind}:{event_id}" if event_id else None
    if resource == "metric_alert":
        alert = as_dict(data.get("metric_alert"))
        alert_id = as_str(alert.get("id"))
        return kind, f"{kind}:{alert_id}:{as_str(alert.get('status'))}" if alert_id else None
    installation = as_str(dig(payload, "installation", "uuid"))
    return kind, f"{kind}:{installation}" if installation else None


def normalize(payload: dict[str, Any], headers: Mapping[str, str]) -> Normalized:
    now = datetime.now(tz=UTC)
    resource = resource_of(payload, headers)
    action = as_str(payload.get("action"))
    data = as_dict(payload.get("data"))
    if resource == "event":
        if "entries" in payload:
            return Normalized(events=[_api_event(payload, now)])
        return Normalized(events=[_event(payload, now, event_type="error")])
    if resource == "issue":
        return _issue(as_dict(data.get("issue")), action, now)
    if resource == "error":
        return Normalized(events=[_event(_required(data, "error"), now, event_type="error")])
    if resource == "event_alert":
        event = _event(_required(data, "event"), now, event_type="event_alert")
        rule = as_str(data.get("triggered_rule"))
        if rule:
            event.tags.setdefault("alert_rule", rule)
        return Normalized(events=[event])
    if resource == "metric_alert":
        return _metric_alert(data, action, now)
    return ignored(f"Sentry {resource}{'.' + action if action else ''} webhooks describe no error")


def _required(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise NormalizationError(f"Sentry payload has no data.{key} object")
    return value


def _issue(issue: dict[str, Any], action: str, now: datetime) -> Normalized:
    if not issue:
        raise NormalizationError("Sentry issue webhook has no data.issue object")
    if action not in ISSUE_ERROR_ACTIONS and action not in ISSUE_STATUS_ACTIONS:
        return ignored(f"Sentry issue.{action or '(no action)'} is not an error or a status change")
    issue_id = as_str(issue.get("id"))
    metadata = as_dict(issue.get("metadata"))
    first_seen, last_seen = seen_range(issue.get("firstSeen"), issue.get("lastSeen"), now)
    project = as_dict(issue.get("project"))
    tags = {"platform": as_str(issue.get("platform")), "project": as_str(project.get("slug")),
            "short_id": as_str(issue.get("shortId"))}
    event = NormalizedEvent(
        external_id=issue_id,
        event_type="issue",
        severity=severity_of(issue.get("level")),
        title=as_str(issue.get("title")),
        message=first_str(metadata.get("value"), issue.get("title")),
        exception_type=as_str(metadata.get("type")),
        tracker_fingerprint=f"sentry:issue:{issue_id}" if issue_id else "",
        component=as_str(issue.get("culprit")),
        occurrence_count=as_int(issue.get("count"), 1) or 1,
        affected_users=as_int(issue.get("userCount"), 0) or 0,
        first_seen=first_seen,
        last_seen=last_seen,
        tags={key: value for key, value in tags.items() if value},
        link=first_str(issue.get("permalink"), issue.get("web_url")),
        status=ISSUE_STATUS_ACTIONS.get(action, ""),
    )
    return Normalized(events=[finish(event)])


def _metric_alert(data: dict[str, Any], action: str, now: datetime) -> Normalized:
    alert = as_dict(data.get("metric_alert"))
    if not alert:
        raise NormalizationError("Sentry metric_alert webhook has no data.metric_alert object")
    if action not in ("critical", "warning", "resolved"):
        return ignored(f"Sentry metric_alert.{action or '(no action)'} is not an alert state")
    rule = as_dict(alert.get("alert_rule"))
    first_seen, last_seen = seen_range(alert.get("date_started") or alert.get("date_detected"),
                                       alert.get("date_closed") or alert.get("date_detected"), now)
    rule_id = as_str(rule.get("id"))
    event = NormalizedEvent(
        external_id=f"metric_alert:{rule_id or as_str(alert.get('id'))}",
        event_type="metric_alert",
        severity="warning" if action == "warning" else "error",
        title=first_str(rule.get("name"), data.get("description_title"), alert.get("title")),
        message=first_str(data.get("description_text"), data.get("description_title")),
        tracker_fingerprint=f"sentry:metric_alert:{rule_id}" if rule_id else "",
        environment=as_str(rule.get("environment")),
        first_seen=first_seen,
        last_seen=last_seen,
        tags={"query": as_str(rule.get("query")), "aggregate": as_str(rule.get("aggregate"))},
        link=as_str(data.get("web_url")),
        status="resolved" if action == "resolved" else "",
    )
    event.tags = {key: value for key, value in event.tags.items() if value}
    return Normalized(events=[finish(event)])


# --- events (webhook error / event_alert, SDK event) --------------------------------------------------

def _exceptions(event: dict[str, Any]) -> list[dict[str, Any]]:
    exception = event.get("exception")
    if isinstance(exception, dict):
        return [value for value in as_list(exception.get("values")) if isinstance(value, dict)]
    if isinstance(exception, list):
        return [value for value in exception if isinstance(value, dict)]
    return []


def _frames(raw_frames: Any, *, camel: bool = False) -> list[dict[str, Any]]:
    frames = []
    for raw in as_list(raw_frames):
        if not isinstance(raw, dict):
            continue
        if camel:
            context = [line for line in as_list(raw.get("context")) if isinstance(line, list) and len(line) == 2]
            lineno = raw.get("lineNo")
            context_line = next((line[1] for line in context if line[0] == lineno), "")
            frames.append(frame(filename=first_str(raw.get("filename"), raw.get("absPath")),
                                function=raw.get("function"), module=raw.get("module"), lineno=lineno,
                                colno=raw.get("colNo"), in_app=raw.get("inApp"), context_line=context_line))
        else:
            frames.append(frame(filename=first_str(raw.get("filename"), raw.get("abs_path")),
                                function=raw.get("function"), module=raw.get("module"),
                                lineno=raw.get("lineno"), colno=raw.get("colno"), in_app=raw.get("in_app"),
                                context_line=raw.get("context_line")))
    return frames


def _breadcrumbs(raw: Any) -> list[dict[str, Any]]:
    crumbs = raw.get("values") if isinstance(raw, dict) else raw
    trail = []
    for crumb in as_list(crumbs):
        if not isinstance(crumb, dict):
            continue
        data = as_dict(crumb.get("data"))
        category = as_str(crumb.get("category"))
        message = as_str(crumb.get("message"))
        # ui.click / ui.input breadcrumbs carry the element's selector as their message.
        selector = message if category.startswith("ui.") else ""
        trail.append(trail_entry(
            timestamp=crumb.get("timestamp"), category=category, type=first_str(crumb.get("type"), "default"),
            message=message, url=first_str(data.get("url"), data.get("to")), selector=selector, data=data,
        ))
    return trail


def _failed_request(trail: list[dict[str, Any]]) -> str:
    """The API endpoint of the last failed HTTP call before a browser error, when there is one."""
    for crumb in reversed(trail):
        data = crumb["data"]
        status = as_int(data.get("status_code"), 0) or 0
        if crumb["category"] in FAILED_HTTP_CATEGORIES and status >= 400:
            return entities.api_endpoint_of(method=as_str(data.get("method")), url=crumb["url"])
    return ""


def _event(event: dict[str, Any], now: datetime, *, event_type: str) -> NormalizedEvent:
    exceptions = _exceptions(event)
    # Sentry lists a chain outermost first; the last value is the error that was raised.
    main = exceptions[-1] if exceptions else {}
    metadata = as_dict(event.get("metadata"))
    logentry = as_dict(event.get("logentry"))
    exception_type = first_str(main.get("type"), metadata.get("type"))
    message = first_str(main.get("value"), metadata.get("value"), logentry.get("formatted"),
                        logentry.get("message"), event.get("message"))
    request = as_dict(event.get("request"))
    tags = tags_of(event.get("tags"))
    contexts = as_dict(event.get("contexts"))
    trail = _breadcrumbs(event.get("breadcrumbs"))
    url = first_str(request.get("url"), tags.get("url"))
    transaction = first_str(event.get("transaction"), tags.get("transaction"))
    issue_id = first_str(event.get("issue_id"), event.get("groupID"))
    event_id = first_str(event.get("event_id"), event.get("eventID"), event.get("id"))
    seen = parse_time(event.get("datetime")) or parse_time(event.get("timestamp")) or now
    user = as_dict(event.get("user"))
    extra = as_dict(event.get("extra"))
    return finish(NormalizedEvent(
        external_id=issue_id or event_id,
        event_type=event_type,
        severity=severity_of(event.get("level") or tags.get("level")),
        title=first_str(event.get("title"), f"{exception_type}: {message}" if exception_type else message),
        message=message,
        exception_type=exception_type,
        stack_trace=_frames(dig(main, "stacktrace", "frames") or dig(event, "stacktrace", "frames")),
        tracker_fingerprint=_fingerprint(event, issue_id),
        url=url,
        component=first_str(event.get("culprit"), transaction, tags.get("component")),
        api_endpoint=entities.api_endpoint_of(method=as_str(request.get("method")), url=url,
                                              transaction=transaction) or _failed_request(trail),
        affected_users=1 if any(user.get(key) for key in ("id", "email", "username", "ip_address")) else 0,
        first_seen=seen,
        last_seen=seen,
        release=first_str(event.get("release"), tags.get("release")),
        environment=first_str(event.get("environment"), tags.get("environment")),
        tags=tags,
        trail=trail,
        session_url=first_str(extra.get("sessionURL"), extra.get("LogRocket"), tags.get("replay_url"),
                              dig(contexts, "replay", "url")),
        link=first_str(event.get("web_url"), event.get("permalink")),
    ))


def _fingerprint(event: dict[str, Any], issue_id: str) -> str:
    if issue_id:
        return f"sentry:issue:{issue_id}"
    custom = [as_str(part) for part in as_list(event.get("fingerprint"))]
    if custom and custom != ["{{ default }}"] and all(custom):
        return "sentry:fingerprint:" + "|".join(custom)
    hashes = [as_str(value) for value in as_list(event.get("hashes") or event.get("fingerprints"))]
    return f"sentry:hash:{hashes[0]}" if hashes and hashes[0] else ""


def _api_event(event: dict[str, Any], now: datetime) -> NormalizedEvent:
    """The event as Sentry's API returns it: the interfaces are in `entries`, keys camelCase."""
    entries = {as_str(entry.get("type")): as_dict(entry.get("data"))
               for entry in as_list(event.get("entries")) if isinstance(entry, dict)}
    exceptions = [value for value in as_list(dig(entries, "exception", "values")) if isinstance(value, dict)]
    main = exceptions[-1] if exceptions else {}
    metadata = as_dict(event.get("metadata"))
    request = entries.get("request", {})
    tags = tags_of(event.get("tags"))
    trail = _breadcrumbs(entries.get("breadcrumbs"))
    url = first_str(request.get("url"), tags.get("url"))
    transaction = tags.get("transaction", "")
    exception_type = first_str(main.get("type"), metadata.get("type"))
    message = first_str(main.get("value"), metadata.get("value"), dig(entries, "message", "formatted"))
    seen = parse_time(event.get("dateCreated")) or parse_time(event.get("dateReceived")) or now
    group_id = as_str(event.get("groupID"))
    user = as_dict(event.get("user"))
    return finish(NormalizedEvent(
        external_id=group_id or as_str(event.get("eventID")),
        event_type="error",
        severity=severity_of(tags.get("level")),
        title=first_str(event.get("title"), f"{exception_type}: {message}" if exception_type else message),
        message=message,
        exception_type=exception_type,
        stack_trace=_frames(dig(main, "stacktrace", "frames"), camel=True),
        tracker_fingerprint=f"sentry:issue:{group_id}" if group_id else _fingerprint(event, ""),
        url=url,
        component=first_str(event.get("culprit"), transaction),
        api_endpoint=entities.api_endpoint_of(method=as_str(request.get("method")), url=url,
                                              transaction=transaction) or _failed_request(trail),
        affected_users=1 if user else 0,
        first_seen=seen,
        last_seen=seen,
        release=first_str(dig(event, "release", "version"), event.get("release"), tags.get("release")),
        environment=first_str(tags.get("environment")),
        tags=tags,
        trail=trail,
    ))
