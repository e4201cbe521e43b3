"""Role checks for the API. Authentication puts an `AccessContext` in `request.auth`."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.organizations.models import Role


def _access(request):
    return getattr(request, "auth", None)


class IsMember(BasePermission):
    """Any role may read; writes need the view's `write_role` (developer unless it says otherwise)."""

    write_role = Role.DEVELOPER

    def has_permission(self, request, view) -> bool:
        access = _access(request)
        if access is None or not hasattr(access, "has_role"):
            return False
        if request.method in SAFE_METHODS:
            return access.has_role(Role.VIEWER)
        return access.has_role(getattr(view, "write_role", self.write_role))


class IsAdmin(BasePermission):
    def has_permission(self, request, view) -> bool:
        access = _access(request)
        return access is not None and hasattr(access, "has_role") and access.has_role(Role.ADMIN)
