"""Webhook intake under load: signed deliveries from seven trackers, accepted per second, acceptance
latency, time until all are processed, and an accounting of every delivery.

Runs on its own database (`argus_bench_ingest`, dropped and recreated; the development data is
untouched) and Redis db (default 2). Starts the real server (uvicorn `argus.asgi:application`, which
routes deliveries to the ASGI fast path, `--workers` processes) and a Celery worker on the `default`
queue, creates an organization, a project and its intake endpoints, then sends `--deliveries`
deliveries from an asyncio (aiohttp) client with `--concurrency` connections in flight. The load
generator runs on the same 2 cores, as do PostgreSQL, Redis and the worker processing the deliveries.

Deliveries are built from the real fixture payloads (/work/shared/fixtures/webhooks/), one source after
another in turn, with varied ids and messages (so they group into a few dozen errors per source), each
signed as its tracker signs it (signatures computed before the clock starts: that is the tracker's work,
not ours). About 10 % are exact re-deliveries (same body, so the same delivery id), sent later in the
stream as a tracker's retry would be.

Baseline, in the same run: the same kind of deliveries (fresh ids) through the Django view at the same
path, served by a second uvicorn running `argus.asgi:django_asgi_app` (Django's ASGI handler, no fast
path), same workers and concurrency.

Accounting, after processing finished: every 202 names a stored WebhookLog; every stored delivery is
processed, duplicate, or failed/ignored with a reason (none pending); re-deliveries are stored as
duplicates and none of them produced an event; every unique delivery was processed at most once.

    .venv/bin/python bench/ingest.py                                # 20,000 deliveries, baseline 3,000
    .venv/bin/python bench/ingest.py --deliveries 5000 --concurrency 32 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import bench_database_url, configure, free_port, percentile  # noqa: E402 - bench/ is on the path

BENCH_DATABASE = "argus_bench_ingest"
FIXTURES = Path("/work/shared/fixtures/webhooks")
TEMPLATES = {
    "sentry": ["sentry/issue.created.json", "sentry/error.created.json", "sentry/event_alert.triggered.json"],
    "datadog": ["datadog/monitor_alert.triggered.default_template.json"],
    "bugsnag": ["bugsnag/exception.otp-middleware-fixture.json"],
    "rollbar": ["rollbar/new_item.json", "rollbar/occurrence.json", "rollbar/new_item.zulip-fixture.json"],
    "newrelic": ["newrelic/workflow.incident_created.default_template.zulip-fixture.json",
                 "newrelic/workflow.issue_activated.default_template.zulip-fixture.json"],
    "fullstory": ["fullstory/v1.metric.alert.json", "fullstory/v1.recording.event.custom.json"],
}
GENERIC_TEMPLATE = {
    "id": "evt-1", "type": "error", "title": "TypeError: Cannot read properties of undefined (reading 'total')",
    "message": "Cannot read properties of undefined (reading 'total')", "exception_type": "TypeError",
    "level": "error", "url": "https://shop.example.com/cart/42", "timestamp": "2026-11-20T10:00:00Z",
    "user": {"id": "u-1", "email": "ada@example.com"},
    "frames": [{"filename": "app/cart.js", "function": "renderTotal", "lineno": 88, "in_app": True}],
}
ID_KEYS = {"id", "uuid", "event_id", "eventid", "errorid", "issue_id", "issueid", "incident_id", "alertid",
           "last_occurrence_id", "counter", "updatedat", "eventurl", "receivedat", "sessionurl"}
TEXT_KEYS = {"title", "message", "body", "culprit", "errorclass", "condition_name", "name"}
VARIANTS = 40








# ---------------------------------------------------------------- the tenant and the deliveries


def _setup_tenant() -> tuple[str, str, dict[str, tuple[str, str]]]:
    """An organization with one project and its intakes: host, schema, {source: (path, secret)}."""
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from apps.organizations.services import organization_provision
    from apps.organizations.urls_helpers import tenant_host
    from apps.production_events.intake import intake_endpoints_for, intake_path
    from apps.projects.services import project_create

    call_command("setup_platform", verbosity=0)
    organization, owner = organization_provision(
        name="Ingest Bench", slug="ingestbench", owner_email="owner@ingestbench.test",
        owner_password="bench-password-123",  # noqa: S106 - throwaway bench account
    )
    with tenant_context(organization):
        project = project_create(actor=owner, name="Bench shop", base_url="https://shop.example.com/")
        endpoints = {endpoint.source: (intake_path(endpoint), endpoint.secret)
                     for endpoint in intake_endpoints_for(project)}
    return tenant_host(organization.slug), organization.schema_name, endpoints


def _vary(value, number: int, variant: int, key: str = ""):
    """The payload with its ids made unique to `number` and its texts to one of VARIANTS errors."""
    if isinstance(value, dict):
        return {name: _vary(item, number, variant, name.lower()) for name, item in value.items()}
    if isinstance(value, list):
        return [_vary(item, number, variant, key) for item in value]
    if key in ID_KEYS:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return 10_000_000 + number
        if isinstance(value, str):
            return f"{value}-{number}"
    if key in TEXT_KEYS and isinstance(value, str) and value:
        return f"{value} (variant {variant})"
    return value


@dataclass
class Delivery:
    source: str
    path: str
    body: bytes
    secret: str
    headers: dict[str, str]
    is_repeat: bool = False


def _sign(deliveries: list[Delivery]) -> None:
    """Sign every delivery now, as its tracker does when it sends (FullStory and generic signatures are
    only valid for 5 minutes, and the baseline round starts after the fast path's processing)."""
    from apps.production_events.signatures import signed_headers

    now = int(time.time())
    for delivery in deliveries:
        delivery.headers.update(signed_headers(delivery.source, delivery.secret, delivery.body, now))


def _build(endpoints: dict[str, tuple[str, str]], count: int, first_number: int, repeat_share: float,
           seed: int) -> list[Delivery]:
    rng = random.Random(seed)
    templates = {source: [(name, json.loads((FIXTURES / name).read_bytes())) for name in names]
                 for source, names in TEMPLATES.items()}
    templates["generic"] = [("generic", GENERIC_TEMPLATE)]
    templates["logrocket"] = [("logrocket", {**GENERIC_TEMPLATE, "session_url": "https://app.logrocket.com/s/1"})]
    sources = sorted(templates)
    unique_count = round(count * (1 - repeat_share))
    deliveries: list[Delivery] = []
    for offset in range(unique_count):
        number = first_number + offset
        source = sources[offset % len(sources)]
        name, template = templates[source][(offset // len(sources)) % len(templates[source])]
        body = json.dumps(_vary(copy.deepcopy(template), number, rng.randrange(VARIANTS)),
                          separators=(",", ":")).encode()
        path, secret = endpoints[source]
        headers = {"Content-Type": "application/json"}
        if source == "sentry":  # sentry/<resource>.<action>.json
            headers["Sentry-Hook-Resource"] = Path(name).name.split(".")[0]
        deliveries.append(Delivery(source, path, body, secret, headers))
    # Re-deliveries: exact copies of earlier deliveries, later in the stream (a tracker's retry).
    for _ in range(count - unique_count):
        position = rng.randrange(len(deliveries))
        original = deliveries[rng.randrange(min(position + 1, unique_count))]
        deliveries.insert(position + 1, Delivery(original.source, original.path, original.body, original.secret,
                                                 dict(original.headers), is_repeat=True))
    return deliveries


def _identity_collisions(deliveries: list[Delivery]) -> int:
    """Unique deliveries whose delivery id another unique delivery already has (should be 0)."""
    import hashlib

    from apps.production_events.normalizers import delivery_identity

    seen, collisions = set(), 0
    for delivery in deliveries:
        if delivery.is_repeat:
            continue
        headers = {name.lower(): value for name, value in delivery.headers.items()}
        _kind, vendor_id = delivery_identity(delivery.source, json.loads(delivery.body), headers)
        key = (delivery.source, vendor_id or hashlib.sha256(delivery.body).hexdigest())
        collisions += key in seen
        seen.add(key)
    return collisions


# ---------------------------------------------------------------- processes


def _start(argv: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen:
    log = log_path.open("wb")
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _start_server(app: str, port: int, workers: int, log_path: Path) -> subprocess.Popen:
    process = _start([sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
                      "--workers", str(workers), "--log-level", "warning", "--no-access-log",
                      "--loop", "uvloop", "--http", "httptools"], log_path, dict(os.environ))
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):  # noqa: S310 - local
                return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log_path.read_text()[-3000:]}") from None
            time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live descendants (Linux /proc)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return total
    return total + sum(_tree_cpu_seconds(int(child)) for child in children)


def _machine_busy() -> tuple[float, float]:
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)




# ---------------------------------------------------------------- the load


@dataclass
class LoadResult:
    latencies_ms: list[float]
    statuses: Counter
    answers: list[dict]
    seconds: float
    started: float


async def _load(port: int, host: str, deliveries: list[Delivery], concurrency: int) -> LoadResult:
    import aiohttp

    latencies: list[float] = []
    statuses: Counter = Counter()
    answers: list[dict] = []
    cursor = iter(range(len(deliveries)))
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, base_url=f"http://127.0.0.1:{port}",
                                     skip_auto_headers=["User-Agent"]) as session:

        async def sender() -> None:
            for index in cursor:
                delivery = deliveries[index]
                started = time.perf_counter()
                async with session.post(delivery.path, data=delivery.body,
                                        headers={**delivery.headers, "Host": host}) as response:
                    answer = await response.json(content_type=None)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[response.status] += 1
                answers.append({"status": response.status, "body": answer, "repeat": delivery.is_repeat})

        started = time.time()
        clock = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return LoadResult(latencies, statuses, answers, time.perf_counter() - clock, started)


