from django.core.validators import RegexValidator
from django.db import models

from apps.core.models import BaseModel


class Project(BaseModel):
    """An application under test."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    base_url = models.URLField(max_length=500)
    description = models.TextField(blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class EnvironmentName(models.TextChoices):
    DEVELOPMENT = "dev", "Development"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


class Environment(BaseModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="environments")
    name = models.CharField(max_length=16, choices=EnvironmentName.choices)
    url = models.URLField(max_length=500)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="environment_unique_per_project"),
        ]

    def __str__(self) -> str:
        return f"{self.project} / {self.name}"


class EnvironmentVariable(BaseModel):
    """A value a test reads as `{{ env.NAME }}`. Secret values are never returned by the API or
    shown in traces, reports or logs: the engine masks them wherever they would appear."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(max_length=64, validators=[RegexValidator(r"^[A-Z_][A-Z0-9_]*$",
                            "Use upper-case letters, digits and underscores, not starting with a digit.")])
    value = models.TextField(blank=True)
    is_secret = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "name"], name="variable_unique_per_environment"),
        ]

    def __str__(self) -> str:
        return f"{self.environment} / {self.name}"
