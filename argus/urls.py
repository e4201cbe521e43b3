"""URLs of an organization's host (<slug>.<ARGUS_BASE_DOMAIN>)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from apps.core.admin_sites import tenant_admin_site

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"

urlpatterns = [
    path("api/v1/", include("argus.api_urls")),
    # The schema describes the API; reading it needs no credentials, like any published API reference.
    path("api/schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
         name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", authentication_classes=[],
                                                          permission_classes=[]), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", authentication_classes=[],
                                                    permission_classes=[]), name="redoc"),
    path("admin/", tenant_admin_site.urls),
    path("", include("apps.accounts.urls")),
    path("", include("apps.organizations.urls")),
    path("projects/", include("apps.projects.urls")),
    path("audit/", include("apps.audit.urls")),
]
