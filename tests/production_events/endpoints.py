"""The API table of production_events: intake, events and quality operations, each kept by its own module."""

from __future__ import annotations

from tests.production_events import endpoints_events, endpoints_intake, endpoints_quality

TABLES = [endpoints_intake, endpoints_events, endpoints_quality]

ENDPOINTS = [endpoint for table in TABLES for endpoint in table.ENDPOINTS]
LIST_PATHS = [path for table in TABLES for path in table.LIST_PATHS]
LIST_MODELS = {path: model for table in TABLES for path, model in getattr(table, "LIST_MODELS", {}).items()}
MODELS = list(dict.fromkeys(model for table in TABLES for model in table.MODELS))
PLACEHOLDERS = {kwarg: name for table in TABLES for kwarg, name in table.PLACEHOLDERS.items()}
PUBLIC_OPERATIONS = {operation for table in TABLES for operation in table.PUBLIC_OPERATIONS}


def create(org, project, ids: dict[str, str]) -> dict[str, str]:
    """Each table's objects, in order: later tables may use the ids the earlier ones made."""
    for table in TABLES:
        ids = {**ids, **table.create(org, project, ids)}
    return ids
