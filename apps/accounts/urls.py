"""Account pages on an organization's host."""

from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("login/", views.tenant_login, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("auth/handoff/<str:token>/", views.handoff, name="handoff"),
    path("account/password/", views.password_change, name="password_change"),
    path("api-keys/", views.api_key_list, name="api_keys"),
    path("api-keys/new/", views.api_key_create_view, name="api_key_create"),
    path("api-keys/<uuid:key_id>/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
]
