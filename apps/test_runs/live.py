"""Live updates: every change to a run is pushed to two channel groups, both prefixed by the
tenant's schema so no socket can ever subscribe to another organization's events.

- `<schema>.run.<run id>`: the deltas of one run (step started/finished, test finished, log, run finished)
- `<schema>.runs`: the organization's run feed (run queued/started/progress/finished)

The database is the source of truth; the socket carries a snapshot on connect and deltas after it.

Protocol (server → client, JSON; the client sends nothing but an optional `{"type": "ping"}`):

- `{"type": "snapshot", "seq": H, ...}` first. On `/ws/runs/<id>/`: `run` (summary), `results`
  (each with its `steps`) and `log` (the last lines), built by `apps.test_runs.snapshots`. On
  `/ws/runs/`: `runs`, the latest run summaries.
- `{"type": "event", "event": "...", "run_id": "...", "seq": n, "at": "<iso time>", "data": {...}}`
  for each delta after it. `seq` is a per-run counter (per-organization on the feed) in Redis, taken
  when the delta is sent; a delta is only ever sent after the change it describes is committed
  (`publish` defers itself to the end of the current transaction).
- `{"type": "pong"}` answers a ping; anything else the client sends gets
  `{"type": "error", "code": "unsupported_message", "message": "..."}` (the socket stays open).
- Refusals close the socket before anything is sent: 4401 no valid credentials, 4403 not a member
  (or a session cookie from another host's page), 4404 no such organization host, run or path
  (`apps.organizations.websocket`).

Why no delta is lost or applied twice. The consumer joins the group first, then reads the counter
(that value is the snapshot's high-water mark H), then reads the database. A delta with seq <= H
took its number before H was read, hence after its commit, so the snapshot already contains it:
the consumer drops it (clients should too, e.g. after a reconnect). A delta with seq > H took its
number after H was read, so it is sent after the consumer joined the group: it is delivered. Such
a delta may already be visible in the snapshot if it committed while the snapshot was being read;
that is harmless because every delta carries the whole new state of one thing, keyed so applying
it again changes nothing:

- `run.queued` / `run.progress` / `run.finished`: data is the run summary (`services.run_summary`)
- `test.started` / `test.finished` / `test.retrying`: a result, keyed by `data.result`
- `step.started` / `step.finished`: a step (`snapshots.step_state`), keyed by (`result`, `attempt`, `index`)
- `log`: a log line `{seq, stream, text}`, keyed by its own `seq`; the consumer also drops lines
  the snapshot's log already holds

Deltas published by different worker processes (or threads) take their numbers in the order they
are sent, which is the order of their commits only within one of them; a client applying deltas
should keep, per key, the state with the highest seq it has seen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from concurrent.futures import TimeoutError as FutureTimeoutError
from functools import cache
from typing import Any

import redis
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

RUN_EVENT_TYPE = "run.event"  # the consumer method (run_event) that relays a delta
# Sequence counters outlive any run's live phase; they expire so finished runs leave nothing behind.
SEQ_TTL_SECONDS = 30 * 24 * 3600
# How long a worker waits for Redis before giving up on one delta (the database already has it).
SEND_TIMEOUT_SECONDS = 2.0


def run_group(run_id, schema_name: str | None = None) -> str:
    return f"{schema_name or connection.schema_name}.run.{run_id}"


def feed_group(schema_name: str | None = None) -> str:
    return f"{schema_name or connection.schema_name}.runs"


def run_seq_key(run_id, schema_name: str) -> str:
    return f"argus:live:{schema_name}:run:{run_id}:seq"


def feed_seq_key(schema_name: str) -> str:
    return f"argus:live:{schema_name}:runs:seq"


@cache
def _redis() -> redis.Redis:
    # redis-py's pool notices a fork and reconnects, so one client per process is safe under prefork.
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=SEND_TIMEOUT_SECONDS,
                                socket_connect_timeout=SEND_TIMEOUT_SECONDS)


def current_seq(key: str) -> int:
    """The last sequence number handed out on a counter (0 before the first delta)."""
    return int(_redis().get(key) or 0)


def _next_seqs(keys: list[str]) -> list[int]:
    pipe = _redis().pipeline(transaction=False)
    for key in keys:
        pipe.incr(key)
        pipe.expire(key, SEQ_TTL_SECONDS)
    replies = pipe.execute()
    return [int(value) for value in replies[::2]]


class _GroupSender:
    """Sends channel-layer messages from sync code through one long-lived event loop per process.

    `async_to_sync(layer.group_send)` starts a new event loop for every call, and channels_redis
    keeps its Redis connections per loop, so each delta paid for a new connection (bench/ws_latency.py
    measures both). Here a daemon thread runs one loop for the life of the process; after a fork
    (Celery's prefork pool) the child starts its own, since threads do not survive a fork.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid: int | None = None

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="argus-live-publish", daemon=True).start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def send(self, messages: list[tuple[str, dict]], timeout: float) -> None:
        future = asyncio.run_coroutine_threadsafe(self._send_all(messages), self._event_loop())
        try:
            future.result(timeout)
        except FutureTimeoutError:
            future.cancel()
            raise

    @staticmethod
    async def _send_all(messages: list[tuple[str, dict]]) -> None:
        layer = get_channel_layer()
        for group, message in messages:
            await layer.group_send(group, message)


_sender = _GroupSender()


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    # The channel layer packs messages with msgpack; callers may hand over UUIDs, dates or Decimals.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _send(schema_name: str, run_id: str, event: str, data: dict[str, Any], feed: bool) -> None:
    try:
        keys = [run_seq_key(run_id, schema_name)] + ([feed_seq_key(schema_name)] if feed else [])
        seqs = _next_seqs(keys)
        message = {"type": RUN_EVENT_TYPE, "event": event, "run_id": run_id, "at": timezone.now().isoformat(),
                   "data": data}
        messages = [(run_group(run_id, schema_name), {**message, "seq": seqs[0]})]
        if feed:
            messages.append((feed_group(schema_name), {**message, "seq": seqs[1]}))
        _sender.send(messages, SEND_TIMEOUT_SECONDS)
    except Exception:  # a Redis hiccup must not fail the test being run
        logger.warning("live update %s for run %s was not delivered", event, run_id, exc_info=True)


def publish(run_id, event: str, data: dict[str, Any], *, feed: bool = False) -> None:
    """Send one delta to the run's group (and the feed). Never raises: the database already has it.

    Inside a transaction the delta waits for the commit (and is dropped on rollback), so a socket
    never announces a change a snapshot could not yet see. Meant for sync code (workers, views).
    """
    try:
        schema_name = connection.schema_name
        payload = _jsonable(data)
        run_id = str(run_id)
        transaction.on_commit(lambda: _send(schema_name, run_id, event, payload, feed))
    except Exception:
        logger.warning("live update %s for run %s was not delivered", event, run_id, exc_info=True)
