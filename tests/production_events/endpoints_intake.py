"""API table of production_events (intake) for the isolation and role tests; endpoints.py joins the three.

The webhook intake is authenticated by the intake's secret, not by membership, so it is a public
operation here; tests/production_events/test_intake*.py cover its isolation (another organization's key
or secret is refused and nothing is stored in either organization)."""

from __future__ import annotations

from apps.production_events.intake import intake_endpoints_for
from apps.production_events.models import IntakeEndpoint, WebhookLog

ENDPOINTS: list = []
LIST_PATHS: list[str] = []
MODELS: list = [IntakeEndpoint, WebhookLog]
# The `source` kwarg shares the events table's placeholder name (one name per URL kwarg across the tables).
PLACEHOLDERS: dict[str, str] = {"source": "source", "key": "intake_key"}
PUBLIC_OPERATIONS: set[tuple[str, str]] = {("post", "/api/v1/webhooks/{source}/{intake_key}")}


def create(org, project, ids: dict[str, str]) -> dict[str, str]:
    endpoint = next(endpoint for endpoint in intake_endpoints_for(project) if endpoint.source == "generic")
    return {"intake_key": endpoint.key}
