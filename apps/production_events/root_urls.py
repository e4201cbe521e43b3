"""Paths of production_events outside /api/v1/ and the app's pages (e.g. /api/semantic-search)."""

from django.urls import path

from apps.production_events.quality_apis import SemanticSearchApi

urlpatterns = [
    path("api/semantic-search", SemanticSearchApi.as_view(), name="api-semantic-search"),
]
