"""URLs of the public site (the bare ARGUS_BASE_DOMAIN): signup, login, platform admin."""

from django.urls import include, path

from apps.core.admin_sites import platform_admin_site

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"

urlpatterns = [
    path("admin/", platform_admin_site.urls),
    path("", include("apps.accounts.urls_public")),
    path("", include("apps.organizations.urls_public")),
]
