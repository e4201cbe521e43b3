"""Audit log API: admin-only, filterable by action, object, actor and time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from tests.conftest import error_of


@pytest.fixture
def trail(alpha, api_client):
    """Writes by two people through the API; returns the created project ids."""
    developer = api_client(alpha, user=alpha.developer, REMOTE_ADDR="198.51.100.7")
    admin = api_client(alpha, user=alpha.admin)
    first = developer.post("/api/v1/projects", {"name": "First", "base_url": "https://1.example.com/"},
                           format="json").json()["id"]
    second = admin.post("/api/v1/projects", {"name": "Second", "base_url": "https://2.example.com/"},
                        format="json").json()["id"]
    developer.post(f"/api/v1/projects/{first}/archive")
    admin.patch("/api/v1/organization", {"name": "Alpha Renamed"}, format="json")
    return {"first": first, "second": second}


def listed(alpha, api_client, **query) -> list[dict]:
    response = api_client(alpha, user=alpha.admin).get("/api/v1/audit-log", {"page_size": 200, **query})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_entries_are_newest_first_with_their_fields(alpha, api_client, trail):
    rows = listed(alpha, api_client)

    assert [row["action"] for row in rows[:4]] == ["organization.updated", "project.archived", "project.created",
                                                   "project.created"]
    archived = rows[1]
    assert archived["actor"] == alpha.developer.email
    assert (archived["object_type"], archived["object_id"], archived["object_repr"]) == ("project", trail["first"],
                                                                                         "First")
    assert archived["ip_address"] == "198.51.100.7"
    assert rows[0]["changes"] == {"name": {"from": "Alpha Corp", "to": "Alpha Renamed"}}


@pytest.mark.parametrize(("query", "expected"), [
    ({"action": "project.created"}, ["project.created", "project.created"]),
    ({"object_type": "organization"}, ["organization.updated", "organization.created"]),
    ({"actor": "DEVELOPER@alpha.example.test"}, ["project.archived", "project.created"]),
    ({"action": "nothing.happened"}, []),
])
def test_filters(query, expected, alpha, api_client, trail):
    assert [row["action"] for row in listed(alpha, api_client, **query)] == expected


def test_filter_by_object(alpha, api_client, trail):
    rows = listed(alpha, api_client, object_id=trail["first"])

    assert [row["action"] for row in rows] == ["project.archived", "project.created"]


def test_filter_by_time(alpha, api_client, trail):
    with tenant_context(alpha.organization):
        old = AuditEntry.objects.get(object_id=trail["second"])
        AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    cutoff = (timezone.now() - timedelta(days=1)).isoformat()

    recent = listed(alpha, api_client, since=cutoff)
    older = listed(alpha, api_client, until=cutoff)

    assert str(old.pk) not in {row["id"] for row in recent}
    assert [row["id"] for row in older] == [str(old.pk)]


def test_ordering_by_action(alpha, api_client, trail):
    actions = [row["action"] for row in listed(alpha, api_client, ordering="action")]

    assert actions == sorted(actions)


def test_invalid_filter_is_a_validation_error(alpha, api_client):
    response = api_client(alpha, user=alpha.admin).get("/api/v1/audit-log", {"since": "not a date"})

    assert response.status_code == 400
    assert "since" in error_of(response)["details"]
