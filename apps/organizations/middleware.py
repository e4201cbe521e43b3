from __future__ import annotations

from django.conf import settings
from django.utils.functional import SimpleLazyObject
from django_tenants.middleware.main import TenantMainMiddleware

from apps.organizations.models import Membership


def membership_for(user, tenant) -> Membership | None:
    if tenant is None or not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, organization_id=tenant.pk).first()


class MembershipMiddleware:
    """`request.membership`: the signed-in user's membership in this host's organization, or None."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        request.membership = SimpleLazyObject(lambda: membership_for(request.user, tenant))
        return self.get_response(request)


class TenantHostMiddleware(TenantMainMiddleware):
    """Selects the schema by host: a known organization domain, else the public site on the
    bare base domain (which has no Domain row of its own), else 404."""

    def no_tenant_found(self, request, hostname):
        if hostname in (settings.ARGUS_BASE_DOMAIN, "127.0.0.1"):
            self.setup_url_routing(request=request, force_public=True)
            return None
        return super().no_tenant_found(request, hostname)
