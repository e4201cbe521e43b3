"""HTML pages of production_events (mounted under /production_events/ ... see argus/urls.py)."""

urlpatterns: list = []
