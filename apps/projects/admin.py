from django.contrib import admin

from apps.core.admin_sites import tenant_admin_site
from apps.projects.models import Environment, Project


class EnvironmentInline(admin.TabularInline):
    model = Environment
    extra = 0


@admin.register(Project, site=tenant_admin_site)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "base_url", "archived_at", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [EnvironmentInline]
