from django.contrib import admin

from apps.core.admin_sites import tenant_admin_site
from apps.generated_tests.models import Suite, SuiteTest, Test, TestVersion


class TestVersionInline(admin.TabularInline):
    model = TestVersion
    extra = 0
    can_delete = False
    fields = ["number", "name", "change_note", "created_at"]
    readonly_fields = fields


@admin.register(Test, site=tenant_admin_site)
class TestAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "status", "origin", "version", "updated_at"]
    list_filter = ["status", "origin", "project"]
    search_fields = ["name", "description"]
    # Steps change through the editor or the API, which validate them and keep the version history.
    readonly_fields = ["definition", "version", "created_by"]
    inlines = [TestVersionInline]


class SuiteTestInline(admin.TabularInline):
    model = SuiteTest
    extra = 0
    autocomplete_fields = ["test"]


@admin.register(Suite, site=tenant_admin_site)
class SuiteAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "default_environment", "updated_at"]
    list_filter = ["project"]
    search_fields = ["name"]
    inlines = [SuiteTestInline]