def _wait_processed(schema: str, timeout: float) -> float | None:
    """Seconds until no delivery is pending (None on timeout)."""
    from django_tenants.utils import schema_context

    from apps.production_events.models import DeliveryStatus, WebhookLog

    started = time.time()
    with schema_context(schema):
        while time.time() - started < timeout:
            if not WebhookLog.objects.filter(status=DeliveryStatus.PENDING).exists():
                return time.time()
            time.sleep(0.2)
    return None


def _accounting(schema: str, answers: list[dict], repeats_sent: int) -> dict:
    from django.db.models import Count, Sum
    from django_tenants.utils import schema_context

    from apps.production_events.models import ProductionEvent, WebhookLog

    accepted = [answer["body"]["delivery"] for answer in answers if answer["status"] == 202]
    with schema_context(schema):
        stored = set(WebhookLog.objects.filter(id__in=accepted).values_list("id", flat=True))
        by_status = dict(WebhookLog.objects.values_list("status").annotate(n=Count("id")).order_by())
        without_reason = WebhookLog.objects.filter(status__in=["failed", "ignored"], reason="").count()
        duplicates = WebhookLog.objects.filter(is_duplicate=True)
        duplicate_rows = duplicates.count()
        duplicates_not_duplicate = duplicates.exclude(status="duplicate").count()
        events_from_duplicates = ProductionEvent.objects.filter(delivery__is_duplicate=True).count()
        unique_ids = WebhookLog.objects.filter(is_duplicate=False).values("endpoint", "delivery_id").distinct().count()
        first_rows = WebhookLog.objects.filter(is_duplicate=False).count()
        firsts_settled = WebhookLog.objects.filter(is_duplicate=False,
                                                   status__in=["processed", "ignored", "failed"]).count()
        events_created = WebhookLog.objects.aggregate(n=Sum("events_created"))["n"] or 0
        events = ProductionEvent.objects.count()
        failed_reasons = Counter(WebhookLog.objects.filter(status="failed").values_list("reason", flat=True))
    return {
        "sent (warm-up included)": len(answers), "accepted": len(accepted), "acknowledged_and_stored": len(stored),
        "by_status": by_status, "failed_or_ignored_without_reason": without_reason,
        "repeats_sent": repeats_sent, "duplicate_rows": duplicate_rows,
        "duplicate_rows_not_marked_duplicate": duplicates_not_duplicate,
        "events_from_duplicate_rows": events_from_duplicates, "unique_delivery_ids": unique_ids,
        "first_delivery_rows": first_rows, "first_delivery_rows_processed_ignored_or_failed": firsts_settled,
        "production_events": events, "events_created_by_deliveries": events_created,
        "failed_reasons": failed_reasons.most_common(3),
    }


