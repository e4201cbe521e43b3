"""The API table of integrations for the isolation and role tests (see APP_TABLES in tests/api_endpoints.py).

Import tests.api_endpoints before this module: that module loads this one while it is being built.
"""

from __future__ import annotations

from apps.integrations.dispatch import MAX_RETRIES
from apps.integrations.events import emit
from apps.integrations.models import DeadLetter, OutboxDelivery, OutboxEvent, OutboxStatus
from tests.api_endpoints import ADMIN_ONLY, Endpoint

ENDPOINTS = [
    Endpoint("get", "/api/v1/events"),
    Endpoint("get", "/api/v1/events/{outbox_event}"),
    Endpoint("get", "/api/v1/dead-letters"),
    Endpoint("post", "/api/v1/dead-letters/{dead_letter}/replay", roles=ADMIN_ONLY),
]
# Event and dead-letter lists are checked by tests/integrations/test_events_api.py.
LIST_PATHS: list[str] = []
MODELS = [OutboxEvent, OutboxDelivery, DeadLetter]
PLACEHOLDERS = {"outbox_event_id": "outbox_event", "dead_letter_id": "dead_letter"}
PUBLIC_OPERATIONS: set[tuple[str, str]] = set()


def dead_event(project, *, subscriber: str = "webhook", error: str = "ConnectionError: refused") -> DeadLetter:
    """A run.finished event whose `subscriber` failed every retry, and its dead letter."""
    event = emit("run.finished", {"project": project.pk, "status": "passed"}, source="tests")
    event.status, event.attempts, event.last_error = OutboxStatus.DEAD, MAX_RETRIES + 1, f"{subscriber}: {error}"
    event.save(update_fields=["status", "attempts", "last_error"])
    return DeadLetter.objects.create(event=event, subscriber=subscriber, error=error, retry_count=MAX_RETRIES)


def create(org, project, ids: dict[str, str]) -> dict[str, str]:
    """A dead letter (the replay target); its event is the one the detail endpoint names."""
    letter = dead_event(project)
    return {"outbox_event": str(letter.event.event_id), "dead_letter": str(letter.pk)}
