"""HTML pages of healing (mounted under /healing/ ... see argus/urls.py)."""

urlpatterns: list = []
