"""Models of healing: the per-project policy, the heals the engine made during runs, and the healing
patterns it remembers (a fingerprint whose locators broke, and the selector that found it again)."""

from django.conf import settings
from django.db import models

from apps.core.models import BaseModel

DEFAULT_AUTO_APPLY_MIN_CONFIDENCE = 0.90


class HealingMode(models.TextChoices):
    AUTO_APPLY = "auto_apply", "Apply confident heals automatically"
    REVIEW = "review", "Queue every heal for review"
    OFF = "off", "Off (broken locators fail)"


class HealingSettings(BaseModel):
    """A project's healing policy; a project without a row uses the defaults (review, no AI)."""

    project = models.OneToOneField("projects.Project", on_delete=models.CASCADE, related_name="healing_settings")
    mode = models.CharField(max_length=16, choices=HealingMode.choices, default=HealingMode.REVIEW)
    # Heals at least this sure are written into the test as a new version in auto_apply mode.
    auto_apply_min_confidence = models.FloatField(default=DEFAULT_AUTO_APPLY_MIN_CONFIDENCE)
    allow_ai = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "healing settings"

    def __str__(self) -> str:
        return f"Healing of {self.project}"


class HealErrorType(models.TextChoices):
    NOT_FOUND = "not_found", "No element found"
    SEVERAL = "several", "Several elements, none like the baseline"
    HIDDEN = "hidden", "Element hidden"
    DISABLED = "disabled", "Element disabled"


class HealingPattern(BaseModel):
    """A heal worth trying first next time: when the element with this fingerprint is lost by these
    locators, this selector found it. Confidence follows its track record."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="healing_patterns")
    fingerprint_key = models.CharField(max_length=64)
    fingerprint = models.JSONField(default=dict, blank=True)
    # The broken locators as text ("test_id=add-to-cart, css=#add").
    original_locators = models.CharField(max_length=1000)
    healed_selector = models.CharField(max_length=1000)
    error_type = models.CharField(max_length=16, choices=HealErrorType.choices, default=HealErrorType.NOT_FOUND)
    success_count = models.PositiveIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_used_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "fingerprint_key", "original_locators", "healed_selector"],
                                    name="healing_pattern_unique"),
        ]
        indexes = [models.Index(fields=["project", "fingerprint_key"])]

    def __str__(self) -> str:
        return f"{self.original_locators} → {self.healed_selector}"

    @property
    def confidence(self) -> float:
        # Laplace's rule of succession: a new pattern starts at 0.5 and earns trust one run at a time.
        return (self.success_count + 1) / (self.success_count + self.failure_count + 2)


class HealSource(models.TextChoices):
    PATTERN = "pattern", "Known pattern"
    HEALER = "healer", "Fingerprint scoring"


class HealStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    PENDING_REVIEW = "pending_review", "Pending review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    REFUSED = "refused", "Refused"
    # The healed element was used but the step's own check did not pass.
    FAILED = "failed", "Failed"


REVIEWABLE_STATUSES = frozenset({HealStatus.PENDING_REVIEW})


class Heal(BaseModel):
    """One healing decision of a run: the step whose locators broke, what replaced them and how sure
    the engine was (or why it refused)."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="heals")
    test = models.ForeignKey("generated_tests.Test", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="heals")
    test_version = models.PositiveIntegerField(null=True, blank=True)
    run = models.ForeignKey("test_runs.Run", on_delete=models.CASCADE, related_name="heals")
    result = models.ForeignKey("test_runs.TestResult", on_delete=models.CASCADE, related_name="heals")
    step_result = models.OneToOneField("test_runs.StepResult", on_delete=models.CASCADE, related_name="heal")
    step_index = models.PositiveIntegerField()
    action = models.CharField(max_length=32)
    original_locators = models.JSONField(default=list, blank=True)
    original_text = models.CharField(max_length=1000, blank=True)
    healed_selector = models.CharField(max_length=1000, blank=True)
    # The healed element's fingerprint: written into the test's target when the heal is applied.
    fingerprint = models.JSONField(null=True, blank=True)
    fingerprint_key = models.CharField(max_length=64, blank=True)
    confidence = models.FloatField(default=0)
    runner_up = models.JSONField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    candidates = models.PositiveIntegerField(default=0)
    duration_ms = models.FloatField(default=0)
    error_type = models.CharField(max_length=16, choices=HealErrorType.choices)
    source = models.CharField(max_length=16, choices=HealSource.choices, default=HealSource.HEALER)
    screenshot = models.ForeignKey("test_runs.Artifact", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    status = models.CharField(max_length=16, choices=HealStatus.choices, db_index=True)
    pattern = models.ForeignKey(HealingPattern, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="heals")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True,
                                    related_name="+", db_constraint=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # The test version the heal created when it was applied or accepted.
    applied_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "status"])]

    def __str__(self) -> str:
        return f"{self.original_text} → {self.healed_selector or '(refused)'}"
