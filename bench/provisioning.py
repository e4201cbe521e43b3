"""Signup provisioning time at 1, 50 and 200 existing tenants.

Measures the real service (`organization_provision`: user, organization, schema taken from
the spare pool, domain, membership, audit) against a baseline measured in the same run: the
same service with the pool empty, so the schema is built by replaying every tenant
migration (what django-tenants does by default). The pool is refilled off the clock, as the
Celery worker does after each signup.

Runs in its own database (`argus_bench`, dropped and recreated) on the checkout's
PostgreSQL, so the development data is untouched:

    .venv/bin/python bench/provisioning.py            # 200 tenants
    .venv/bin/python bench/provisioning.py --max 50   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _bench_database_url() -> str:
    import psycopg

    state = json.loads((ROOT / ".argus" / "services.json").read_text())
    port = state["postgres_port"]
    with psycopg.connect(host="127.0.0.1", port=port, user="argus", dbname="postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS argus_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE argus_bench")
    return f"postgres://argus@127.0.0.1:{port}/argus_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max", type=int, default=200, help="largest number of existing tenants")
    parser.add_argument("--samples", type=int, default=5, help="provisions timed at each checkpoint")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus.settings")
    os.environ["ARGUS_REDIS_DB"] = "2"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from tqdm import tqdm

    from apps.organizations.models import Organization, SpareSchema
    from apps.organizations.schema_pool import schema_pool_fill
    from apps.organizations.services import organization_provision

    call_command("setup_platform", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
        public_migrations = cursor.fetchone()[0]

    counter = iter(range(1_000_000))

    def provision() -> float:
        number = next(counter)
        started = time.perf_counter()
        organization_provision(
            name=f"Bench {number}", slug=f"bench-{number}", owner_email=f"owner{number}@bench.test",
            owner_password="bench-password-123",  # noqa: S106 - throwaway bench accounts
        )
        return time.perf_counter() - started

    def pooled_provision() -> float:
        schema_pool_fill(size=1)
        return provision()

    def baseline_provision() -> float:
        # Same service with no spare left: the schema is built by running every tenant migration.
        for spare in SpareSchema.objects.all():
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA "{spare.schema_name}" CASCADE')
            spare.delete()
        seconds = provision()
        Organization.objects.order_by("-created_at").first().delete(force_drop=True)
        return seconds

    checkpoints = sorted({1, 50, args.max} & set(range(1, args.max + 1)))
    rows = []
    existing = 0
    with tqdm(total=args.max, desc="tenants", unit="tenant") as bar:
        for checkpoint in checkpoints:
            while existing < checkpoint:
                pooled_provision()
                existing += 1
                bar.update(1)
            # Each sample adds a tenant; remove it again so the count stays at the checkpoint.
            pooled_times = []
            for _ in range(args.samples):
                pooled_times.append(pooled_provision())
                Organization.objects.order_by("-created_at").first().delete(force_drop=True)
            baseline_times = [baseline_provision() for _ in range(max(2, args.samples // 2))]
            rows.append({
                "tenants": checkpoint,
                "pooled_ms": statistics.median(pooled_times) * 1000,
                "baseline_ms": statistics.median(baseline_times) * 1000,
            })

    first = rows[0]["pooled_ms"]
    print(f"\nPostgreSQL {connection.pg_version // 10000}, {public_migrations} migrations recorded in public, "
          f"{args.samples} samples (median) per checkpoint")
    print("| existing tenants | provision (spare schema) | baseline (replay migrations) | "
          "spare / baseline | spare vs. at 1 tenant |")
    print("|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['tenants']} | {row['pooled_ms']:.0f} ms | {row['baseline_ms']:.0f} ms | "
              f"{row['pooled_ms'] / row['baseline_ms']:.2f} | {row['pooled_ms'] / first:.2f} |")


if __name__ == "__main__":
    main()
