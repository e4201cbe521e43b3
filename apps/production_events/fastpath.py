"""The webhook intake as a raw ASGI app, in front of Django for POST /api/v1/webhooks/<source>/<key>.

Why: Django's request stack (middleware, URL resolving, DRF, one ORM transaction per request) costs
several milliseconds of CPU per delivery, so a 2-core machine cannot accept the issue's 1,000
deliveries/s through it (bench/ingest.py measures both). This app does only what a delivery needs:

1. the tenant schema from the Host (public `organizations_domain`; cached a few seconds), then the
   endpoint by key in that schema only (cached at most ARGUS_WEBHOOK_ENDPOINT_CACHE_MS, 1 s by
   default, so a rotation or a disable takes effect at once in practice); another organization's key
   is simply not found on this host;
2. the same transport-independent core as the Django view (intake.prepare_delivery): size limit,
   signature, JSON parse (orjson), delivery id, redaction;
3. a group-commit writer: the rows of concurrent requests are inserted together, one transaction per
   batch (psycopg 3 async pool); each request awaits its batch's COMMIT before answering 202, so an
   acknowledged delivery is stored. Duplicates (same endpoint and delivery id) are stored as such in
   the same transaction, by the partial unique index, whatever the concurrency;
4. processing requested after the commit, at most once a second per tenant and process, always with a
   trailing call, so no committed delivery waits for the periodic sweep.

Responses and error codes are the Django view's (intake_apis.py). Anything that is not a delivery to
a known source goes to Django unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson
from django.conf import settings
from django_tenants.utils import get_public_schema_name, remove_www
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from apps.core.errors import envelope
from apps.production_events import intake
from apps.production_events.intake import EndpointCredentials, IntakeRejected, PreparedDelivery
from apps.production_events.models import DeliveryStatus, IntakeEndpoint, WebhookLog

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DOMAIN_TTL_SECONDS = 10.0
LAST_DELIVERY_EVERY_SECONDS = 5.0
TRIGGER_EVERY_SECONDS = 1.0
MAX_BATCH = 500
LOG_TABLE = WebhookLog._meta.db_table
ENDPOINT_TABLE = IntakeEndpoint._meta.db_table

_COLUMNS = ("id", "created_at", "updated_at", "endpoint_id", "project_id", "source", "delivery_id", "is_duplicate",
            "event_kind", "headers", "payload", "body_sha256", "size", "received_at", "status", "reason", "attempts",
            "events_created")
# One statement per batch and schema, so one round trip and one implicit transaction (all rows or none):
# `first` inserts the rows whose (endpoint, delivery id) is new; ON CONFLICT names the partial unique index
# (columns and predicate), so a row already stored, or repeated earlier in the batch, is skipped there,
# and the final INSERT stores the skipped ones as duplicates and returns their ids. `touched` records
# the endpoints' last delivery (an empty id list when not due). Parameters are binary (%b): in text
# format psycopg escapes every quote of every JSON array element with a regex, which cost more CPU than
# the rest of the intake together.
_INSERT = """
WITH incoming AS (
    SELECT * FROM unnest(%b::uuid[], %b::uuid[], %b::uuid[], %b::text[], %b::text[], %b::text[], %b::text[],
                         %b::text[], %b::text[], %b::int[], %b::timestamptz[])
        AS t(id, endpoint_id, project_id, source, delivery_id, event_kind, headers, payload, body_sha256, size,
             received_at)
), first AS (
    INSERT INTO {table} ({columns})
    SELECT id, received_at, received_at, endpoint_id, project_id, source, delivery_id, false, event_kind,
           headers::jsonb, payload::jsonb, body_sha256, size, received_at, 'pending', '', 0, 0
    FROM incoming
    ON CONFLICT (endpoint_id, delivery_id) WHERE NOT is_duplicate DO NOTHING
    RETURNING id
), touched AS (
    UPDATE {endpoints} SET last_delivery_at = %b WHERE id = ANY(%b::uuid[]) RETURNING id
)
INSERT INTO {table} ({columns})
SELECT id, received_at, received_at, endpoint_id, project_id, source, delivery_id, true, event_kind,
       headers::jsonb, payload::jsonb, body_sha256, size, received_at, 'duplicate', '', 0, 0
FROM incoming WHERE id NOT IN (SELECT id FROM first)
RETURNING id
"""


def database_conninfo() -> str:
    db = settings.DATABASES["default"]
    params = {"dbname": db["NAME"], "user": db.get("USER") or None, "password": db.get("PASSWORD") or None,
              "host": db.get("HOST") or None, "port": str(db["PORT"]) if db.get("PORT") else None,
              "application_name": "argus-webhook-intake"}
    return make_conninfo(**{name: value for name, value in params.items() if value})


def _table(schema_name: str, table: str) -> sql.Composed:
    # The schema name comes from our own table, but it is checked and quoted all the same.
    if not _SCHEMA_NAME.match(schema_name):
        raise ValueError(f"not a schema name: {schema_name!r}")
    return sql.Identifier(schema_name, table)


class TtlCache:
    """A small in-process cache; entries expire after `ttl` seconds (0: no caching)."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> tuple[bool, Any]:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key: Any, value: Any) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl, value)


