"""/api/v1/ operations of production_events (events); api_urls.py joins these lists."""

urlpatterns: list = []
