"""Error pages, mounted at /errors/ on an organization's host (argus/urls.py)."""

from django.urls import path

from apps.production_events import views

urlpatterns = [
    path("", views.event_list_view, name="errors_event_list"),
    path("events/status/", views.event_bulk_status_view, name="errors_event_bulk_status"),
    path("events/<uuid:event_id>/", views.event_detail, name="errors_event_detail"),
    path("events/<uuid:event_id>/status/", views.event_status_view, name="errors_event_status"),
    path("groups/", views.group_list_view, name="errors_group_list"),
    path("groups/<uuid:group_id>/", views.group_detail, name="errors_group_detail"),
    path("similarities/<uuid:similarity_id>/merge/", views.similarity_merge_view, name="errors_similarity_merge"),
    path("similarities/<uuid:similarity_id>/dismiss/", views.similarity_dismiss_view,
         name="errors_similarity_dismiss"),
    path("intake/", views.intake_index, name="errors_intake_index"),
    path("intake/<uuid:project_id>/", views.intake_settings, name="errors_intake"),
    path("intake/<uuid:project_id>/<str:source>/rotate/", views.intake_rotate_view, name="errors_intake_rotate"),
    path("intake/<uuid:project_id>/reprocess/", views.deliveries_reprocess_view, name="errors_deliveries_reprocess"),
    path("intake/<uuid:project_id>/settings/", views.error_settings_view, name="errors_settings_update"),
]
