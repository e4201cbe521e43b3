"""API table of production_events (quality) for the isolation and role tests; endpoints.py joins the three."""

from __future__ import annotations

import datetime

from django.utils import timezone

from apps.production_events import embeddings
from apps.production_events.models import (
    DeliveryStatus,
    ErrorGroup,
    ErrorGroupDay,
    GroupingMethod,
    GroupSimilarity,
    IntakeEndpoint,
    ProductionEvent,
    Severity,
    Source,
    WebhookLog,
)
from tests.api_endpoints import DEVELOPER_WRITE, Endpoint

ENDPOINTS = [
    Endpoint("get", "/api/v1/quality/similar-errors", query={"project": "{project}", "group": "{similar_a}"}),
    Endpoint("get", "/api/v1/quality/backfill-index", query={"project": "{project}"}),
    Endpoint("post", "/api/v1/quality/backfill-index", {"project": "{project}"}, roles=(403, 202, 202)),
    Endpoint("get", "/api/v1/error-groups/{group}/similar"),
    Endpoint("get", "/api/v1/group-similarities"),
    Endpoint("post", "/api/v1/group-similarities/{similarity}/merge", roles=DEVELOPER_WRITE),
    Endpoint("post", "/api/v1/group-similarities/{similarity}/dismiss", roles=DEVELOPER_WRITE),
    Endpoint("get", "/api/v1/webhook-deliveries"),
    Endpoint("get", "/api/v1/webhook-deliveries/{delivery}"),
    Endpoint("post", "/api/v1/webhook-deliveries/{delivery}/reprocess", roles=DEVELOPER_WRITE),
]
# Covered by tests/production_events/test_quality_api.py (the generic list test reads rows through its own
# table of paths in tests/test_isolation.py `_rows_of`).
LIST_MODELS = {"/api/v1/group-similarities": GroupSimilarity, "/api/v1/webhook-deliveries": WebhookLog}
LIST_PATHS = list(LIST_MODELS)
MODELS = [ErrorGroup, ErrorGroupDay, GroupSimilarity, ProductionEvent, WebhookLog]
PLACEHOLDERS = {"group_id": "group", "similarity_id": "similarity", "webhook_delivery_id": "delivery"}
PUBLIC_OPERATIONS: set[tuple[str, str]] = set()

FRAMES = ["shop/cart.js:addToCart", "shop/cart.js:updateTotals"]


def _group(project, name: str, message: str, now) -> ErrorGroup:
    group = ErrorGroup.objects.create(
        project=project, fingerprint=f"quality-{name}-{project.pk.hex[:12]}", grouping_method=GroupingMethod.STACK,
        title=f"TypeError: {message}", exception_type="TypeError", normalized_message=message,
        in_app_frames=FRAMES, severity=Severity.ERROR, event_count=1, occurrence_count=2, affected_users=1,
        first_seen=now - datetime.timedelta(days=1), last_seen=now, url_path="/cart")
    group.embedding = embeddings.embed_group(group)
    group.save(update_fields=["embedding"])
    ProductionEvent.objects.create(
        project=project, group=group, source=Source.GENERIC, external_id=f"quality-{name}", event_type="error",
        title=group.title, message=message, exception_type="TypeError", fingerprint=group.fingerprint,
        occurrence_count=2, affected_users=1, first_seen=group.first_seen, last_seen=now)
    ErrorGroupDay.objects.create(group=group, day=now.date(), occurrences=2)
    return group


def create(org, project, ids: dict[str, str]) -> dict[str, str]:
    """Two near-duplicate groups with a proposal between them, and a failed delivery."""
    now = timezone.now()
    first = _group(project, "a", "cart is undefined", now)
    second = _group(project, "b", "cart is not defined", now)
    similarity = GroupSimilarity.objects.create(
        project=project, group=second, similar_group=first, score=0.95, shared_frames=FRAMES,
        explanation="Similarity 0.95; same exception type TypeError.")
    endpoint = IntakeEndpoint.objects.filter(project=project, source=Source.GENERIC).first()
    if endpoint is None:
        endpoint = IntakeEndpoint.objects.create(project=project, source=Source.GENERIC,
                                                 key=f"q{project.pk.hex[:24]}", secret="quality-table-secret")
    delivery = WebhookLog.objects.create(
        endpoint=endpoint, project=project, source=Source.GENERIC, delivery_id=f"quality-{project.pk.hex[:8]}",
        event_kind="error", payload={"error": {"message": "broken"}}, body_sha256="0" * 64, size=30,
        received_at=now, status=DeliveryStatus.FAILED, reason="NormalizationError: no id", attempts=1)
    made = {"similar_a": str(first.pk), "similar_b": str(second.pk), "similarity": str(similarity.pk),
            "delivery": str(delivery.pk)}
    if "group" not in ids:
        made["group"] = str(first.pk)
    return made
