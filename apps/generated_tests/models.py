from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from apps.core.models import BaseModel
from apps.projects.models import EnvironmentName


class TestOrigin(models.TextChoices):
    MANUAL = "manual", "Manual"
    GENERATED = "generated", "Generated"
    RECORDED = "recorded", "Recorded"
    DISCOVERED = "discovered", "Discovered"


class TestStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_REVIEW = "pending_review", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    ARCHIVED = "archived", "Archived"


class Test(BaseModel):
    """A browser test: a steps-DSL definition (apps.generated_tests.dsl) with its version history."""

    __test__ = False  # not a pytest class

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="tests")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    origin = models.CharField(max_length=16, choices=TestOrigin.choices, default=TestOrigin.MANUAL)
    status = models.CharField(max_length=16, choices=TestStatus.choices, default=TestStatus.DRAFT, db_index=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    # The current steps document; every change is also kept as a TestVersion.
    definition = models.JSONField()
    version = models.PositiveIntegerField(default=1)
    # Users live in the public schema: no database constraint (see apps.audit.models).
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True,
                                   related_name="+", db_constraint=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="test_name_unique_per_project")]

    def __str__(self) -> str:
        return self.name

    @property
    def step_count(self) -> int:
        return len(self.definition.get("steps", []))


class TestVersion(BaseModel):
    """An immutable snapshot of a test's definition; runs record which version they executed."""

    __test__ = False

    test = models.ForeignKey(Test, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    definition = models.JSONField()
    change_note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True,
                                   related_name="+", db_constraint=False)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["test", "number"], name="test_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.test} v{self.number}"


class Suite(BaseModel):
    """An ordered set of tests with the environment and devices a run uses by default."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="suites")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    default_environment = models.CharField(max_length=16, choices=EnvironmentName.choices, blank=True)
    # Device preset slugs (apps.test_runs.devices).
    default_devices = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    tests = models.ManyToManyField(Test, through="SuiteTest", related_name="suites")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="suite_name_unique_per_project")]

    def __str__(self) -> str:
        return self.name

    def ordered_tests(self) -> models.QuerySet[Test]:
        return self.tests.order_by("suitetest__position")


class SuiteTest(BaseModel):
    suite = models.ForeignKey(Suite, on_delete=models.CASCADE)
    test = models.ForeignKey(Test, on_delete=models.CASCADE)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["suite", "test"], name="suite_test_once")]
