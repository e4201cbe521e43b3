"""New Relic: workflow notifications (default template: id, issueUrl, title, priority, state, trigger,
createdAt/updatedAt in epoch ms, impactedEntities, totalIncidents, alertConditionNames, ...) and the
deprecated channel webhook (incident_id, current_state, condition_name, policy_name, details, ...).

An issue is the tracker issue (external id = issue id). CREATED / ACTIVATED / ACKNOWLEDGED (legacy:
open / acknowledged) are errors; CLOSED (legacy: closed) carries the status "resolved". Severity from
the priority: CRITICAL → fatal, HIGH → error, MEDIUM → warning, LOW → info. Alerts on the same policy,
condition and entities share a tracker fingerprint, so each new New Relic issue for "High CPU on web-1"
lands in one group.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from apps.production_events.normalizers.base import (
    NormalizationError,
    Normalized,
    NormalizedEvent,
    as_int,
    as_list,
    as_str,
    finish,
    ignored,
    seen_range,
    severity_of,
)

OPEN_STATES = {"CREATED", "ACTIVATED", "ACKNOWLEDGED", "OPEN"}
CLOSED_STATES = {"CLOSED"}
PRIORITY_SEVERITY = {"CRITICAL": "fatal", "HIGH": "error", "MEDIUM": "warning", "LOW": "info"}


def _is_legacy(payload: dict[str, Any]) -> bool:
    return "incident_id" in payload or "current_state" in payload


def identity(payload: dict[str, Any], headers: Mapping[str, str]) -> tuple[str, str | None]:
    if _is_legacy(payload):
        state = as_str(payload.get("current_state")).lower() or "unknown"
        incident = as_str(payload.get("incident_id"))
        kind = f"incident.{state}"
        return kind, f"incident:{incident}:{state}:{as_str(payload.get('timestamp'))}" if incident else None
    state = as_str(payload.get("state")).upper() or "UNKNOWN"
    issue_id = as_str(payload.get("id"))
    kind = f"issue.{state.lower()}"
    return kind, f"issue:{issue_id}:{state}:{as_str(payload.get('updatedAt'))}" if issue_id else None


def normalize(payload: dict[str, Any], headers: Mapping[str, str]) -> Normalized:
    if _is_legacy(payload):
        return _legacy(payload)
    state = as_str(payload.get("state")).upper()
    if state not in OPEN_STATES and state not in CLOSED_STATES:
        return ignored(f"New Relic issue state {state or '(none)'} is not an alert state")
    issue_id = as_str(payload.get("id"))
    if not issue_id:
        raise NormalizationError("New Relic workflow payload has no issue id")
    now = datetime.now(tz=UTC)
    entities = [as_str(name) for name in as_list(payload.get("impactedEntities")) if as_str(name)]
    conditions = [as_str(name) for name in as_list(payload.get("alertConditionNames")) if as_str(name)]
    policies = [as_str(name) for name in as_list(payload.get("alertPolicyNames")) if as_str(name)]
    priority = as_str(payload.get("priority")).upper()
    title = as_str(payload.get("title"))
    first_seen, last_seen = seen_range(payload.get("createdAt"), payload.get("updatedAt"), now)
    tags = {"priority": priority, "state": state, "trigger": as_str(payload.get("trigger")),
            "policy": ", ".join(policies), "condition": ", ".join(conditions),
            "workflow": as_str(payload.get("workflowName")),
            "sources": ", ".join(as_str(source) for source in as_list(payload.get("sources")))}
    event = NormalizedEvent(
        external_id=issue_id,
        event_type="issue",
        severity=PRIORITY_SEVERITY.get(priority, severity_of(priority)),
        title=title or ", ".join(conditions),
        message="\n".join(part for part in (title, _describe(policies, conditions, entities)) if part),
        tracker_fingerprint=_fingerprint(policies, conditions, entities) or f"newrelic:issue:{issue_id}",
        component=entities[0] if entities else "",
        occurrence_count=as_int(payload.get("totalIncidents"), 1) or 1,
        first_seen=first_seen,
        last_seen=last_seen,
        tags={key: value for key, value in tags.items() if value},
        link=as_str(payload.get("issueUrl")),
        status="resolved" if state in CLOSED_STATES else "",
    )
    return Normalized(events=[finish(event)])


def _legacy(payload: dict[str, Any]) -> Normalized:
    state = as_str(payload.get("current_state")).upper()
    if state not in OPEN_STATES and state not in CLOSED_STATES:
        return ignored(f"New Relic incident state {state or '(none)'} is not an alert state")
    incident = as_str(payload.get("incident_id"))
    if not incident:
        raise NormalizationError("New Relic channel payload has no incident_id")
    now = datetime.now(tz=UTC)
    condition = as_str(payload.get("condition_name"))
    policy = as_str(payload.get("policy_name"))
    targets = [target for target in as_list(payload.get("targets")) if isinstance(target, dict)]
    entities = [as_str(target.get("name")) for target in targets if as_str(target.get("name"))]
    details = as_str(payload.get("details"))
    seen, _ = seen_range(payload.get("timestamp"), None, now)
    severity = as_str(payload.get("severity")).upper()
    tags = {"state": state.lower(), "policy": policy, "condition": condition, "severity": severity.lower()}
    event = NormalizedEvent(
        external_id=f"incident:{incident}",
        event_type="incident",
        severity=PRIORITY_SEVERITY.get(severity, "error"),
        title=f"{condition}: {details}" if condition and details else condition or details,
        message="\n".join(part for part in (details, _describe([policy], [condition], entities)) if part),
        tracker_fingerprint=_fingerprint([policy], [condition], entities),
        component=entities[0] if entities else "",
        first_seen=seen,
        last_seen=seen,
        tags={key: value for key, value in tags.items() if value},
        link=as_str(payload.get("incident_url")),
        status="resolved" if state in CLOSED_STATES else "",
    )
    return Normalized(events=[finish(event)])


def _describe(policies: list[str], conditions: list[str], entities: list[str]) -> str:
    parts = [f"{label}: {', '.join(values)}" for label, values in
             (("Policy", policies), ("Condition", conditions), ("Entities", entities)) if any(values)]
    return "; ".join(parts)


def _fingerprint(policies: list[str], conditions: list[str], entities: list[str]) -> str:
    if not any(conditions):
        return ""
    return "newrelic:" + "|".join(",".join(sorted(values)) for values in (policies, conditions, entities))
