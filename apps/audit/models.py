from django.conf import settings
from django.db import models

from apps.core.models import BaseModel


class AuditEntry(BaseModel):
    """One write, by whom, from where, with the fields it changed. Append-only."""

    # Users live in the public schema and this table in each tenant's: no database constraint
    # and DO_NOTHING, so deleting a user never makes Django look for this table in public.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True,
                              related_name="+", db_constraint=False)
    # Kept as text so the trail still reads right after the user is deleted.
    actor_email = models.CharField(max_length=254, blank=True)
    api_key_prefix = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_email or 'system'} {self.action} {self.object_type} {self.object_repr}"