def _round(label: str, app: str, host: str, schema: str, deliveries: list[Delivery], concurrency: int,
           args) -> dict:
    port = free_port()
    log_path = ROOT / ".argus" / f"bench-ingest-{label.split()[0].lower()}.log"
    server = _start_server(app, port, args.workers, log_path)
    _sign(deliveries)
    try:
        warmup = deliveries[: args.workers * 20]
        # Opens the pools, finishes the imports, fills the caches; accounted for, not timed.
        warmup_result = asyncio.run(_load(port, host, warmup, min(concurrency, 8)))
        measured = deliveries[len(warmup):]
        server_cpu, (busy, total) = _tree_cpu_seconds(server.pid), _machine_busy()
        client_cpu = time.process_time()
        load_average = os.getloadavg()[0]
        result = asyncio.run(_load(port, host, measured, concurrency))
        client_cpu = time.process_time() - client_cpu
        server_cpu = _tree_cpu_seconds(server.pid) - server_cpu
        busy_after, total_after = _machine_busy()
        done_at = _wait_processed(schema, args.process_timeout) if args.worker_concurrency else None
    finally:
        _stop(server)
    return {
        "label": label, "result": result, "server_cpu": server_cpu, "client_cpu": client_cpu,
        "machine_busy": (busy_after - busy) / max(total_after - total, 1), "done_at": done_at,
        "all_answers": warmup_result.answers + result.answers, "concurrency": concurrency,
        "repeats": sum(delivery.is_repeat for delivery in deliveries), "load_average": load_average,
    }


