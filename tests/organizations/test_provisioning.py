"""Signup: one transaction creates the user, the organization, its schema, domain and admin membership.

Provisioning here runs inside the test's transaction; PostgreSQL DDL is transactional, so the
rollback after each test removes the schema too.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django_tenants.utils import schema_exists, tenant_context

from apps.accounts.models import User
from apps.audit.models import AuditEntry
from apps.core.errors import ApplicationError
from apps.organizations.models import Domain, Membership, Organization, Role
from apps.organizations.services import organization_provision, validate_slug
from apps.projects.models import Project
from tests.conftest import PASSWORD


def provision(slug: str = "acme-labs", email: str = "owner@acme.test", password: str = PASSWORD, **kwargs):
    return organization_provision(name=kwargs.pop("name", "Acme Labs"), slug=slug, owner_email=email,
                                  owner_password=password, owner_full_name="Ada Owner", **kwargs)


def schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM information_schema.schemata")
        return {row[0] for row in cursor.fetchall()}


def platform_state() -> dict:
    return {
        "users": sorted(User.objects.values_list("email", flat=True)),
        "organizations": sorted(Organization.objects.values_list("slug", flat=True)),
        "domains": sorted(Domain.objects.values_list("domain", flat=True)),
        "memberships": Membership.objects.count(),
        "schemas": schemas(),
    }


def test_signup_creates_user_org_schema_domain_membership_and_audit(db, session_orgs):
    assert not schema_exists("org_acme_labs")

    organization, owner = provision(email="Owner@Acme.test")

    assert owner.email == "owner@acme.test" and owner.full_name == "Ada Owner"
    assert owner.check_password(PASSWORD)
    organization = Organization.objects.get(slug="acme-labs")
    assert (organization.name, organization.schema_name, organization.plan.code) == ("Acme Labs", "org_acme_labs",
                                                                                     "free")
    assert schema_exists("org_acme_labs")
    assert "org_acme_labs" in schemas()
    domain = Domain.objects.get(tenant=organization)
    assert (domain.domain, domain.is_primary) == ("acme-labs.localhost", True)
    assert Membership.objects.get(organization=organization).user == owner
    assert Membership.objects.get(organization=organization).role == Role.ADMIN

    with tenant_context(organization):
        entries = list(AuditEntry.objects.order_by("action"))
        # A complete, migrated tenant schema: every tenant table exists and is empty of others' data.
        assert Project.objects.count() == 0
        applied = MigrationRecorder(connection).applied_migrations()
    assert [(entry.action, entry.actor_id) for entry in entries] == [
        ("membership.created", owner.pk), ("organization.created", owner.pk)]
    assert entries[1].changes == {"name": "Acme Labs", "slug": "acme-labs", "plan": "free"}
    assert ("projects", "0001_initial") in applied and ("audit", "0001_initial") in applied
    with tenant_context(session_orgs["alpha"].organization):
        assert not AuditEntry.objects.filter(object_id=str(organization.pk)).exists()


def test_signup_site_answers_on_the_new_host(db, api_client):
    _organization, owner = provision()

    response = api_client("acme-labs.localhost", user=owner).get("/api/v1/me")

    assert response.status_code == 200
    assert (response.json()["organization"], response.json()["role"]) == ("acme-labs", "admin")


def test_existing_user_can_start_another_org_with_their_password(alpha):
    organization, owner = provision(email=alpha.viewer.email, password=PASSWORD)

    assert owner == alpha.viewer
    assert Membership.objects.get(organization=organization, user=owner).role == Role.ADMIN


def test_existing_user_with_wrong_password_gets_nothing(alpha):
    before = platform_state()

    with pytest.raises(ApplicationError) as caught:
        provision(email=alpha.viewer.email, password="Wrong-password-123")

    assert caught.value.code == "email_taken"
    assert platform_state() == before


RESERVED = ["admin", "www", "api", "static", "login", "signup", "public", "template"]
MALFORMED = ["A", "ab", "-abc", "abc-", "a_b", "ab--c", "a" * 41, "1abc", "", "ab c", "abc.d", "ábc", "abc/"]


@pytest.mark.parametrize("slug", RESERVED + MALFORMED)
def test_reserved_and_malformed_slugs_are_refused_and_nothing_is_created(slug, db, session_orgs):
    before = platform_state()

    with pytest.raises(ApplicationError) as caught:
        provision(slug=slug, email="hopeful@example.test")

    assert caught.value.code == "invalid_slug"
    assert "slug" in caught.value.details
    assert platform_state() == before
    assert not User.objects.filter(email="hopeful@example.test").exists()


@pytest.mark.parametrize("slug", ["alpha", "ALPHA", " alpha "])
def test_taken_slug_is_refused(slug, alpha):
    before = platform_state()

    with pytest.raises(ApplicationError) as caught:
        provision(slug=slug, email="second@example.test")

    assert caught.value.code == "invalid_slug"
    assert "taken" in caught.value.message
    assert platform_state() == before


@pytest.mark.parametrize("slug", ["abc", "a" * 40, "a-b-c", "abc123", "x9-y"])
def test_valid_slugs_pass_validation(slug, db):
    assert validate_slug(slug) == slug


@pytest.mark.parametrize("password", ["short", "password123", "12345678901234", "owner@acme.test"])
def test_weak_password_is_refused_and_nothing_is_created(password, db, session_orgs):
    before = platform_state()

    with pytest.raises(ApplicationError) as caught:
        provision(password=password)

    assert caught.value.code == "weak_password"
    assert caught.value.details["password"]
    assert platform_state() == before


def test_blank_name_is_refused(db, session_orgs):
    before = platform_state()

    with pytest.raises(ApplicationError):
        provision(name="   ")

    assert platform_state() == before


# The signup page on the public host.

SIGNUP = {"organization_name": "Page Labs", "slug": "page-labs", "full_name": "Pat Page",
          "email": "pat@page.test", "password": PASSWORD}


def test_signup_page_provisions_and_hands_over_to_the_new_host(db, session_orgs):
    response = Client(HTTP_HOST="localhost").post("/signup/", SIGNUP)

    assert response.status_code in (200, 302)
    handoff = re.search(r"https?://page-labs\.localhost(/auth/handoff/[\w-]+/)",
                        response.get("Location") or response.content.decode())
    assert handoff, response.content.decode()[:500]
    organization = Organization.objects.get(slug="page-labs")
    assert organization.memberships.get().user.email == "pat@page.test"

    tenant = Client(HTTP_HOST="page-labs.localhost")
    assert tenant.get(handoff.group(1))["Location"] == "/"
    dashboard = tenant.get("/")
    assert dashboard.status_code == 200 and "Page Labs" in dashboard.content.decode()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("slug", "admin", "reserved"),
    ("slug", "ab--c", "3 to 40 characters"),
    ("slug", "alpha", "taken"),
    ("password", "password", "too common"),
])
def test_signup_page_refusals_create_nothing(field, value, message, db, session_orgs):
    before = platform_state()

    response = Client(HTTP_HOST="localhost").post("/signup/", {**SIGNUP, field: value})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert platform_state() == before
