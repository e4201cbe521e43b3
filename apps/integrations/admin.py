from django.contrib import admin

from apps.core.admin_sites import tenant_admin_site
from apps.integrations.models import DeadLetter, OutboxEvent


@admin.register(OutboxEvent, site=tenant_admin_site)
class OutboxEventAdmin(admin.ModelAdmin):
    # The outbox is a record of what happened: replays go through the events page or the API (audited).
    list_display = ["event_type", "event_id", "status", "attempts", "source", "timestamp", "dispatched_at"]
    list_filter = ["event_type", "status", "source"]
    search_fields = ["event_id", "correlation_id"]
    readonly_fields = [field.name for field in OutboxEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(DeadLetter, site=tenant_admin_site)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["event", "subscriber", "retry_count", "created_at", "replayed_at"]
    list_filter = ["subscriber"]
    readonly_fields = [field.name for field in DeadLetter._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
