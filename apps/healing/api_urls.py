"""/api/v1/ operations of healing; argus/api_urls.py appends these patterns to its flat list."""

from django.urls import path

from apps.healing.apis import (
    HealAcceptApi,
    HealDetailApi,
    HealingAccuracyApi,
    HealingPatternListApi,
    HealingSettingsApi,
    HealListApi,
    HealRejectApi,
)

urlpatterns: list = [
    path("healing/heals", HealListApi.as_view(), name="api-healing-heals"),
    path("healing/heals/<uuid:heal_id>", HealDetailApi.as_view(), name="api-healing-heal-detail"),
    path("healing/heals/<uuid:heal_id>/accept", HealAcceptApi.as_view(), name="api-healing-heal-accept"),
    path("healing/heals/<uuid:heal_id>/reject", HealRejectApi.as_view(), name="api-healing-heal-reject"),
    path("healing/patterns", HealingPatternListApi.as_view(), name="api-healing-patterns"),
    path("healing/projects/<uuid:project_id>/settings", HealingSettingsApi.as_view(), name="api-healing-settings"),
    path("healing/accuracy", HealingAccuracyApi.as_view(), name="api-healing-accuracy"),
]
