"""Production error intake: where trackers deliver (IntakeEndpoint), what they delivered (WebhookLog,
stored before any processing), the errors it described (ProductionEvent) and how errors group
(ErrorGroup, daily counts, similarity proposals).

Redaction happens before anything is stored: WebhookLog.payload is the delivery with secrets removed
(apps.production_events.redaction), so neither the raw log nor the events nor the index hold a secret.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from pgvector.django import HnswIndex, VectorField

from apps.core.models import BaseModel

# Size of the local error embedding (apps.production_events.embeddings); the HNSW index depends on it.
EMBEDDING_DIMENSIONS = 256


class Source(models.TextChoices):
    SENTRY = "sentry", "Sentry"
    DATADOG = "datadog", "Datadog"
    BUGSNAG = "bugsnag", "Bugsnag"
    ROLLBAR = "rollbar", "Rollbar"
    NEWRELIC = "newrelic", "New Relic"
    LOGROCKET = "logrocket", "LogRocket"
    FULLSTORY = "fullstory", "FullStory"
    GENERIC = "generic", "Generic JSON"


class IntakeEndpoint(BaseModel):
    """Where one source delivers for one project: /api/v1/webhooks/<source>/<key> on the tenant host.

    `key` only routes (it is in the URL the tracker shows); `secret` authenticates, as the vendor does
    it: HMAC key for Sentry, FullStory and generic, shared token (header, basic auth or URL token) for the
    others. After a rotation the previous secret keeps working until `previous_secret_expires_at`, so a
    team can update the tracker without losing deliveries.
    """

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="intake_endpoints")
    source = models.CharField(max_length=16, choices=Source.choices)
    key = models.CharField(max_length=32, unique=True)
    secret = models.CharField(max_length=128)
    previous_secret = models.CharField(max_length=128, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    rotated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True,
                                   related_name="+", db_constraint=False)
    last_delivery_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "source"]
        constraints = [models.UniqueConstraint(fields=["project", "source"], name="intake_one_per_project_source")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} → {self.project}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class WebhookLog(BaseModel):
    """One accepted delivery, written before processing so nothing a tracker sends is lost.

    `delivery_id` is the vendor's id for the delivery when it has a stable one, else a hash of the body;
    a repeated id is stored again (is_duplicate, status duplicate) and never processed twice: the partial
    unique constraint lets only the first one in.
    """

    endpoint = models.ForeignKey(IntakeEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="webhook_logs")
    source = models.CharField(max_length=16, choices=Source.choices)
    delivery_id = models.CharField(max_length=200)
    is_duplicate = models.BooleanField(default=False)
    event_kind = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    payload = models.JSONField()
    body_sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    received_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # Why it was ignored, or the processing error.
    reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    events_created = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "delivery_id"], condition=models.Q(is_duplicate=False),
                                    name="webhooklog_first_delivery_once"),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="webhooklog_status_received")]

    def __str__(self) -> str:
        return f"{self.source} {self.delivery_id}"


class Severity(models.TextChoices):
    FATAL = "fatal", "Fatal"
    ERROR = "error", "Error"
    WARNING = "warning", "Warning"
    INFO = "info", "Info"


class GroupingMethod(models.TextChoices):
    TRACKER = "tracker", "Tracker fingerprint"
    STACK = "stack", "In-app stack frames"
    MESSAGE = "message", "Exception type and message"


class ErrorGroup(BaseModel):
    """One production error as the team sees it: every event with the same fingerprint, across sources."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="error_groups")
    fingerprint = models.CharField(max_length=64)
    grouping_method = models.CharField(max_length=16, choices=GroupingMethod.choices)
    title = models.CharField(max_length=300)
    exception_type = models.CharField(max_length=200, blank=True)
    normalized_message = models.TextField(blank=True)
    # The normalized in-app frames ("module:function") the stack hash was built from.
    in_app_frames = models.JSONField(default=list, blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.ERROR)
    event_count = models.PositiveIntegerField(default=0)
    occurrence_count = models.PositiveBigIntegerField(default=0)
    affected_users = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    # Where it happens, for risk: the most frequent page path / component / API endpoint of its events.
    url_path = models.CharField(max_length=500, blank=True)
    component = models.CharField(max_length=200, blank=True)
    api_endpoint = models.CharField(max_length=300, blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    # Set when this group was merged into another (its events moved there); kept for explanations.
    merged_into = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged")

    class Meta:
        ordering = ["-last_seen"]
        constraints = [models.UniqueConstraint(fields=["project", "fingerprint"], name="errorgroup_fingerprint")]
        indexes = [
            HnswIndex(name="errorgroup_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                      opclasses=["vector_cosine_ops"]),
        ]

    def __str__(self) -> str:
        return self.title


class ErrorGroupDay(models.Model):
    """Occurrences of a group per day: the trend line and the risk trend read these."""

    group = models.ForeignKey(ErrorGroup, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    occurrences = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "day"], name="errorgroupday_once")]

    def __str__(self) -> str:
        return f"{self.day}: {self.occurrences}"


class SimilarityStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    MERGED = "merged", "Merged"
    DISMISSED = "dismissed", "Dismissed"


class GroupSimilarity(BaseModel):
    """A near-duplicate pair found by the embedding index, with what explains it."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="group_similarities")
    group = models.ForeignKey(ErrorGroup, on_delete=models.CASCADE, related_name="similar_to")
    similar_group = models.ForeignKey(ErrorGroup, on_delete=models.CASCADE, related_name="similar_from")
    score = models.FloatField()
    shared_frames = models.JSONField(default=list, blank=True)
    explanation = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=SimilarityStatus.choices, default=SimilarityStatus.PROPOSED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True,
                                   related_name="+", db_constraint=False)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score"]
        constraints = [models.UniqueConstraint(fields=["group", "similar_group"], name="groupsimilarity_pair")]

    def __str__(self) -> str:
        return f"{self.group} ~ {self.similar_group} ({self.score:.2f})"


class EventStatus(models.TextChoices):
    NEW = "new", "New"
    TRIAGED = "triaged", "Triaged"
    TEST_GENERATED = "test_generated", "Test generated"
    RESOLVED = "resolved", "Resolved"
    IGNORED = "ignored", "Ignored"


class ProductionEvent(BaseModel):
    """An error as one tracker reported it (one tracker issue / alert), updated as more deliveries come."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="production_events")
    group = models.ForeignKey(ErrorGroup, on_delete=models.CASCADE, related_name="events")
    # The delivery that last updated it.
    delivery = models.ForeignKey(WebhookLog, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    source = models.CharField(max_length=16, choices=Source.choices)
    external_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=100)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.ERROR, db_index=True)
    title = models.CharField(max_length=300)
    message = models.TextField(blank=True)
    exception_type = models.CharField(max_length=200, blank=True)
    # Frames, innermost last: [{"filename", "function", "module", "lineno", "colno", "in_app", "context_line"}].
    stack_trace = models.JSONField(default=list, blank=True)
    # The tracker's own grouping key, when it sends one.
    tracker_fingerprint = models.CharField(max_length=300, blank=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    url = models.URLField(max_length=2000, blank=True)
    url_path = models.CharField(max_length=500, blank=True, db_index=True)
    component = models.CharField(max_length=200, blank=True, db_index=True)
    api_endpoint = models.CharField(max_length=300, blank=True, db_index=True)
    occurrence_count = models.PositiveBigIntegerField(default=1)
    affected_users = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    release = models.CharField(max_length=200, blank=True)
    environment = models.CharField(max_length=100, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    # What the user did before the error (Sentry breadcrumbs, FullStory / LogRocket session events):
    # [{"timestamp", "category", "type", "message", "url", "selector", "data"}], kept for test generation.
    trail = models.JSONField(default=list, blank=True)
    session_url = models.URLField(max_length=2000, blank=True)
    link = models.URLField(max_length=2000, blank=True)
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.NEW, db_index=True)
    status_changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True,
                                          blank=True, related_name="+", db_constraint=False)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["project", "source", "external_id"], name="productionevent_external_once"),
        ]

    def __str__(self) -> str:
        return self.title


class ErrorSettings(BaseModel):
    """Per-project grouping policy: near-duplicates above the threshold are proposed, or merged when
    auto_merge is on."""

    project = models.OneToOneField("projects.Project", on_delete=models.CASCADE, related_name="error_settings")
    similarity_threshold = models.FloatField(default=0.92)
    auto_merge = models.BooleanField(default=False)
