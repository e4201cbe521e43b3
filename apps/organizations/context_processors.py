from django.conf import settings

from apps.organizations.urls_helpers import public_url


def tenant(request) -> dict:
    # request.tenant, not the connection's schema: under ASGI, error pages render in another
    # thread whose connection was never switched to the tenant.
    organization = getattr(request, "tenant", None)
    membership = getattr(request, "membership", None) if organization is not None else None
    return {
        "organization": organization,
        "membership": membership or None,
        "public_site_url": public_url("/"),
        "base_domain": settings.ARGUS_BASE_DOMAIN,
    }
