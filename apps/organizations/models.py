from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists

from apps.core.models import BaseModel


class Organization(TenantMixin):
    """The tenant: one PostgreSQL schema holds everything the organization tests."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=40, unique=True)
    plan = models.ForeignKey("billing.Plan", on_delete=models.PROTECT, related_name="organizations")
    features = models.JSONField(default=list, blank=True)
    ai_daily_budget_usd = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    ai_monthly_budget_usd = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    ai_daily_spend_usd = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    ai_monthly_spend_usd = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    ai_opt_out = models.BooleanField(default=False, help_text="No AI model is ever called for this organization.")
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Take a ready, migrated schema from the spare pool (an O(1) rename), else build one.

        Cloning a template looked cheaper but its catalog queries slow down as tenants grow
        (3.7x slower at 200 tenants, bench/RESULTS.md); a rename costs the same at any count.
        """
        if sync_schema and not (check_if_exists and schema_exists(self.schema_name)):
            spare = SpareSchema.objects.select_for_update(skip_locked=True).order_by("created_at").first()
            if spare is not None:
                with connection.cursor() as cursor:
                    cursor.execute(f'ALTER SCHEMA "{spare.schema_name}" RENAME TO "{self.schema_name}"')
                spare.delete()
                return True
        return super().create_schema(check_if_exists, sync_schema, verbosity)


class SpareSchema(models.Model):
    """A tenant schema created and migrated ahead of signup, waiting to be renamed for a new
    organization. Filled by `setup_platform` and, after each signup, by a Celery task."""

    schema_name = models.CharField(max_length=63, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.schema_name


class Domain(DomainMixin):
    pass


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    DEVELOPER = "developer", "Developer"
    VIEWER = "viewer", "Viewer"


# Roles are ordered: each includes what the ones below it may do.
ROLE_RANK = {Role.VIEWER: 1, Role.DEVELOPER: 2, Role.ADMIN: 3}


class Membership(BaseModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_organization"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    def has_role(self, minimum: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(minimum)]


class Invitation(BaseModel):
    """An e-mailed link to join. Only the token's SHA-256 is stored."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.DEVELOPER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_pending_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
