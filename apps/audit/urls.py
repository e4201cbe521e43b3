"""The audit log, mounted at /audit/ on an organization's host."""

from django.urls import path

from apps.audit import views

urlpatterns = [
    path("", views.audit_log, name="audit_log"),
]
