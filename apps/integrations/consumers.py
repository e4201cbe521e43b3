"""`/ws/events/`: the organization's domain events, live, as the outbox dispatches them.

`apps.organizations.websocket.TenantWebSocketMiddleware` has already resolved the organization from the
host and checked the member (session or API key); every member may listen, viewers included, since
each event type is something they can already read in the UI. A client may narrow the feed with
`?types=production_event.,run.finished` (prefixes, comma-separated).

Messages: `{"type": "ready", "types": [...]}` once subscribed, then
`{"type": "event", "event_type", "event_id", "payload"}` per event, and `{"type": "pong"}` for a ping.
Events are not numbered or replayed: the outbox page (`/events/`) and API hold the history.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from apps.integrations.dispatch import events_group
from apps.organizations.websocket import MemberJsonConsumer

MAX_TYPE_FILTERS = 20


def type_filters(query_string: bytes) -> tuple[str, ...]:
    """The event-type prefixes asked for in the query string (empty: every event)."""
    values = parse_qs(query_string.decode("latin-1")).get("types", [])
    prefixes = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return tuple(dict.fromkeys(prefix[:100] for prefix in prefixes))[:MAX_TYPE_FILTERS]


class EventFeedConsumer(MemberJsonConsumer):
    types: tuple[str, ...] = ()

    async def subscribe(self, schema_name: str) -> None:
        self.types = type_filters(self.scope.get("query_string", b""))
        group = events_group(schema_name)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)  # left again by the base class on disconnect
        await self.send_json({"type": "ready", "types": list(self.types)})

    async def outbox_event(self, message: dict[str, Any]) -> None:
        event_type = message.get("event_type", "")
        if self.types and not event_type.startswith(self.types):
            return
        await self.send_json({"type": "event", "event_type": event_type, "event_id": message.get("event_id"),
                              "payload": message.get("payload", {})})
