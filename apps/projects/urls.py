"""Project pages, mounted at /projects/ on an organization's host."""

from django.urls import path

from apps.projects import views

urlpatterns = [
    path("", views.project_list_view, name="project_list"),
    path("new/", views.project_create_view, name="project_create"),
    path("<uuid:project_id>/", views.project_detail, name="project_detail"),
    path("<uuid:project_id>/edit/", views.project_update_view, name="project_update"),
    path("<uuid:project_id>/archive/", views.project_archive_view, name="project_archive"),
    path("<uuid:project_id>/restore/", views.project_restore_view, name="project_restore"),
    path("<uuid:project_id>/variables/", views.variable_set_view, name="project_variable_set"),
    path("<uuid:project_id>/variables/<uuid:variable_id>/delete/", views.variable_delete_view,
         name="project_variable_delete"),
]
