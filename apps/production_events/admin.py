import json

from django.contrib import admin, messages
from django.utils.html import format_html

from apps.core.admin_sites import tenant_admin_site
from apps.core.errors import ApplicationError
from apps.production_events.intake import intake_endpoint_rotate
from apps.production_events.models import (
    ErrorGroup,
    ErrorSettings,
    EventStatus,
    GroupSimilarity,
    IntakeEndpoint,
    ProductionEvent,
    WebhookLog,
)
from apps.production_events.processing import deliveries_reprocess
from apps.production_events.services import events_status_change


@admin.register(IntakeEndpoint, site=tenant_admin_site)
class IntakeEndpointAdmin(admin.ModelAdmin):
    list_display = ["project", "source", "enabled", "last_delivery_at", "rotated_at"]
    list_filter = ["source", "enabled", "project"]
    # The secrets stay out of the admin: the intake settings page shows them to admins, with a copy button.
    exclude = ["secret", "previous_secret"]
    readonly_fields = ["project", "source", "key", "previous_secret_expires_at", "rotated_at", "rotated_by",
                       "last_delivery_at"]
    actions = ["rotate_secrets"]

    def has_add_permission(self, request) -> bool:
        return False  # created per project and source by the intake (intake.intake_endpoints_for)

    @admin.action(description="Rotate the secret (the old one works 24 more hours)")
    def rotate_secrets(self, request, queryset):
        for endpoint in queryset:
            intake_endpoint_rotate(endpoint, actor=request.user)
        self.message_user(request, f"Rotated {queryset.count()} secret(s).", messages.SUCCESS)


@admin.register(WebhookLog, site=tenant_admin_site)
class WebhookLogAdmin(admin.ModelAdmin):
    list_display = ["received_at", "source", "project", "event_kind", "status", "is_duplicate", "events_created",
                    "attempts"]
    list_filter = ["status", "source", "is_duplicate", "project"]
    search_fields = ["delivery_id", "reason", "event_kind"]
    exclude = ["payload", "headers"]
    readonly_fields = [*(field.name for field in WebhookLog._meta.fields if field.name not in ("payload", "headers")),
                       "payload_pretty", "headers_pretty"]
    actions = ["reprocess"]

    def get_queryset(self, request):
        # The list never needs the payloads; the change page reads them through the pretty fields.
        queryset = super().get_queryset(request).select_related("project")
        return queryset if request.resolver_match.url_name.endswith("_change") else queryset.defer("payload")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="Payload (secrets redacted at intake)")
    def payload_pretty(self, log: WebhookLog) -> str:
        return format_html("<pre>{}</pre>", json.dumps(log.payload, indent=2, sort_keys=True, ensure_ascii=False))

    @admin.display(description="Headers")
    def headers_pretty(self, log: WebhookLog) -> str:
        return format_html("<pre>{}</pre>", json.dumps(log.headers, indent=2, sort_keys=True, ensure_ascii=False))

    @admin.action(description="Reprocess (failed or ignored deliveries)")
    def reprocess(self, request, queryset):
        count = deliveries_reprocess(queryset, actor=request.user)
        self.message_user(request, f"{count} deliver{'ies' if count != 1 else 'y'} queued for processing again; "
                                   "others were left as they are.", messages.SUCCESS if count else messages.WARNING)


def _status_action(status: str):
    def change(modeladmin, request, queryset):
        try:
            result = events_status_change(list(queryset.values_list("pk", flat=True)), status=status,
                                          actor=request.user)
        except ApplicationError as exc:
            modeladmin.message_user(request, exc.message, messages.ERROR)
            return
        modeladmin.message_user(request, f"{len(result.changed)} set to {EventStatus(status).label.lower()}, "
                                         f"{len(result.skipped)} left as they were.", messages.SUCCESS)

    change.__name__ = f"mark_{status}"
    change.short_description = f"Mark as {EventStatus(status).label.lower()}" if status != EventStatus.NEW \
        else "Reopen (mark as new)"
    return change


@admin.register(ProductionEvent, site=tenant_admin_site)
class ProductionEventAdmin(admin.ModelAdmin):
    list_display = ["title", "source", "severity", "status", "occurrence_count", "affected_users", "last_seen"]
    list_filter = ["status", "severity", "source", "project"]
    search_fields = ["title", "message", "exception_type", "external_id", "url_path", "component"]
    # Status changes go through the workflow (the actions below), never by editing the field.
    readonly_fields = [field.name for field in ProductionEvent._meta.fields]
    actions = [_status_action(status) for status in EventStatus.values]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ErrorGroup, site=tenant_admin_site)
class ErrorGroupAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "grouping_method", "severity", "event_count", "occurrence_count", "last_seen"]
    list_filter = ["grouping_method", "severity", "project"]
    search_fields = ["title", "fingerprint", "exception_type"]
    exclude = ["embedding"]
    readonly_fields = [field.name for field in ErrorGroup._meta.fields if field.name != "embedding"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(GroupSimilarity, site=tenant_admin_site)
class GroupSimilarityAdmin(admin.ModelAdmin):
    list_display = ["group", "similar_group", "score", "status", "decided_at"]
    list_filter = ["status", "project"]
    readonly_fields = [field.name for field in GroupSimilarity._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ErrorSettings, site=tenant_admin_site)
class ErrorSettingsAdmin(admin.ModelAdmin):
    list_display = ["project", "similarity_threshold", "auto_merge", "updated_at"]
    # Changed on the intake settings page or the API (error_settings_update), which audit it.
    readonly_fields = ["project", "similarity_threshold", "auto_merge"]

    def has_add_permission(self, request) -> bool:
        return False
