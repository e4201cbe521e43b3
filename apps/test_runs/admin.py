from django.contrib import admin, messages

from apps.core.admin_sites import tenant_admin_site
from apps.core.errors import ApplicationError
from apps.test_runs.models import Artifact, Run, Schedule, StepResult, TestResult


class TestResultInline(admin.TabularInline):
    model = TestResult
    extra = 0
    can_delete = False
    fields = ["name", "device", "status", "attempt", "duration_ms", "error_message"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Run, site=tenant_admin_site)
class RunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "status", "trigger", "passed", "failed", "errored", "total", "created_at"]
    list_filter = ["status", "kind", "trigger", "project"]
    search_fields = ["started_by_label", "error_message"]
    readonly_fields = [field.name for field in Run._meta.fields]
    inlines = [TestResultInline]
    actions = ["cancel_runs"]

    @admin.action(description="Cancel the selected runs")
    def cancel_runs(self, request, queryset):
        from apps.test_runs.services import run_cancel

        for run in queryset:
            try:
                run_cancel(run=run, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{run}: {exc.message}", messages.WARNING)


class StepResultInline(admin.TabularInline):
    model = StepResult
    extra = 0
    can_delete = False
    fields = ["attempt", "index", "action", "description", "status", "duration_ms", "error"]
    readonly_fields = fields


@admin.register(TestResult, site=tenant_admin_site)
class TestResultAdmin(admin.ModelAdmin):
    list_display = ["name", "device", "status", "run", "duration_ms", "created_at"]
    list_filter = ["status", "device"]
    search_fields = ["name", "error_message"]
    readonly_fields = [field.name for field in TestResult._meta.fields]
    inlines = [StepResultInline]


@admin.register(Artifact, site=tenant_admin_site)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "run", "size", "created_at"]
    list_filter = ["kind"]
    readonly_fields = [field.name for field in Artifact._meta.fields]


@admin.register(Schedule, site=tenant_admin_site)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "suite", "cron", "enabled", "next_run_at", "last_run_at"]
    list_filter = ["enabled", "project"]
    search_fields = ["name"]
    readonly_fields = ["next_run_at", "last_run_at", "last_run", "created_by"]
