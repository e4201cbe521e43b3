"""Processing cost per stored delivery: CPU (Python and PostgreSQL), queries and wall time.

What a Celery worker spends turning a stored WebhookLog into grouped events, measured in-process without
a load generator competing for the cores. Runs on its own database (`argus_bench_processing`, dropped and
recreated; the development data is untouched) and Redis db (default 3).

Each round gets its own project and the same stream of deliveries (the ingest bench's deliveries: real
fixture payloads of eight sources, varied ids and messages, 10 % re-deliveries), stored through the
intake core, then processed with `process_batch` until nothing is pending. The rounds differ only in
configuration, so their ratio is the effect of the change:

- baseline: django-tenants issues `SET search_path` before every statement (TENANT_LIMIT_SET_CALLS off);
- limited: `SET search_path` once per connection until a rollback or a tenant switch clears it (on).

A warm-up round (its own project) runs first and is not reported.

    .venv/bin/python bench/processing.py                  # 2,000 deliveries per round
    .venv/bin/python bench/processing.py --deliveries 500 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ingest  # noqa: E402 - the ingest bench builds the same deliveries
from common import bench_database_url, configure  # noqa: E402

BENCH_DATABASE = "argus_bench_processing"


@dataclass
class Round:
    label: str
    deliveries: int
    events: int
    wall_s: float
    python_cpu_s: float
    postgres_cpu_s: float
    queries: int
    set_search_path: int

    def per_delivery_ms(self, seconds: float) -> float:
        return 1000 * seconds / self.deliveries


def _backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _store_all(project, count: int, seed: int) -> int:
    """The ingest bench's deliveries for this project, stored as the intake stores them (verified,
    redacted, re-deliveries marked duplicate); not measured. Returns how many are pending."""
    from django.db import connection

    from apps.production_events.intake import (
        EndpointCredentials,
        _store,
        intake_endpoints_for,
        intake_path,
        prepare_delivery,
    )

    endpoints = {endpoint.source: endpoint for endpoint in intake_endpoints_for(project)}
    deliveries = ingest._build({source: (intake_path(endpoint), endpoint.secret)
                                for source, endpoint in endpoints.items()}, count, 1, 0.10, seed)
    ingest._sign(deliveries)
    pending = 0
    for delivery in deliveries:
        prepared = prepare_delivery(schema_name=connection.schema_name, key="bench",
                                    endpoint=EndpointCredentials.of(endpoints[delivery.source]),
                                    headers={name.lower(): value for name, value in delivery.headers.items()},
                                    body=delivery.body, query={})
        _store(prepared)
        pending += not prepared.is_duplicate
    return pending


def _process_until_done(profile: cProfile.Profile | None) -> tuple[int, int]:
    from apps.production_events.processing import process_batch

    processed = events = 0
    while True:
        if profile:
            profile.enable()
        outcome = process_batch()
        if profile:
            profile.disable()
        processed += outcome.deliveries
        events += outcome.events_created
        if outcome.deliveries == 0:
            return processed, events


def _round(label: str, organization, owner, count: int, seed: int, *, limit_set_calls: bool,
           profile: cProfile.Profile | None = None) -> Round:
    from django.db import connection
    from django.test.utils import override_settings
    from django_tenants.utils import tenant_context

    from apps.projects.services import project_create

    with tenant_context(organization):
        project = project_create(actor=owner, name=f"Bench {label}", base_url="https://shop.example.com/")
        _store_all(project, count, seed)
        counts = {"queries": 0, "set": 0}

        def count(execute, sql, params, many, context):
            counts["queries"] += 1
            counts["set"] += sql.startswith("SET search_path")
            return execute(sql, params, many, context)

        with override_settings(TENANT_LIMIT_SET_CALLS=limit_set_calls), connection.execute_wrapper(count):
            connection.set_tenant(organization)  # forget any search_path set before the switch
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
            counts["queries"] = counts["set"] = 0
            postgres_before, python_before, wall_before = (_backend_cpu_seconds(backend), time.process_time(),
                                                           time.perf_counter())
            processed, events = _process_until_done(profile)
            wall = time.perf_counter() - wall_before
            python_cpu = time.process_time() - python_before
            postgres_cpu = _backend_cpu_seconds(backend) - postgres_before
    return Round(label, processed, events, wall, python_cpu, postgres_cpu, counts["queries"], counts["set"])


def _report(rounds: list[Round], args) -> None:
    print(f"\n{args.deliveries:,} deliveries per round ({rounds[0].deliveries:,} unique, processed), "
          f"{rounds[0].events:,} events created per round\n")
    print("| round | wall per delivery | Python CPU per delivery | PostgreSQL CPU per delivery | "
          "queries per delivery | of which SET search_path |")
    print("|---|---:|---:|---:|---:|---:|")
    for item in rounds:
        print(f"| {item.label} | {item.per_delivery_ms(item.wall_s):.2f} ms | "
              f"{item.per_delivery_ms(item.python_cpu_s):.2f} ms | {item.per_delivery_ms(item.postgres_cpu_s):.2f} ms "
              f"| {item.queries / item.deliveries:.1f} | {item.set_search_path / item.deliveries:.1f} |")
    baseline, limited = rounds
    print(f"\nlimited / baseline: wall {limited.wall_s / baseline.wall_s:.2f}, "
          f"Python CPU {limited.python_cpu_s / baseline.python_cpu_s:.2f}, "
          f"PostgreSQL CPU {limited.postgres_cpu_s / baseline.postgres_cpu_s:.2f}, "
          f"queries {limited.queries / baseline.queries:.2f}")
    print(f"deliveries processed per second by one process: baseline {baseline.deliveries / baseline.wall_s:.0f}, "
          f"limited {limited.deliveries / limited.wall_s:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=2_000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--redis-db", type=int, default=3, help="Redis logical database (never 0 or 1)")
    parser.add_argument("--profile", action="store_true", help="print the top functions of the limited round")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = bench_database_url(BENCH_DATABASE)
    configure(args.redis_db)
    from django.core.management import call_command

    from apps.organizations.services import organization_provision

    call_command("setup_platform", verbosity=0)
    organization, owner = organization_provision(
        name="Processing Bench", slug="processingbench", owner_email="owner@processingbench.test",
        owner_password="bench-password-123",  # noqa: S106 - throwaway bench account
    )
    _round("warm-up", organization, owner, args.warmup, 7, limit_set_calls=False)
    profile = cProfile.Profile() if args.profile else None
    rounds = [
        _round("baseline (SET search_path per statement)", organization, owner, args.deliveries, 11,
               limit_set_calls=False),
        _round("limited (SET search_path per connection)", organization, owner, args.deliveries, 11,
               limit_set_calls=True,
               profile=profile),
    ]
    _report(rounds, args)
    if profile:
        pstats.Stats(profile).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(40)


if __name__ == "__main__":
    main()
