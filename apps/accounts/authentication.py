"""API authentication on tenant hosts. Either way, `request.auth` becomes an AccessContext:
the organization's membership and the role the request may act with."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db import connection
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apps.accounts.models import ApiKey, ApiKeyScope
from apps.accounts.services import api_key_find_active, api_key_touch
from apps.core.context import current_request_context, set_request_context
from apps.organizations.models import ROLE_RANK, Membership, Role

# The most an API key scope allows; the key never exceeds its creator's current role either.
SCOPE_ROLE = {ApiKeyScope.READ: Role.VIEWER, ApiKeyScope.WRITE: Role.DEVELOPER, ApiKeyScope.ADMIN: Role.ADMIN}


@dataclass(frozen=True)
class AccessContext:
    membership: Membership
    role: str
    api_key: ApiKey | None = None

    def has_role(self, minimum: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(minimum)]


def _current_tenant(request):
    tenant = getattr(request._request, "tenant", None)
    if tenant is None or connection.schema_name == "public":
        return None
    return tenant


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed("Use the header `Authorization: Bearer <API key>`.")
        tenant = _current_tenant(request)
        api_key = api_key_find_active(raw=parts[1])
        # A key works on its own organization's host only; anywhere else it is simply invalid.
        if api_key is None or tenant is None or api_key.organization_id != tenant.pk:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        membership = Membership.objects.filter(user=api_key.created_by, organization_id=tenant.pk).first()
        if membership is None or not api_key.created_by.is_active:
            raise exceptions.AuthenticationFailed("The API key's creator is no longer a member.")
        key_role = max((SCOPE_ROLE[ApiKeyScope(scope)] for scope in api_key.scopes), key=ROLE_RANK.__getitem__)
        role = min(key_role, Role(membership.role), key=ROLE_RANK.__getitem__)
        api_key_touch(api_key=api_key)
        set_request_context(replace(current_request_context(), api_key_prefix=api_key.prefix))
        return api_key.created_by, AccessContext(membership=membership, role=role, api_key=api_key)

    def authenticate_header(self, request) -> str:
        return self.keyword


class TenantSessionAuthentication(authentication.SessionAuthentication):
    """The web UI's session, valid only for members of this host's organization."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        tenant = _current_tenant(request)
        membership = (
            Membership.objects.filter(user=user, organization_id=tenant.pk).first() if tenant else None
        )
        if membership is None:
            return None
        return user, AccessContext(membership=membership, role=membership.role)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "argus_<prefix>_<secret>"}


class TenantSessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.TenantSessionAuthentication"
    name = "Session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
