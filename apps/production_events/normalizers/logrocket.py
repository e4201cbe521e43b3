"""LogRocket publishes no outbound webhook format, so its intake takes the generic JSON error shape
(generic.py), plus what a LogRocket forwarder naturally has at hand:

- the session recording link as `session_url`, `sessionURL` (what `LogRocket.getSessionURL()` returns)
  or `recordingURL`;
- LogRocket's frustration and issue types as `type`: rage_click / rageClick, dead_click / deadClick,
  error_click, console_error, network_error, exception (rage and dead clicks are warnings by default);
- the session's events under `trail`, `events` or `session.events` (type, timestamp, url, selector /
  target, message);
- `session.url` / `session.id` for the recording when sent as an object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.production_events.normalizers import generic
from apps.production_events.normalizers.base import Normalized, as_dict, first_str


def identity(payload: dict[str, Any], headers: Mapping[str, str]) -> tuple[str, str | None]:
    return generic.identity(payload, headers, prefix="logrocket.")


def normalize(payload: dict[str, Any], headers: Mapping[str, str]) -> Normalized:
    session = as_dict(payload.get("session"))
    session_url = first_str(payload.get("session_url"), payload.get("sessionURL"), payload.get("recordingURL"),
                            payload.get("recording_url"), session.get("url"), session.get("session_url"))
    extra_trail = generic.trail_of(session.get("events")) if not (payload.get("trail") or payload.get("events")) \
        else []
    event = generic.event_of(payload, source="logrocket", session_url=session_url, extra_trail=extra_trail)
    return Normalized(events=[event])
