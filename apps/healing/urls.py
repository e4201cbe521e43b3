"""HTML pages of healing (mounted under /healing/ on an organization's host)."""

from django.urls import path

from apps.healing import views

urlpatterns = [
    path("", views.healing_dashboard, name="healing_dashboard"),
    path("heals/<uuid:heal_id>/accept/", views.heal_accept_view, name="healing_heal_accept"),
    path("heals/<uuid:heal_id>/reject/", views.heal_reject_view, name="healing_heal_reject"),
    path("projects/<uuid:project_id>/settings/", views.healing_settings_view, name="healing_settings"),
]