def _report(rounds: list[dict], accounting: dict, args, collisions: int) -> None:
    print(f"\n{args.deliveries} deliveries (fast path) and {args.baseline_deliveries} (baseline), "
          f"{args.workers} uvicorn workers, Celery worker concurrency {args.worker_concurrency} "
          f"(nice {args.worker_nice}); unique delivery ids colliding: {collisions}")
    print("\n| path | connections | sent | accepted/s | p50 | p95 | p99 | max | non-202 | server CPU per delivery "
          "| load generator CPU per delivery | machine busy (load avg. at start) | all processed after |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for round_ in rounds:
        result = round_["result"]
        latencies = result.latencies_ms
        rate = len(latencies) / result.seconds
        done = (f"{round_['done_at'] - result.started:.1f} s after the first send "
                f"({round_['done_at'] - result.started - result.seconds:.1f} s after the last)"
                if round_["done_at"] else "timed out" if args.worker_concurrency else "not measured (no worker)")
        others = ", ".join(f"{count}x {status}" for status, count in sorted(result.statuses.items())
                           if status != 202) or "0"
        print(f"| {round_['label']} | {round_['concurrency']} | {len(latencies)} | {rate:,.0f} | "
              f"{statistics.median(latencies):.1f} ms | {percentile(latencies, 0.95):.1f} ms | "
              f"{percentile(latencies, 0.99):.1f} ms | {max(latencies):.1f} ms | {others} | "
              f"{round_['server_cpu'] / len(latencies) * 1e6:,.0f} µs | "
              f"{round_['client_cpu'] / len(latencies) * 1e6:,.0f} µs | "
              f"{round_['machine_busy']:.0%} ({round_['load_average']:.1f}) | {done} |")
    if len(rounds) == 2:
        fast, base = (len(r["result"].latencies_ms) / r["result"].seconds for r in rounds)
        print(f"\nFast path / Django view throughput: {fast / base:.1f}x")
    print("\nAccounting (fast-path round, after processing):")
    for name, value in accounting.items():
        print(f"- {name}: {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--baseline-deliveries", type=int, default=3_000, help="0 to skip the Django baseline")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--baseline-concurrency", type=int, default=8,
                        help="requests in flight for the Django baseline (each holds a database connection)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--worker-concurrency", type=int, default=2,
                        help="Celery worker processes (0: no worker, acceptance only)")
    parser.add_argument("--worker-nice", type=int, default=0,
                        help="run the Celery worker at this niceness (a single box that favours intake)")
    parser.add_argument("--repeat-share", type=float, default=0.10, help="share of exact re-deliveries")
    parser.add_argument("--process-timeout", type=float, default=900)
    parser.add_argument("--redis-db", type=int, default=2, help="Redis logical database (never 0 or 1)")
    args = parser.parse_args()
    if args.redis_db in (0, 1):
        parser.error("Redis databases 0 and 1 belong to the development server and the test suite.")

    os.environ["DATABASE_URL"] = bench_database_url(BENCH_DATABASE)
    configure(args.redis_db)
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    host, schema, endpoints = _setup_tenant()
    fast = _build(endpoints, args.deliveries + args.workers * 20, 0, args.repeat_share, seed=1)
    baseline = _build(endpoints, args.baseline_deliveries + args.workers * 20, 10_000_000, args.repeat_share,
                      seed=2) if args.baseline_deliveries else []
    collisions = _identity_collisions(fast + baseline)

    worker = None
    if args.worker_concurrency:
        nice = ["nice", "-n", str(args.worker_nice)] if args.worker_nice else []
        worker = _start([*nice, sys.executable, "-m", "celery", "-A", "argus", "worker", "-Q", "default",
                         "--concurrency", str(args.worker_concurrency), "--without-mingle", "--without-gossip",
                         "--loglevel", "warning", "-n", f"bench-ingest-{os.getpid()}@%h"],
                        ROOT / ".argus" / "bench-ingest-worker.log", dict(os.environ))
    try:
        rounds = [_round("Fast path (argus.asgi:application)", "argus.asgi:application", host, schema, fast,
                         args.concurrency, args)]
        accounting = _accounting(schema, rounds[0]["all_answers"], rounds[0]["repeats"])
        if baseline:
            rounds.append(_round("Django view (argus.asgi:django_asgi_app)", "argus.asgi:django_asgi_app", host,
                                 schema, baseline, args.baseline_concurrency, args))
    finally:
        if worker is not None:
            _stop(worker)
    _report(rounds, accounting, args, collisions)


if __name__ == "__main__":
    main()
