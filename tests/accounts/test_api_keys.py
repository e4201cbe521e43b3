"""API keys: shown once, stored hashed, usable on their own host only, until revoked or expired."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiKey
from apps.audit.models import AuditEntry
from tests.conftest import error_of


@pytest.fixture
def admin_client(alpha, api_client):
    return api_client(alpha, user=alpha.admin)


def create_key(client, **body):
    response = client.post("/api/v1/api-keys", {"name": "CI", "scopes": ["write"], **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_shows_the_secret_once_and_stores_only_its_hash(alpha, admin_client):
    created = create_key(admin_client)
    raw = created["key"]

    assert raw.startswith(f"argus_{created['prefix']}_")
    assert created["scopes"] == ["write"] and created["created_by"] == alpha.admin.email
    row = ApiKey.objects.filter(pk=created["id"]).values().get()
    assert row["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert not any(raw in str(value) for value in row.values())
    secret_part = raw.rsplit("_", 1)[1]
    assert not any(secret_part in str(value) for value in row.values())

    # Never shown again: neither in the list nor in the detail.
    listed = admin_client.get("/api/v1/api-keys").json()["results"]
    detail = admin_client.get(f"/api/v1/api-keys/{created['id']}").json()
    assert [key["id"] for key in listed] == [created["id"]]
    assert "key" not in listed[0] and "key" not in detail
    assert raw not in str(listed) + str(detail)


def test_creation_is_audited_without_the_secret(alpha, admin_client):
    created = create_key(admin_client)

    with tenant_context(alpha.organization):
        entry = AuditEntry.objects.get(action="api_key.created", object_id=created["id"])
    assert entry.actor_id == alpha.admin.pk
    assert entry.changes == {"name": "CI", "scopes": ["write"]}
    assert created["key"] not in str(entry.changes)


def test_key_authenticates_and_records_last_use(alpha, admin_client, api_client):
    created = create_key(admin_client)
    assert ApiKey.objects.get(pk=created["id"]).last_used_at is None
    client = api_client(alpha, key=created["key"])

    me = client.get("/api/v1/me")

    assert me.status_code == 200
    assert me.json()["authenticated_with"] == "api_key"
    assert me.json()["email"] == alpha.admin.email
    last_used = ApiKey.objects.get(pk=created["id"]).last_used_at
    assert last_used is not None and timezone.now() - last_used < timedelta(seconds=30)


def test_writes_with_a_key_are_audited_with_its_prefix(alpha, admin_client, api_client):
    created = create_key(admin_client)

    response = api_client(alpha, key=created["key"]).post(
        "/api/v1/projects", {"name": "Via key", "base_url": "https://k.example.com/"}, format="json")

    assert response.status_code == 201
    with tenant_context(alpha.organization):
        entry = AuditEntry.objects.get(action="project.created", object_id=response.json()["id"])
    assert entry.api_key_prefix == created["prefix"]
    assert entry.actor_email == alpha.admin.email


def test_revoked_key_is_refused(alpha, admin_client, api_client):
    created = create_key(admin_client)
    client = api_client(alpha, key=created["key"])
    assert client.get("/api/v1/projects").status_code == 200

    revoked = admin_client.delete(f"/api/v1/api-keys/{created['id']}")

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None and revoked.json()["is_active"] is False
    response = client.get("/api/v1/projects")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Bearer"


def test_expired_key_is_refused(alpha, admin_client, api_client):
    created = create_key(admin_client, expires_at=(timezone.now() + timedelta(days=1)).isoformat())
    client = api_client(alpha, key=created["key"])
    assert client.get("/api/v1/me").status_code == 200

    ApiKey.objects.filter(pk=created["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_expiry_in_the_past_is_refused_at_creation(admin_client):
    response = admin_client.post("/api/v1/api-keys", {"name": "old", "scopes": ["read"],
                                                      "expires_at": "2001-01-01T00:00:00Z"}, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_expiry"


def test_key_of_one_org_is_refused_on_another_orgs_host(alpha, bravo, admin_client, api_client):
    created = create_key(admin_client)

    response = api_client(bravo, key=created["key"]).get("/api/v1/me")

    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"
    assert ApiKey.objects.get(pk=created["id"]).last_used_at is None


def test_key_is_refused_on_the_public_host(alpha, admin_client, api_client):
    created = create_key(admin_client)

    response = api_client("localhost", key=created["key"]).get("/api/v1/me")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("header", [
    "Bearer",
    "Bearer ",
    "Token argus_abc_def",
    "bearer argus_abc_def",
    "Bearer argus_abc def",
    "Bearer not-an-argus-key",
    "Bearer argus_00000000_guessed",
    "Basic YWRtaW46YWRtaW4=",
])
def test_malformed_or_unknown_authorization_is_refused_with_the_envelope(header, alpha, api_client):
    response = api_client(alpha, HTTP_AUTHORIZATION=header).get("/api/v1/projects")

    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"
