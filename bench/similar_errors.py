"""Similar-error query latency at 100,000 stored events in one tenant.

Builds its own database (`argus_bench_similar`, dropped and recreated; the development data is untouched),
one organization with one project, and bulk-inserts error groups (with their embeddings, computed by the
production embedding) and their events: by default 20,000 groups × 5 events = 100,000 events. That is
setup, not measured. Then it times the selector the API uses (`similarity.similar_groups`, pgvector HNSW
with cosine distance) for 250 group queries and 50 free-text queries, and the HTTP API
(`GET /api/v1/quality/similar-errors` through uvicorn, with an API key) for a handful.

    .venv/bin/python bench/similar_errors.py                   # 20,000 groups, 100,000 events
    .venv/bin/python bench/similar_errors.py --groups 5000 --events-per-group 4
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import bench_database_url, configure, free_port, percentile  # noqa: E402 - bench/ is on the path

BENCH_DATABASE = "argus_bench_similar"

EXCEPTIONS = ["TypeError", "ReferenceError", "ValueError", "KeyError", "ZeroDivisionError", "OperationalError",
              "IntegrityError", "TimeoutError", "NetworkError", "ChunkLoadError", "ValidationError", "PaymentError",
              "PermissionDenied", "NotFound", "AttributeError", "RangeError", "SyntaxError", "IndexError",
              "ConnectionResetError", "JSONDecodeError"]
AREAS = ["cart", "checkout", "catalog", "search", "profile", "orders", "refunds", "auth", "signup", "settings",
         "reports", "inventory", "coupons", "shipping", "payments", "reviews", "wishlist", "admin", "billing", "api"]
NOUNS = ["item", "order", "user", "price", "total", "session", "token", "address", "coupon", "product", "review",
         "invoice", "stock", "image", "query", "page", "form", "field", "card", "charge"]
VERBS = ["load", "render", "update", "fetch", "save", "validate", "apply", "compute", "parse", "submit", "delete",
         "open", "close", "sync", "refresh", "export", "import", "reserve", "cancel", "retry"]
TEMPLATES = [
    "Cannot read properties of undefined (reading '{noun}')", "{noun} is not defined", "{noun} {n} not found",
    "Invalid {noun}: expected a number, got '{word}'", "Timeout after {n} ms while calling {area} service",
    "duplicate key value violates unique constraint \"{area}_{noun}_key\"", "Failed to fetch /api/{area}/{n}",
    "{noun} must not be empty", "Permission denied for {noun} {n}", "division by zero in {verb}_{noun}",
    "Unexpected token < in JSON at position {n}", "Loading chunk {n} failed", "list index out of range",
    "'{noun}_id'", "Maximum call stack size exceeded in {verb}{Noun}",
]










def _error(rng: random.Random) -> dict:
    area, noun, verb = rng.choice(AREAS), rng.choice(NOUNS), rng.choice(VERBS)
    message = rng.choice(TEMPLATES).format(noun=noun, Noun=noun.title(), verb=verb, area=area, n=rng.randint(1, 999),
                                           word=rng.choice(NOUNS))
    depth = rng.randint(1, 4)
    frames = [f"src/{area}/{rng.choice(NOUNS)}.js:{rng.choice(VERBS)}{rng.choice(NOUNS).title()}"
              for _ in range(depth)]
    return {"exception_type": rng.choice(EXCEPTIONS), "message": message, "frames": frames,
            "url_path": f"/{area}/{rng.choice(['', ':id', 'list', 'edit'])}".rstrip("/"),
            "component": f"{area.title()}{rng.choice(NOUNS).title()}" if rng.random() < 0.5 else ""}


def _populate(project, groups: int, events_per_group: int, seed: int) -> tuple[list, float]:
    """Bulk-insert the groups (with embeddings) and their events. Returns (group ids, seconds)."""
    from django.db import connection, transaction

    from apps.production_events.embeddings import ErrorFeatures, embed
    from apps.production_events.grouping import normalize_message
    from apps.production_events.models import ErrorGroup, GroupingMethod, ProductionEvent, Source

    rng = random.Random(seed)
    started = time.perf_counter()
    now = datetime.now(UTC)
    group_ids = []
    chunk = 2000
    for offset in range(0, groups, chunk):
        rows, events = [], []
        for index in range(offset, min(groups, offset + chunk)):
            error = _error(rng)
            normalized = normalize_message(error["message"])
            vector = embed(ErrorFeatures(exception_type=error["exception_type"], message=normalized,
                                         frames=error["frames"], url_path=error["url_path"],
                                         component=error["component"]))
            seen = now - timedelta(minutes=rng.randint(0, 60 * 24 * 30))
            rows.append(ErrorGroup(
                project=project, fingerprint=f"{index:064x}", grouping_method=GroupingMethod.STACK,
                title=f"{error['exception_type']}: {error['message']}"[:300], exception_type=error["exception_type"],
                normalized_message=normalized, in_app_frames=error["frames"], event_count=events_per_group,
                occurrence_count=events_per_group, affected_users=rng.randint(0, 50), first_seen=seen, last_seen=seen,
                url_path=error["url_path"], component=error["component"], embedding=vector))
        with transaction.atomic():
            ErrorGroup.objects.bulk_create(rows, batch_size=500)
            for group in rows:
                group_ids.append(group.pk)
                for number in range(events_per_group):
                    events.append(ProductionEvent(
                        project=project, group=group, source=Source.GENERIC,
                        external_id=f"{group.fingerprint[-12:]}-{number}", event_type="error", title=group.title,
                        message=group.normalized_message, exception_type=group.exception_type,
                        fingerprint=group.fingerprint, url_path=group.url_path, component=group.component,
                        first_seen=group.first_seen, last_seen=group.last_seen))
            ProductionEvent.objects.bulk_create(events, batch_size=5000)
        print(f"  {min(groups, offset + chunk)}/{groups} groups", file=sys.stderr, flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return group_ids, time.perf_counter() - started


def _time_selector(project, group_ids: list, queries: int, text_queries: int, seed: int) -> dict:
    from apps.production_events.models import ErrorGroup
    from apps.production_events.similarity import similar_groups

    rng = random.Random(seed + 1)
    picked = ErrorGroup.objects.filter(pk__in=rng.sample(group_ids, queries))
    by_group, by_text, result_sizes = [], [], []
    for group in picked:
        started = time.perf_counter()
        results = similar_groups(project, group=group, limit=10)
        by_group.append((time.perf_counter() - started) * 1000)
        result_sizes.append(len(results))
    for _ in range(text_queries):
        error = _error(rng)
        text = f"{error['exception_type']} {error['message']} {error['frames'][-1]}"
        started = time.perf_counter()
        similar_groups(project, text=text, limit=10)
        by_text.append((time.perf_counter() - started) * 1000)
    return {"group": by_group, "text": by_text, "min_results": min(result_sizes)}


def _time_http(host: str, key: str, project_id: str, group_ids: list, requests: int, port: int) -> list[float]:
    timings = []
    for group_id in group_ids[:requests]:
        url = f"http://127.0.0.1:{port}/api/v1/quality/similar-errors?project={project_id}&group={group_id}&limit=10"
        request = urllib.request.Request(url, headers={"Host": host, "Authorization": f"Bearer {key}"})  # noqa: S310
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local server
            body = json.loads(response.read())
        timings.append((time.perf_counter() - started) * 1000)
        assert len(body["results"]) == 10, body
    return timings


def _start_server(port: int, log_path: Path) -> subprocess.Popen:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "argus.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"], cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):  # noqa: S310 - local
                return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log_path.read_text()[-3000:]}") from None
            time.sleep(0.2)


def _summary(name: str, values: list[float]) -> str:
    return (f"| {name} | {len(values)} | {statistics.median(values):.1f} | {percentile(values, 0.95):.1f} | "
            f"{percentile(values, 0.99):.1f} | {max(values):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=20_000)
    parser.add_argument("--events-per-group", type=int, default=5)
    parser.add_argument("--queries", type=int, default=250)
    parser.add_argument("--text-queries", type=int, default=50)
    parser.add_argument("--http-requests", type=int, default=20)
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = bench_database_url(BENCH_DATABASE)
    configure(args.redis_db)
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from apps.accounts.services import api_key_create
    from apps.organizations.services import organization_provision
    from apps.organizations.urls_helpers import tenant_host
    from apps.production_events.models import ProductionEvent
    from apps.projects.services import project_create

    call_command("setup_platform", verbosity=0)
    organization, owner = organization_provision(
        name="Similar Bench", slug="simbench", owner_email="owner@simbench.test",
        owner_password="bench-password-123",  # noqa: S106 - throwaway bench account
    )
    with tenant_context(organization):
        project = project_create(actor=owner, name="Bench shop", base_url="http://127.0.0.1:9/")
        _, key = api_key_create(organization=organization, actor=owner, name="bench", scopes=["read"])
        group_ids, setup_seconds = _populate(project, args.groups, args.events_per_group, args.seed)
        events = ProductionEvent.objects.count()
        selector = _time_selector(project, group_ids, args.queries, args.text_queries, args.seed)

    print(f"\n{events:,} events in {len(group_ids):,} groups (one tenant, one project); setup "
          f"{setup_seconds:.0f} s (bulk insert with embeddings, not measured below)\n")
    print("| query | n | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    print(_summary("selector, like a group (limit 10)", selector["group"]))
    print(_summary("selector, free text (limit 10)", selector["text"]), flush=True)

    port = free_port()
    log_path = ROOT / ".argus" / "bench-similar-server.log"
    server = _start_server(port, log_path)
    try:
        random.Random(args.seed + 2).shuffle(group_ids)
        _time_http(tenant_host(organization.slug), key, str(project.pk), group_ids, 3, port)  # warm-up
        http = _time_http(tenant_host(organization.slug), key, str(project.pk), group_ids[3:], args.http_requests,
                          port)
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(_summary("HTTP GET /api/v1/quality/similar-errors", http))
    print(f"\nevery group query returned at least {selector['min_results']} results")

if __name__ == "__main__":
    main()