class ProcessingTrigger:
    """intake.request_processing for a tenant at most once per interval, with a trailing call so the
    last deliveries of a burst are not left for the periodic sweep. Runs in a thread: it talks to Redis."""

    def __init__(self, interval: float = TRIGGER_EVERY_SECONDS) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}
        self._scheduled: set[str] = set()

    def notify(self, schema_name: str) -> None:
        if schema_name in self._scheduled:
            return
        loop = asyncio.get_running_loop()
        wait = self._last.get(schema_name, -self.interval) + self.interval - time.monotonic()
        if wait <= 0:
            self._fire(schema_name)
        else:
            self._scheduled.add(schema_name)
            loop.call_later(wait, self._trailing, schema_name)

    def _trailing(self, schema_name: str) -> None:
        self._scheduled.discard(schema_name)
        self._fire(schema_name)

    def _fire(self, schema_name: str) -> None:
        self._last[schema_name] = time.monotonic()
        asyncio.get_running_loop().run_in_executor(None, intake.request_processing, schema_name)


class GroupCommitWriter:
    """Inserts the deliveries of concurrent requests together, one statement (one implicit transaction) per
    batch and tenant. While one batch is written the next one gathers, so under load a commit carries many
    rows and costs each little."""

    def __init__(self, pool: AsyncConnectionPool, trigger: ProcessingTrigger, writers: int = 2) -> None:
        self.pool = pool
        self.trigger = trigger
        self._queue: asyncio.Queue[tuple[str, PreparedDelivery, asyncio.Future]] = asyncio.Queue()
        self._tasks = [asyncio.create_task(self._run()) for _ in range(writers)]
        self._last_delivery_marked: dict[Any, float] = {}

    async def write(self, schema_name: str, delivery: PreparedDelivery) -> PreparedDelivery:
        """Returns once the delivery's row is committed (its status says whether it was a duplicate)."""
        done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((schema_name, delivery, done))
        await done
        return delivery

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            by_schema: dict[str, list[tuple[PreparedDelivery, asyncio.Future]]] = defaultdict(list)
            for schema_name, delivery, done in batch:
                by_schema[schema_name].append((delivery, done))
            for schema_name, items in by_schema.items():
                try:
                    await self._store(schema_name, items)
                except Exception as exc:  # noqa: BLE001 - this loop must live on, or every later request hangs
                    logger.exception("webhook writer failed")
                    for _delivery, done in items:
                        if not done.done():
                            done.set_exception(exc)

    async def _store(self, schema_name: str, items: list[tuple[PreparedDelivery, asyncio.Future]]) -> None:
        try:
            await self._insert(schema_name, [delivery for delivery, _done in items])
        except Exception as exc:  # noqa: BLE001 - a bad row must not fail its neighbours: retry each alone
            if len(items) == 1:
                logger.exception("webhook delivery could not be stored")
                if not items[0][1].done():
                    items[0][1].set_exception(exc)
                return
            for item in items:
                await self._store(schema_name, [item])
            return
        for _delivery, done in items:
            if not done.done():
                done.set_result(None)
        if any(not delivery.is_duplicate for delivery, _done in items):
            self.trigger.notify(schema_name)

    async def _insert(self, schema_name: str, deliveries: list[PreparedDelivery]) -> None:
        """One autocommitted statement: when it returns, every row is stored (or none was)."""
        query = sql.SQL(_INSERT).format(table=_table(schema_name, LOG_TABLE),
                                        endpoints=_table(schema_name, ENDPOINT_TABLE),
                                        columns=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)))
        touched = self._endpoints_to_touch(deliveries)
        params = [
            [d.id for d in deliveries], [d.endpoint_id for d in deliveries], [d.project_id for d in deliveries],
            [d.source for d in deliveries], [d.delivery_id for d in deliveries], [d.event_kind for d in deliveries],
            [orjson.dumps(d.headers).decode() for d in deliveries], [d.payload_json for d in deliveries],
            [d.body_sha256 for d in deliveries], [d.size for d in deliveries], [d.received_at for d in deliveries],
            max(d.received_at for d in deliveries), touched,
        ]
        async with self.pool.connection() as conn:
            cursor = await conn.execute(query, params)
            duplicates = {row[0] for row in await cursor.fetchall()}
        for delivery in deliveries:
            delivery.is_duplicate = delivery.id in duplicates
            delivery.status = DeliveryStatus.DUPLICATE if delivery.is_duplicate else DeliveryStatus.PENDING

    def _endpoints_to_touch(self, deliveries: list[PreparedDelivery]) -> list:
        # last_delivery_at is for the settings page, not worth a row lock per delivery: once per endpoint
        # every few seconds and process.
        now = time.monotonic()
        due = {d.endpoint_id for d in deliveries
               if now - self._last_delivery_marked.get(d.endpoint_id, -LAST_DELIVERY_EVERY_SECONDS)
               >= LAST_DELIVERY_EVERY_SECONDS}
        for endpoint_id in due:
            self._last_delivery_marked[endpoint_id] = now
        return list(due)


