from django.conf import settings
from django.db import connection

from apps.organizations.urls_helpers import public_url


def tenant(request) -> dict:
    on_tenant_host = connection.schema_name != "public"
    membership = getattr(request, "membership", None) if on_tenant_host else None
    return {
        "organization": getattr(request, "tenant", None) if on_tenant_host else None,
        "membership": membership or None,
        "public_site_url": public_url("/"),
        "base_domain": settings.ARGUS_BASE_DOMAIN,
    }
