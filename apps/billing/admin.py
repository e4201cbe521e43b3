from django.contrib import admin

from apps.billing.models import Plan
from apps.core.admin_sites import platform_admin_site


@admin.register(Plan, site=platform_admin_site)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "monthly_price_usd", "max_projects", "max_members", "is_public"]
    prepopulated_fields = {"code": ["name"]}
