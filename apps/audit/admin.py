from django.contrib import admin

from apps.audit.models import AuditEntry
from apps.core.admin_sites import tenant_admin_site


@admin.register(AuditEntry, site=tenant_admin_site)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_email", "action", "object_type", "object_repr", "ip_address"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_email", "object_repr", "object_id"]

    # The trail is append-only, here as everywhere.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
