"""HTML pages of integrations (mounted under /events/ on an organization's host)."""

from django.urls import path

from apps.integrations import views

urlpatterns = [
    path("", views.event_log, name="events_log"),
    path("dead-letters/<uuid:dead_letter_id>/replay/", views.dead_letter_replay_view, name="events_dead_letter_replay"),
]
