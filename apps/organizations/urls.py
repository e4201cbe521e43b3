"""An organization's own pages, on its host."""

from django.urls import path

from apps.organizations import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("members/", views.members, name="members"),
    path("members/<uuid:membership_id>/role/", views.member_role_change, name="member_role_change"),
    path("members/<uuid:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("invitations/", views.invitation_create_view, name="invitation_create"),
    path("invitations/<uuid:invitation_id>/revoke/", views.invitation_revoke_view, name="invitation_revoke"),
    path("invitations/accept/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("settings/", views.organization_settings, name="organization_settings"),
]
