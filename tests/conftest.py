"""Shared fixtures: the real PostgreSQL and Redis, and two organizations provisioned once per session.

`alpha` and `bravo` are committed once per session through the real signup service, each with an
admin (its owner), a developer and a viewer. Every test that touches the database runs inside the
`db` fixture's transaction, so whatever a test writes (rows, audit entries, even schemas) is rolled
back and the session organizations stay clean.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey, User
from apps.accounts.services import api_key_create
from apps.organizations.models import Membership, Organization, Role
from apps.organizations.services import organization_provision
from apps.organizations.urls_helpers import tenant_host

pytest_plugins = ["tests.runtime"]

PASSWORD = "Correct-horse-battery-staple-9"
SESSION_ORG_SLUGS = ("alpha", "bravo")
PUBLIC_HOST = settings.ARGUS_BASE_DOMAIN


def user_email(slug: str, role: str) -> str:
    return f"{role}@{slug}.example.test"


@dataclass(frozen=True)
class TenantOrg:
    """A session organization. Treat the objects as read-only: re-read rows to assert on them."""

    organization: Organization
    users: dict[str, User]

    @property
    def slug(self) -> str:
        return self.organization.slug

    @property
    def host(self) -> str:
        return tenant_host(self.organization.slug)

    @property
    def admin(self) -> User:
        return self.users[Role.ADMIN]

    @property
    def developer(self) -> User:
        return self.users[Role.DEVELOPER]

    @property
    def viewer(self) -> User:
        return self.users[Role.VIEWER]

    def membership(self, user: User) -> Membership:
        return Membership.objects.get(organization=self.organization, user=user)


def _provision_session_org(slug: str) -> TenantOrg:
    # Start from scratch every session: deleting the organization drops its schema, so nothing
    # a crashed earlier run left behind can leak into this one.
    stale = Organization.objects.filter(slug=slug).first()
    if stale is not None:
        stale.delete(force_drop=True)
    User.objects.filter(email__endswith=f"@{slug}.example.test").delete()

    organization, admin = organization_provision(
        name=f"{slug.title()} Corp", slug=slug, owner_email=user_email(slug, Role.ADMIN),
        owner_password=PASSWORD, owner_full_name=f"{slug.title()} Admin",
    )
    users = {Role.ADMIN: admin}
    for role in (Role.DEVELOPER, Role.VIEWER):
        user = User.objects.create_user(email=user_email(slug, role), password=PASSWORD,
                                        full_name=f"{slug.title()} {role.label}")
        Membership.objects.create(user=user, organization=organization, role=role)
        users[role] = user
    return TenantOrg(organization=organization, users=users)


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_keepdb, django_db_createdb,
                    django_db_modify_db_settings):
    """The test database, migrated (public schema, tenants, spare tenant schemas) by `setup_platform`.

    pytest-django's own fixture creates the database only when a collected test uses `db`; the browser
    test does not (its server commits for itself), so a run of that test alone would otherwise leave the
    connection on the development database. Here the default database is always set up.
    """
    from django.test.utils import setup_databases, teardown_databases

    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=request.config.option.verbose, interactive=False, keepdb=keepdb,
                                 aliases={"default"})
        if not connection.settings_dict["NAME"].startswith("test_"):
            pytest.exit(f"Refusing to run against database {connection.settings_dict['NAME']!r}.", returncode=3)
        call_command("setup_platform", verbosity=0)
        connection.set_schema_to_public()
    yield
    if not keepdb:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=request.config.option.verbose)


@pytest.fixture(scope="session")
def session_orgs(django_db_setup, django_db_blocker) -> dict[str, TenantOrg]:
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        return {slug: _provision_session_org(slug) for slug in SESSION_ORG_SLUGS}


@pytest.fixture
def alpha(db, session_orgs) -> TenantOrg:
    return session_orgs["alpha"]


@pytest.fixture
def bravo(db, session_orgs) -> TenantOrg:
    return session_orgs["bravo"]


@pytest.fixture(scope="module")
def org_objects(django_db_setup, django_db_blocker, session_orgs) -> Iterator[dict[str, dict[str, str]]]:
    """`create_objects` of tests/api_endpoints.py for alpha and bravo, once per module.

    What Django's setUpTestData does for a TestCase class: the objects are written inside a transaction
    that stays open for the module, each test's `db` transaction nests in it as a savepoint (so a test's
    changes roll back to exactly these objects) and the whole is rolled back at the end. The isolation
    and role tables make thousands of cases; building the objects once per case was most of their time.
    """
    from tests.api_endpoints import create_objects

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            ids = {slug: create_objects(session_orgs[slug]) for slug in SESSION_ORG_SLUGS}
            connection.set_schema_to_public()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield ids
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _public_schema_after_test() -> Iterator[None]:
    # TenantMainMiddleware leaves the connection on the last request's tenant schema.
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


def _redis_db_index(url: str) -> int:
    match = re.search(r"/(\d+)$", url)
    return int(match.group(1)) if match else 0


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    """Lockout counters, hand-off tokens and cached data never carry over from one test to the next."""
    if _redis_db_index(settings.REDIS_URL) == 0:
        pytest.fail("The suite flushes its Redis database: run it with `make test` (ARGUS_REDIS_DB=1).")
    # Both caches share the suite's Redis database; clear() flushes it.
    caches["platform"].clear()


@pytest.fixture
def api_client() -> Callable[..., APIClient]:
    """`api_client(org_or_host, user=..., key=...)`: a DRF client bound to a host, signed in or not."""

    def make(target: TenantOrg | str, *, user: User | None = None, key: str | None = None, **defaults) -> APIClient:
        host = target if isinstance(target, str) else target.host
        client = APIClient(HTTP_HOST=host, **defaults)
        if user is not None:
            client.force_login(user)
        if key is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client

    return make


@pytest.fixture
def make_api_key() -> Callable[..., tuple[ApiKey, str]]:
    """`make_api_key(org, user, scopes=["admin"])`: a key through the real service; returns (key, secret)."""

    def make(org: TenantOrg, user: User, scopes: list[str] | None = None, **fields) -> tuple[ApiKey, str]:
        with tenant_context(org.organization):
            return api_key_create(organization=org.organization, actor=user, name=fields.pop("name", "test key"),
                                  scopes=scopes or ["admin"], **fields)

    return make


def error_of(response) -> dict:
    """The error envelope of a response, checked to have exactly the documented shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]
