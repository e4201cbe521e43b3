"""Risk pages, mounted at /risk/ on an organization's host."""

from django.urls import path

from apps.risk_scores import views

urlpatterns = [
    path("", views.risk_dashboard, name="risk_dashboard"),
    path("recalculate/", views.risk_recalculate, name="risk_recalculate"),
    path("coverage-gaps/", views.risk_coverage_gaps, name="risk_coverage_gaps"),
]
