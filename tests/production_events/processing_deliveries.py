"""Deliveries as intake stores them (WebhookLog rows, pending), for the processing, grouping and similarity
tests: the processing half is tested on its own, from the stored row on."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.utils import timezone

from apps.production_events.models import DeliveryStatus, IntakeEndpoint, WebhookLog
from apps.projects.services import project_create


def make_project(org, name: str = "Shop"):
    return project_create(actor=org.admin, name=f"{name} {uuid.uuid4().hex[:6]}", base_url="https://shop.example.com/")


def stored_delivery(project, source: str, payload: dict[str, Any], *, headers: dict[str, str] | None = None,
                    delivery_id: str | None = None, duplicate: bool = False) -> WebhookLog:
    endpoint = IntakeEndpoint.objects.filter(project=project, source=source).first()
    if endpoint is None:
        endpoint = IntakeEndpoint.objects.create(project=project, source=source, key=uuid.uuid4().hex,
                                                 secret=uuid.uuid4().hex)
    return WebhookLog.objects.create(
        endpoint=endpoint, project=project, source=source, delivery_id=delivery_id or uuid.uuid4().hex,
        is_duplicate=duplicate, headers=headers or {}, payload=payload, body_sha256="0" * 64,
        size=len(json.dumps(payload)), received_at=timezone.now(),
        status=DeliveryStatus.DUPLICATE if duplicate else DeliveryStatus.PENDING)


def generic_error(issue_id: str, *, message: str = "cart is undefined", exception_type: str = "TypeError",
                  frames: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """A delivery of the generic JSON shape (apps/production_events/normalizers/generic.py)."""
    payload: dict[str, Any] = {
        "id": f"evt-{uuid.uuid4().hex}", "issue_id": issue_id, "level": "error",
        "title": f"{exception_type}: {message}", "message": message,
        "exception": {"type": exception_type, "value": message, "frames": frames or []},
        "url": "https://shop.example.com/cart", "timestamp": timezone.now().isoformat(),
    }
    payload.update(extra)
    return payload


def frame(filename: str, function: str, lineno: int = 10, *, in_app: bool = True) -> dict[str, Any]:
    return {"filename": filename, "function": function, "lineno": lineno, "colno": 3, "in_app": in_app}
