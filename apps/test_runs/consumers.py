"""Live run sockets: `/ws/runs/<id>/` (one run) and `/ws/runs/` (the organization's run feed).

`apps.organizations.websocket.TenantWebSocketMiddleware` has already resolved the organization and
the member; every member may watch, viewers included. The message protocol (snapshot, deltas with
seq, ping/pong) is described in `apps.test_runs.live`.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django_tenants.utils import schema_context

from apps.organizations.websocket import CLOSE_NOT_FOUND, MemberJsonConsumer, choose_subprotocol
from apps.test_runs import live
from apps.test_runs.models import Run
from apps.test_runs.snapshots import feed_snapshot, run_snapshot


@database_sync_to_async
def build_run_snapshot(schema_name: str, run_id) -> dict[str, Any] | None:
    """The snapshot message of a run, or None when the run is not in this organization."""
    # The high-water mark is read before the database: see the protocol in apps.test_runs.live.
    seq = live.current_seq(live.run_seq_key(run_id, schema_name))
    with schema_context(schema_name):
        run = Run.objects.defer("command", "metadata").filter(pk=run_id).first()
        if run is None:
            return None
        return {"type": "snapshot", "seq": seq, **run_snapshot(run)}


@database_sync_to_async
def build_feed_snapshot(schema_name: str) -> dict[str, Any]:
    seq = live.current_seq(live.feed_seq_key(schema_name))
    with schema_context(schema_name):
        return {"type": "snapshot", "seq": seq, **feed_snapshot()}


class LiveConsumer(MemberJsonConsumer):
    """Relays deltas newer than the snapshot it sent."""

    high_water = 0

    async def dispatch(self, message: dict[str, Any]) -> None:
        # The base class runs close_old_connections in the single sync thread before every message;
        # relaying a delta touches no database, and that hop cost more than the relay itself
        # (bench/ws_latency.py). Socket messages (connect, receive, disconnect) still get it.
        if message["type"] == live.RUN_EVENT_TYPE:
            await self.run_event(message)
            return
        await super().dispatch(message)

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)  # left again by the base class on disconnect

    async def leave_all(self) -> None:
        for group in self.groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups.clear()

    def is_stale(self, message: dict[str, Any]) -> bool:
        return message.get("seq", 0) <= self.high_water

    async def run_event(self, message: dict[str, Any]) -> None:
        if self.is_stale(message):
            return
        await self.send_json({"type": "event", "event": message["event"], "run_id": message["run_id"],
                              "seq": message["seq"], "at": message["at"], "data": message["data"]})


class RunConsumer(LiveConsumer):
    """One run: its snapshot, then its deltas."""

    log_high_water = 0

    async def subscribe(self, schema_name: str) -> None:
        run_id = self.scope["url_route"]["kwargs"]["run_id"]
        # Join first, so nothing sent while the snapshot is read can be missed.
        await self.join(live.run_group(run_id, schema_name))
        snapshot = await build_run_snapshot(schema_name, run_id)
        if snapshot is None:
            await self.leave_all()
            # Same answer whether the id exists in another organization or nowhere.
            await self.close(code=CLOSE_NOT_FOUND, reason="No such run in this organization.")
            return
        self.high_water = snapshot["seq"]
        self.log_high_water = snapshot["log"][-1]["seq"] if snapshot["log"] else 0
        await self.send_json(snapshot)

    def is_stale(self, message: dict[str, Any]) -> bool:
        line_seq = message.get("data", {}).get("seq") if message.get("event") == "log" else None
        if isinstance(line_seq, int) and line_seq <= self.log_high_water:
            return True  # a line the snapshot's log already holds
        return super().is_stale(message)


class RunFeedConsumer(LiveConsumer):
    """The organization's runs: the latest ones, then every run-level delta."""

    async def subscribe(self, schema_name: str) -> None:
        await self.join(live.feed_group(schema_name))
        snapshot = await build_feed_snapshot(schema_name)
        self.high_water = snapshot["seq"]
        await self.send_json(snapshot)


class NotFoundConsumer(AsyncJsonWebsocketConsumer):
    """Any other WebSocket path."""

    async def connect(self) -> None:
        await self.accept(subprotocol=choose_subprotocol(self.scope.get("subprotocols") or []))
        await self.close(code=CLOSE_NOT_FOUND, reason="No such socket.")
