"""API table of production_events (events) for the isolation and role tests; endpoints.py joins the three."""

from __future__ import annotations

ENDPOINTS: list = []
LIST_PATHS: list[str] = []
MODELS: list = []
PLACEHOLDERS: dict[str, str] = {}
PUBLIC_OPERATIONS: set[tuple[str, str]] = set()


def create(org, project, ids: dict[str, str]) -> dict[str, str]:
    return {}
