"""The public site: what Argus is, signup, and the way into one's organizations."""

from django.urls import path

from apps.organizations import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("signup/", views.signup, name="signup"),
    path("organizations/", views.organization_choose, name="organization_choose"),
    path("organizations/<slug:slug>/open/", views.organization_open, name="organization_open"),
]
