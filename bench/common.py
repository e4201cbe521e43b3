"""What every bench shares: its own throwaway database on the development PostgreSQL, Django set up in
production mode over plain HTTP (as the test suite runs the server), percentiles and free ports."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_database_url(name: str) -> str:
    """`name` dropped and created again (the development data is untouched), with the extensions the
    migrations expect; its URL."""
    import psycopg

    port = json.loads((ROOT / ".argus" / "services.json").read_text())["postgres_port"]
    with psycopg.connect(host="127.0.0.1", port=port, user="argus", dbname="postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(host="127.0.0.1", port=port, user="argus", dbname=name, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    return f"postgres://argus@127.0.0.1:{port}/{name}"


def configure(redis_db: int) -> None:
    os.environ.update({"DEBUG": "0", "ARGUS_HTTPS": "0", "SECRET_KEY": "argus-bench-only",
                       "ARGUS_REDIS_DB": str(redis_db)})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus.settings")

    import django

    django.setup()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
