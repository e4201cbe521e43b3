"""Every /api/v1/ path of the tenant hosts."""

from django.urls import path

from apps.accounts.apis import ApiKeyDetailApi, ApiKeyListCreateApi, MeApi
from apps.audit.apis import AuditEntryListApi
from apps.organizations.apis import (
    InvitationDetailApi,
    InvitationListCreateApi,
    MemberDetailApi,
    MemberListApi,
    OrganizationApi,
)
from apps.projects.apis import ProjectArchiveApi, ProjectDetailApi, ProjectListCreateApi, ProjectRestoreApi

urlpatterns = [
    path("me", MeApi.as_view(), name="api-me"),
    path("organization", OrganizationApi.as_view(), name="api-organization"),
    path("members", MemberListApi.as_view(), name="api-members"),
    path("members/<uuid:member_id>", MemberDetailApi.as_view(), name="api-member-detail"),
    path("invitations", InvitationListCreateApi.as_view(), name="api-invitations"),
    path("invitations/<uuid:invitation_id>", InvitationDetailApi.as_view(), name="api-invitation-detail"),
    path("api-keys", ApiKeyListCreateApi.as_view(), name="api-api-keys"),
    path("api-keys/<uuid:key_id>", ApiKeyDetailApi.as_view(), name="api-api-key-detail"),
    path("projects", ProjectListCreateApi.as_view(), name="api-projects"),
    path("projects/<uuid:project_id>", ProjectDetailApi.as_view(), name="api-project-detail"),
    path("projects/<uuid:project_id>/archive", ProjectArchiveApi.as_view(), name="api-project-archive"),
    path("projects/<uuid:project_id>/restore", ProjectRestoreApi.as_view(), name="api-project-restore"),
    path("audit-log", AuditEntryListApi.as_view(), name="api-audit-log"),
]
