"""The one place the environment is read.

Every default needs nothing: with no variable set, the database and Redis are the
embedded ones that `python -m argus.devstack up` started for this checkout.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
_SERVICES_FILE = BASE_DIR / ".argus" / "services.json"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _embedded_port(key: str) -> int:
    try:
        return int(json.loads(_SERVICES_FILE.read_text())[key])
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise ImproperlyConfigured(
            "No DATABASE_URL / REDIS_URL is set and the embedded services are not set up: "
            "run `make run` (or `.venv/bin/python -m argus.devstack up`) first."
        ) from exc


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or (
        f"postgres://argus@127.0.0.1:{_embedded_port('postgres_port')}/argus"
    )


def redis_url() -> str:
    # ARGUS_REDIS_DB lets the test suite use its own logical database next to a running dev server.
    database = env_int("ARGUS_REDIS_DB", 0)
    return os.environ.get("REDIS_URL") or (
        f"redis://127.0.0.1:{_embedded_port('redis_port')}/{database}"
    )
