from django.contrib import admin, messages

from apps.core.admin_sites import tenant_admin_site
from apps.risk_scores.models import RiskScore, RiskSnapshot
from apps.risk_scores.services import recalculate_project_risk


@admin.register(RiskScore, site=tenant_admin_site)
class RiskScoreAdmin(admin.ModelAdmin):
    list_display = ["entity", "entity_type", "project", "score", "trend", "has_approved_test", "calculated_at"]
    list_filter = ["entity_type", "trend", "has_approved_test", "project"]
    search_fields = ["entity"]
    ordering = ["-score"]
    actions = ["recalculate"]
    # Derived data: recalculation writes it, people read it.
    readonly_fields = [field.name for field in RiskScore._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Recalculate the projects of the selected scores")
    def recalculate(self, request, queryset):
        projects = {score.project for score in queryset.select_related("project")}
        total = sum(len(recalculate_project_risk(project, actor=request.user)) for project in projects)
        self.message_user(request, f"{len(projects)} project(s) recalculated, {total} entities scored.",
                          messages.SUCCESS)


@admin.register(RiskSnapshot, site=tenant_admin_site)
class RiskSnapshotAdmin(admin.ModelAdmin):
    list_display = ["entity", "entity_type", "project", "day", "score"]
    list_filter = ["entity_type", "project"]
    search_fields = ["entity"]
    date_hierarchy = "day"
    readonly_fields = [field.name for field in RiskSnapshot._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
