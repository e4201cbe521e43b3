"""Paths of production_events outside /api/v1/ and the app's pages (e.g. /api/semantic-search)."""

urlpatterns: list = []
