"""HTML pages of risk_scores (mounted under /risk_scores/ ... see argus/urls.py)."""

urlpatterns: list = []
