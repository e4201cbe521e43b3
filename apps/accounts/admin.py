from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.accounts.models import ApiKey, User
from apps.core.admin_sites import platform_admin_site


@admin.register(User, site=platform_admin_site)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(ApiKey, site=platform_admin_site)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "organization", "created_by", "scopes", "last_used_at", "revoked_at"]
    list_filter = ["organization"]
    search_fields = ["name", "prefix", "created_by__email"]
    # The hash is useless to a person and the secret is never stored: nothing here can reveal a key.
    exclude = ["key_hash"]
    readonly_fields = ["prefix", "organization", "created_by", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        return False
