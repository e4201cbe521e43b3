"""/api/v1/ operations of healing; argus/api_urls.py appends these patterns to its flat list."""

urlpatterns: list = []
