"""The domain-event outbox (ARCHITECTURE.md, "Events"): an event row is written in the transaction of the
change it describes, then a Celery task delivers it to every subscriber. A delivery row per (event,
subscriber) makes delivery idempotent; an event whose retries are exhausted leaves dead letters to replay."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.models import BaseModel


class EventType(models.TextChoices):
    CODEBASE_INGESTED = "codebase.ingested", "Codebase ingested"
    CODEBASE_ANALYZED = "codebase.analyzed", "Codebase analyzed"
    TEST_CREATED = "test.created", "Test created"
    TEST_EXECUTED = "test.executed", "Test executed"
    TEST_FAILED = "test.failed", "Test failed"
    HEALING_REQUESTED = "healing.requested", "Healing requested"
    HEALING_COMPLETED = "healing.completed", "Healing completed"
    PRODUCTION_EVENT_RECEIVED = "production_event.received", "Production event received"
    RUN_FINISHED = "run.finished", "Run finished"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DISPATCHED = "dispatched", "Dispatched"
    DEAD = "dead", "Dead"


class OutboxEvent(BaseModel):
    """One domain event in the envelope every subscriber sees."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=64, choices=EventType.choices, db_index=True)
    timestamp = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=100, help_text="The app (or process) that emitted the event.")
    tenant = models.CharField(max_length=63, help_text="Schema name of the organization the event belongs to.")
    correlation_id = models.CharField(max_length=200, blank=True, db_index=True)
    payload = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Failed delivery rounds so far.")
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The dispatcher's claim: pending events that are due, oldest first.
            models.Index(fields=["next_attempt_at"], name="outbox_pending_due",
                         condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class OutboxDelivery(BaseModel):
    """`subscriber` got `event`: a retry or a replay skips it."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "subscriber"], name="outbox_delivery_once")]

    def __str__(self) -> str:
        return f"{self.subscriber} ← {self.event_id}"


class DeadLetter(BaseModel):
    """A subscriber that still failed after the last retry; replaying puts the event back to pending."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="dead_letters")
    subscriber = models.CharField(max_length=100)
    error = models.TextField()
    retry_count = models.PositiveIntegerField()
    replayed_at = models.DateTimeField(null=True, blank=True)
    # Users live in the public schema: no database constraint and DO_NOTHING (see apps.audit.models).
    replayed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True,
                                    related_name="+", db_constraint=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subscriber}: {self.event}"
