from django.db import models

from apps.core.models import BaseModel


class Plan(BaseModel):
    """What an organization may use. Stripe prices are attached by the billing work."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    monthly_price_usd = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    max_projects = models.PositiveIntegerField(null=True, blank=True, help_text="Empty means unlimited.")
    max_members = models.PositiveIntegerField(null=True, blank=True, help_text="Empty means unlimited.")
    default_ai_daily_budget_usd = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    default_ai_monthly_budget_usd = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    features = models.JSONField(default=list, blank=True)
    is_public = models.BooleanField(default=True)

    class Meta:
        ordering = ["monthly_price_usd"]

    def __str__(self) -> str:
        return self.name