class WebhookFastPath:
    """ASGI: deliveries to /api/v1/webhooks/<known source>/<key> here, everything else to `app`."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self._pool: AsyncConnectionPool | None = None
        self._writer: GroupCommitWriter | None = None
        self._opening = asyncio.Lock()
        self._domains = TtlCache(DOMAIN_TTL_SECONDS)
        self._endpoints = TtlCache(getattr(settings, "ARGUS_WEBHOOK_ENDPOINT_CACHE_MS", 1000) / 1000)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._route(scope) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        status, body, extra_headers = await self._handle(scope, receive, *route)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   *extra_headers]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _route(scope: Scope) -> tuple[str, str] | None:
        path: str = scope["path"]
        if not path.startswith(intake.WEBHOOK_PATH_PREFIX):
            return None
        parts = path[len(intake.WEBHOOK_PATH_PREFIX):].rstrip("/").split("/")
        if len(parts) != 2 or parts[0] not in intake.SOURCES or not parts[1]:
            return None
        return parts[0], parts[1]

    async def _handle(self, scope: Scope, receive: Receive, source: str, key: str) -> tuple[int, bytes, list]:
        if scope["method"] != "POST":
            return 405, orjson.dumps(envelope("method_not_allowed", "Deliveries are POSTed.")), [(b"allow", b"POST")]
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        schema_name = ""
        try:
            intake.check_size(_content_length(headers))
            body = await _read_body(receive)
            if body is None:
                return 400, b"", []  # the client went away
            schema_name = await self._schema_for(headers.get("host", ""))
            endpoint = await self._endpoint(schema_name, key, source) if schema_name else None
            if endpoint is None:
                raise intake.unknown_intake()
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            delivery = intake.prepare_delivery(schema_name=schema_name, key=key, endpoint=endpoint, headers=headers,
                                               body=body, query=query, now=datetime.now(UTC))
        except IntakeRejected as exc:
            intake.log_not_found(schema_name or "-", source, key, exc)
            return exc.status_code, orjson.dumps(envelope(exc.code, exc.message)), []
        try:
            await self._writer_for().write(schema_name, delivery)
        except Exception:  # noqa: BLE001 - logged by the writer; the tracker retries a 503
            return 503, orjson.dumps(envelope("storage_unavailable", "The delivery could not be stored; retry.")), [
                (b"retry-after", b"5")]
        return 202, orjson.dumps(intake.response_body(delivery)), []

    async def _open(self) -> None:
        async with self._opening:
            if self._pool is None:
                pool = AsyncConnectionPool(
                    database_conninfo(), min_size=2, max_size=getattr(settings, "ARGUS_WEBHOOK_DB_CONNECTIONS", 4),
                    kwargs={"autocommit": True}, open=False, name="webhook-intake")
                await pool.open(wait=True, timeout=30)
                self._writer = GroupCommitWriter(pool, ProcessingTrigger(),
                                                 writers=getattr(settings, "ARGUS_WEBHOOK_WRITERS", 2))
                self._pool = pool

    def _writer_for(self) -> GroupCommitWriter:
        assert self._writer is not None
        return self._writer

    async def _schema_for(self, host: str) -> str:
        """The organization's schema for this Host, "" when it is no organization's."""
        hostname = remove_www(host.rsplit(":", 1)[0] if not host.endswith("]") else host).lower()
        found, schema_name = self._domains.get(hostname)
        if found:
            return schema_name
        if self._pool is None:
            await self._open()
        public = sql.Identifier(get_public_schema_name())
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                sql.SQL("SELECT o.schema_name FROM {public}.organizations_domain d "
                        "JOIN {public}.organizations_organization o ON o.id = d.tenant_id "
                        "WHERE d.domain = %s").format(public=public), [hostname])
            row = await cursor.fetchone()
        schema_name = row[0] if row and row[0] != get_public_schema_name() else ""
        self._domains.put(hostname, schema_name)
        return schema_name

    async def _endpoint(self, schema_name: str, key: str, source: str) -> EndpointCredentials | None:
        found, endpoint = self._endpoints.get((schema_name, key))
        if not found:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(
                    sql.SQL("SELECT id, project_id, source, secret, previous_secret, previous_secret_expires_at "
                            "FROM {table} WHERE key = %s AND enabled").format(
                        table=_table(schema_name, ENDPOINT_TABLE)), [key])
                row = await cursor.fetchone()
            endpoint = EndpointCredentials(*row) if row else None
            self._endpoints.put((schema_name, key), endpoint)
        if endpoint is None or endpoint.source != source:
            return None
        return endpoint


def _content_length(headers: dict[str, str]) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, refused (413) as soon as it passes the limit; None if the client disconnected."""
    chunks, size, limit = [], 0, intake.max_bytes()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise intake.payload_too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
