"""Two admin sites: platform staff administer the platform on the public host, and one
organization's data on that organization's host (the schema the host selects)."""

from django.contrib.admin import AdminSite


class PlatformAdminSite(AdminSite):
    site_header = "Argus platform administration"
    site_title = "Argus platform"
    index_title = "Organizations, users and plans"


class TenantAdminSite(AdminSite):
    site_header = "Argus organization data"
    site_title = "Argus organization"
    index_title = "This organization's data"


platform_admin_site = PlatformAdminSite(name="platform_admin")
tenant_admin_site = TenantAdminSite(name="tenant_admin")
