"""Run pages (mounted at /runs/) and schedule pages (`schedule_urlpatterns`, mounted at /schedules/)."""

from django.urls import path

from apps.test_runs import views

urlpatterns = [
    path("", views.run_list_view, name="run_list"),
    path("command/", views.run_command_create_view, name="run_command_create"),
    path("junit/", views.run_junit_upload_view, name="run_junit_upload"),
    path("artifacts/<uuid:artifact_id>/", views.artifact_content, name="artifact_content"),
    path("<uuid:run_id>/", views.run_detail, name="run_detail"),
    path("<uuid:run_id>/row/", views.run_row, name="run_row"),
    path("<uuid:run_id>/cancel/", views.run_cancel_view, name="run_cancel"),
    path("<uuid:run_id>/rerun-failed/", views.run_rerun_failed_view, name="run_rerun_failed"),
    path("<uuid:run_id>/report.html", views.run_report_html, name="run_report_html"),
    path("<uuid:run_id>/report.md", views.run_report_markdown, name="run_report_markdown"),
    path("<uuid:run_id>/junit.xml", views.run_report_junit, name="run_report_junit"),
]

schedule_urlpatterns = [
    path("", views.schedule_list_view, name="schedule_list"),
    path("new/", views.schedule_create_view, name="schedule_create"),
    path("<uuid:schedule_id>/edit/", views.schedule_update_view, name="schedule_update"),
    path("<uuid:schedule_id>/delete/", views.schedule_delete_view, name="schedule_delete"),
    path("<uuid:schedule_id>/toggle/", views.schedule_toggle_view, name="schedule_toggle"),
]
