"""URLs of an organization's host (<slug>.<ARGUS_BASE_DOMAIN>)."""

from django.conf import settings
from django.urls import include, path
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from apps.core.admin_sites import tenant_admin_site
from apps.generated_tests.urls import suite_urlpatterns
from apps.test_runs.urls import schedule_urlpatterns

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"



def _docs_page(view_class):
    view = view_class.as_view(url_name="schema", authentication_classes=[], permission_classes=[])

    def docs(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = settings.API_DOCS_CONTENT_SECURITY_POLICY
        return response

    return require_safe(docs)


urlpatterns = [
    path("api/v1/", include("argus.api_urls")),
    path("", include("apps.production_events.root_urls")),
    # The schema describes the API; reading it needs no credentials, like any published API reference.
    path("api/schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
         name="schema"),
    path("api/docs/", _docs_page(SpectacularSwaggerSplitView), name="swagger-ui"),
    path("api/redoc/", _docs_page(SpectacularRedocView), name="redoc"),
    path("admin/", tenant_admin_site.urls),
    path("", include("apps.accounts.urls")),
    path("", include("apps.organizations.urls")),
    path("projects/", include("apps.projects.urls")),
    path("audit/", include("apps.audit.urls")),
    path("tests/", include("apps.generated_tests.urls")),
    path("suites/", include(suite_urlpatterns)),
    path("runs/", include("apps.test_runs.urls")),
    path("schedules/", include(schedule_urlpatterns)),
    path("errors/", include("apps.production_events.urls")),
    path("risk/", include("apps.risk_scores.urls")),
    path("healing/", include("apps.healing.urls")),
    path("events/", include("apps.integrations.urls")),
]
