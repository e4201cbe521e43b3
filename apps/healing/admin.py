from django.contrib import admin

from apps.core.admin_sites import tenant_admin_site
from apps.healing.models import Heal, HealingPattern, HealingSettings


@admin.register(HealingSettings, site=tenant_admin_site)
class HealingSettingsAdmin(admin.ModelAdmin):
    list_display = ["project", "mode", "auto_apply_min_confidence", "allow_ai", "updated_at"]
    list_filter = ["mode", "allow_ai"]


@admin.register(HealingPattern, site=tenant_admin_site)
class HealingPatternAdmin(admin.ModelAdmin):
    list_display = ["original_locators", "healed_selector", "project", "error_type", "success_count", "failure_count",
                    "pattern_confidence", "last_used_at"]
    list_filter = ["project", "error_type"]
    search_fields = ["original_locators", "healed_selector", "fingerprint_key"]
    readonly_fields = ["fingerprint_key", "fingerprint", "created_at", "updated_at"]

    @admin.display(description="Confidence")
    def pattern_confidence(self, pattern: HealingPattern) -> str:
        return f"{pattern.confidence:.2f}"


@admin.register(Heal, site=tenant_admin_site)
class HealAdmin(admin.ModelAdmin):
    # Heals are the record of what runs did: reviews go through the healing page or the API (audited).
    list_display = ["__str__", "project", "test", "status", "confidence", "error_type", "source", "created_at"]
    list_filter = ["status", "error_type", "source", "project"]
    search_fields = ["original_text", "healed_selector", "reason"]
    readonly_fields = [field.name for field in Heal._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
