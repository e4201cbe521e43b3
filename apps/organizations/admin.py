from django.contrib import admin

from apps.core.admin_sites import platform_admin_site
from apps.organizations.models import Domain, Invitation, Membership, Organization


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization, site=platform_admin_site)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "schema_name", "plan", "ai_opt_out", "created_at"]
    list_filter = ["plan", "ai_opt_out"]
    search_fields = ["name", "slug"]
    # The schema name is fixed at creation: renaming it would orphan the tenant's data.
    readonly_fields = ["schema_name", "created_at", "ai_daily_spend_usd", "ai_monthly_spend_usd"]
    inlines = [DomainInline, MembershipInline]

    def has_add_permission(self, request) -> bool:
        # Organizations are provisioned by signup (schema cloned, admin member); see README.
        return False


@admin.register(Membership, site=platform_admin_site)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__email", "organization__name"]


@admin.register(Invitation, site=platform_admin_site)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "status", "expires_at", "accepted_at"]
    list_filter = ["organization", "role"]
    search_fields = ["email"]
    exclude = ["token_hash"]
