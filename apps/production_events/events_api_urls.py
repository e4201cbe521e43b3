"""/api/v1/ operations of production_events (events); api_urls.py joins these lists."""

from django.urls import path

from apps.production_events.events_apis import (
    ErrorGroupDetailApi,
    ErrorGroupListApi,
    ProductionEventBulkStatusApi,
    ProductionEventDetailApi,
    ProductionEventFacetsApi,
    ProductionEventListApi,
    ProjectErrorSettingsApi,
    ProjectIntakeApi,
    ProjectIntakeRotateApi,
)

urlpatterns = [
    path("production-events", ProductionEventListApi.as_view(), name="api-production-events"),
    path("production-events/facets", ProductionEventFacetsApi.as_view(), name="api-production-events-facets"),
    path("production-events/status", ProductionEventBulkStatusApi.as_view(), name="api-production-events-status"),
    path("production-events/<uuid:event_id>", ProductionEventDetailApi.as_view(), name="api-production-event-detail"),
    path("error-groups", ErrorGroupListApi.as_view(), name="api-error-groups"),
    path("error-groups/<uuid:group_id>", ErrorGroupDetailApi.as_view(), name="api-error-group-detail"),
    path("projects/<uuid:project_id>/intake", ProjectIntakeApi.as_view(), name="api-project-intake"),
    path("projects/<uuid:project_id>/intake/<str:source>/rotate", ProjectIntakeRotateApi.as_view(),
         name="api-project-intake-rotate"),
    path("projects/<uuid:project_id>/error-settings", ProjectErrorSettingsApi.as_view(),
         name="api-project-error-settings"),
]
