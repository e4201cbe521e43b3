"""Every operation of the tenant API, once. A new endpoint is one line here; `test_every_api_operation_is_listed`
fails until it is added, and the isolation and role tests then cover it."""

from __future__ import annotations

from dataclasses import dataclass, field

from django_tenants.utils import tenant_context

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_create
from apps.audit.models import AuditEntry
from apps.organizations.models import Invitation, Membership, Role
from apps.organizations.services import invitation_create
from apps.projects.models import Environment, Project
from apps.projects.services import project_create
from tests.factories import MembershipFactory


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # placeholders: {project}, {member}, {invitation}, {api_key}
    body: dict | None = field(default=None, hash=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def is_write(self) -> bool:
        return self.method not in ("get", "head", "options")

    @property
    def names_an_object(self) -> bool:
        return "{" in self.path

    def url(self, ids: dict[str, str]) -> str:
        return self.path.format(**ids)

    def call(self, client, ids: dict[str, str]):
        return getattr(client, self.method)(self.url(ids), self.body, format="json")


ENDPOINTS = [
    Endpoint("get", "/api/v1/me"),
    Endpoint("get", "/api/v1/organization"),
    Endpoint("patch", "/api/v1/organization", {"name": "Renamed Corp"}),
    Endpoint("get", "/api/v1/members"),
    Endpoint("patch", "/api/v1/members/{member}", {"role": "developer"}),
    Endpoint("delete", "/api/v1/members/{member}"),
    Endpoint("get", "/api/v1/invitations"),
    Endpoint("post", "/api/v1/invitations", {"email": "newcomer@example.test", "role": "viewer"}),
    Endpoint("delete", "/api/v1/invitations/{invitation}"),
    Endpoint("get", "/api/v1/api-keys"),
    Endpoint("post", "/api/v1/api-keys", {"name": "ci", "scopes": ["read"]}),
    Endpoint("get", "/api/v1/api-keys/{api_key}"),
    Endpoint("delete", "/api/v1/api-keys/{api_key}"),
    Endpoint("get", "/api/v1/projects"),
    Endpoint("post", "/api/v1/projects", {"name": "Fresh", "base_url": "https://fresh.example.com/"}),
    Endpoint("get", "/api/v1/projects/{project}"),
    Endpoint("patch", "/api/v1/projects/{project}", {"description": "changed"}),
    Endpoint("post", "/api/v1/projects/{project}/archive"),
    Endpoint("post", "/api/v1/projects/{project}/restore"),
    Endpoint("get", "/api/v1/audit-log"),
]

LIST_PATHS = ["/api/v1/members", "/api/v1/invitations", "/api/v1/api-keys", "/api/v1/projects",
              "/api/v1/audit-log"]


def create_objects(org) -> dict[str, str]:
    """One object of each kind an endpoint can name, in `org`: a project, a (viewer) member that is
    not the org's only admin, a pending invitation and an API key. Returns their ids by placeholder."""
    membership = MembershipFactory(organization=org.organization, role=Role.VIEWER)
    with tenant_context(org.organization):
        project = project_create(actor=org.admin, name=f"{org.slug} site", base_url="https://site.example.com/",
                                 environments={"staging": "https://staging.example.com/"})
        invitation, _token = invitation_create(organization=org.organization, email=f"invitee@{org.slug}.test",
                                               role=Role.DEVELOPER, actor=org.admin)
        api_key, _raw = api_key_create(organization=org.organization, actor=org.admin, name="deploy",
                                       scopes=["read"])
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"
    return {"project": str(project.pk), "member": str(membership.pk), "invitation": str(invitation.pk),
            "api_key": str(api_key.pk)}


def org_state(org) -> dict:
    """Everything an API call could change in `org`, to prove a refused call changed nothing."""
    organization = org.organization
    state = {
        "organization": list(type(organization).objects.filter(pk=organization.pk).values()),
        "members": list(Membership.objects.filter(organization=organization).order_by("pk").values()),
        "invitations": list(Invitation.objects.filter(organization=organization).order_by("pk").values()),
        # last_used_at is the bookkeeping of whichever key makes the call, not a change by it.
        "api_keys": list(ApiKey.objects.filter(organization=organization).order_by("pk").values(
            *[f.attname for f in ApiKey._meta.concrete_fields if f.name != "last_used_at"])),
    }
    with tenant_context(organization):
        state["projects"] = list(Project.objects.order_by("pk").values())
        state["environments"] = list(Environment.objects.order_by("pk").values())
        state["audit"] = list(AuditEntry.objects.order_by("pk").values_list("pk", flat=True))
    return state
