"""/api/v1/ operations of production_events (intake); api_urls.py joins these lists."""

urlpatterns: list = []
