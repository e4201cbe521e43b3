"""/api/v1/ operations of risk_scores; argus/api_urls.py appends these patterns to its flat list."""

urlpatterns: list = []
