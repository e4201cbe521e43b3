"""/api/v1/ operations of production_events; argus/api_urls.py appends these patterns to its flat list."""

urlpatterns: list = []
