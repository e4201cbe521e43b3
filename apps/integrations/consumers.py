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

import json
from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.integrations.dispatch import events_group
from apps.organizations.websocket import CLOSE_UNAUTHENTICATED, choose_subprotocol

MAX_TYPE_FILTERS = 20


def type_filters(query_string: bytes) -> tuple[str, ...]:
    """The event-type prefixes asked for in the query string (empty: every event)."""
    values = parse_qs(query_string.decode("latin-1")).get("types", [])
    prefixes = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return tuple(dict.fromkeys(prefix[:100] for prefix in prefixes))[:MAX_TYPE_FILTERS]


class EventFeedConsumer(AsyncJsonWebsocketConsumer):
    types: tuple[str, ...] = ()

    async def connect(self) -> None:
        await self.accept(subprotocol=choose_subprotocol(self.scope.get("subprotocols") or []))
        if self.scope.get("membership") is None:  # only reachable without the tenant middleware
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.types = type_filters(self.scope.get("query_string", b""))
        group = events_group(self.scope["schema_name"])
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)  # left again by the base class on disconnect
        await self.send_json({"type": "ready", "types": list(self.types)})

    async def outbox_event(self, message: dict[str, Any]) -> None:
        event_type = message.get("event_type", "")
        if self.types and not event_type.startswith(self.types):
            return
        await self.send_json({"type": "event", "event_type": event_type, "event_id": message.get("event_id"),
                              "payload": message.get("payload", {})})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs) -> None:
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
            return
        await self.send_json({"type": "error", "code": "unsupported_message",
                              "message": 'This socket only reads {"type": "ping"}.'})
