"""/api/v1/ operations of production_events (quality); api_urls.py joins these lists."""

urlpatterns: list = []
