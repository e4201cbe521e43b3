"""Test pages (mounted at /tests/) and suite pages (`suite_urlpatterns`, mounted at /suites/)."""

from django.urls import path

from apps.generated_tests import views

urlpatterns = [
    path("", views.test_list_view, name="test_list"),
    path("new/", views.test_create_view, name="test_create"),
    path("import/", views.test_import_view, name="test_import"),
    path("<uuid:test_id>/", views.test_detail, name="test_detail"),
    path("<uuid:test_id>/edit/", views.test_update_view, name="test_update"),
    path("<uuid:test_id>/status/", views.test_status_view, name="test_status"),
    path("<uuid:test_id>/delete/", views.test_delete_view, name="test_delete"),
    path("<uuid:test_id>/run/", views.test_run_view, name="test_run"),
    path("<uuid:test_id>/history/", views.test_history, name="test_history"),
    path("<uuid:test_id>/versions/<int:number>/", views.test_version_detail, name="test_version"),
    path("<uuid:test_id>/versions/<int:number>/restore/", views.test_version_restore, name="test_version_restore"),
    path("<uuid:test_id>/export/", views.test_export, name="test_export"),
]

suite_urlpatterns = [
    path("", views.suite_list_view, name="suite_list"),
    path("new/", views.suite_create_view, name="suite_create"),
    path("<uuid:suite_id>/", views.suite_detail, name="suite_detail"),
    path("<uuid:suite_id>/edit/", views.suite_update_view, name="suite_update"),
    path("<uuid:suite_id>/run/", views.suite_run_view, name="suite_run"),
    path("<uuid:suite_id>/delete/", views.suite_delete_view, name="suite_delete"),
]
