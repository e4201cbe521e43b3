"""Risk of a project's entities (pages, components, API endpoints), computed from production errors, tests and
test results by apps.risk_scores.scoring, and the daily history the trend chart draws."""

from __future__ import annotations

from django.db import models

from apps.core.models import BaseModel


class EntityType(models.TextChoices):
    PAGE = "page", "Page"
    COMPONENT = "component", "Component"
    API_ENDPOINT = "api_endpoint", "API endpoint"


class RiskTrend(models.TextChoices):
    IMPROVING = "improving", "Improving"
    STABLE = "stable", "Stable"
    DEGRADING = "degrading", "Degrading"


class RiskScore(BaseModel):
    """The current risk of one entity. `factors` explains it: their contributions add up to `score`.

    `entity` is the key: a page path ("/orders/:id"), a component name or "METHOD /path".
    """

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="risk_scores")
    entity_type = models.CharField(max_length=16, choices=EntityType.choices)
    entity = models.CharField(max_length=500)
    score = models.FloatField(db_index=True)
    # [{"name", "label", "value", "weight", "contribution", "explanation"}], in a fixed order.
    factors = models.JSONField(default=list)
    trend = models.CharField(max_length=16, choices=RiskTrend.choices, default=RiskTrend.STABLE)
    groups_count = models.PositiveIntegerField(default=0)
    events_count = models.PositiveIntegerField(default=0)
    occurrences = models.PositiveBigIntegerField(default=0)
    affected_users = models.PositiveIntegerField(default=0)
    has_approved_test = models.BooleanField(default=False)
    calculated_at = models.DateTimeField()

    class Meta:
        ordering = ["-score", "entity_type", "entity"]
        constraints = [
            models.UniqueConstraint(fields=["project", "entity_type", "entity"], name="riskscore_one_per_entity"),
        ]
        indexes = [models.Index(fields=["project", "-score"], name="riskscore_project_score")]

    def __str__(self) -> str:
        return f"{self.get_entity_type_display()} {self.entity}: {self.score:g}"


class RiskSnapshot(models.Model):
    """An entity's score on one day (the last recalculation of that day wins), for the history chart.

    One row per entity and day, pruned after ARGUS_RISK_HISTORY_DAYS, so the table stays bounded however
    often risk is recalculated.
    """

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="risk_snapshots")
    entity_type = models.CharField(max_length=16, choices=EntityType.choices)
    entity = models.CharField(max_length=500)
    day = models.DateField()
    score = models.FloatField()
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["project", "entity_type", "entity", "day"], name="risksnapshot_daily"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.day}: {self.score:g}"
