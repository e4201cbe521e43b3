"""Projects API: CRUD, archive/restore, filters, ordering, cursor pagination, audit trail, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.projects.models import Project
from tests.conftest import error_of
from tests.factories import EnvironmentFactory, ProjectFactory

CLIENT_IP = "203.0.113.42"


@pytest.fixture
def client(alpha, api_client):
    return api_client(alpha, user=alpha.developer, REMOTE_ADDR=CLIENT_IP)


def create(client, **body) -> dict:
    response = client.post("/api/v1/projects", {"name": "Shop", "base_url": "https://shop.example.com/", **body},
                           format="json")
    assert response.status_code == 201, response.content
    return response.json()


def audit_entries(alpha, project_id: str) -> list[AuditEntry]:
    with tenant_context(alpha.organization):
        return list(AuditEntry.objects.filter(object_type="project", object_id=project_id).order_by("created_at"))


def projects(alpha, count: int, archived: int = 0) -> list[Project]:
    with tenant_context(alpha.organization):
        made = [ProjectFactory() for _ in range(count)]
        for project in made[:archived]:
            Project.objects.filter(pk=project.pk).update(archived_at="2024-01-01T00:00:00Z")
        return made


def test_create(client, alpha):
    created = create(client, description="The web shop",
                     environments={"staging": "https://staging.shop.example.com/", "production": ""})

    assert created["name"] == "Shop" and created["slug"] == "shop"
    assert created["base_url"] == "https://shop.example.com/"
    assert created["environments"] == {"staging": "https://staging.shop.example.com/"}
    assert created["is_archived"] is False and created["archived_at"] is None
    with tenant_context(alpha.organization):
        assert Project.objects.get(pk=created["id"]).description == "The web shop"


def test_create_derives_a_unique_slug(client):
    assert [create(client)["slug"] for _ in range(3)] == ["shop", "shop-2", "shop-3"]


def test_detail(client):
    created = create(client)

    response = client.get(f"/api/v1/projects/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created


def test_update_changes_fields_and_environments(client):
    created = create(client, environments={"dev": "https://dev.example.com/", "staging": "https://st.example.com/"})

    response = client.patch(f"/api/v1/projects/{created['id']}", {
        "name": "Shop v2", "environments": {"staging": "", "production": "https://shop.example.com/"},
    }, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Shop v2" and body["slug"] == "shop"
    assert body["environments"] == {"dev": "https://dev.example.com/", "production": "https://shop.example.com/"}
    assert client.get(f"/api/v1/projects/{created['id']}").json()["environments"] == body["environments"]


def test_update_to_a_taken_slug_conflicts(client):
    create(client, name="One")
    second = create(client, name="Two")

    response = client.patch(f"/api/v1/projects/{second['id']}", {"slug": "one"}, format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "slug_taken"


def test_archive_and_restore(client):
    created = create(client)

    archived = client.post(f"/api/v1/projects/{created['id']}/archive")
    assert archived.status_code == 200
    assert archived.json()["is_archived"] is True and archived.json()["archived_at"]
    assert created["id"] not in [row["id"] for row in client.get("/api/v1/projects").json()["results"]]
    assert client.get(f"/api/v1/projects/{created['id']}").json()["is_archived"] is True

    restored = client.post(f"/api/v1/projects/{created['id']}/restore")
    assert restored.status_code == 200
    assert restored.json()["is_archived"] is False and restored.json()["archived_at"] is None
    assert created["id"] in [row["id"] for row in client.get("/api/v1/projects").json()["results"]]


def test_updating_an_archived_project_conflicts(client, alpha):
    created = create(client)
    client.post(f"/api/v1/projects/{created['id']}/archive")

    response = client.patch(f"/api/v1/projects/{created['id']}", {"name": "Changed"}, format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "archived"
    with tenant_context(alpha.organization):
        assert Project.objects.get(pk=created["id"]).name == "Shop"


def test_every_write_is_audited_with_actor_changes_and_ip(client, alpha):
    created = create(client, environments={"dev": "https://dev.example.com/"})
    client.patch(f"/api/v1/projects/{created['id']}", {"name": "Renamed", "description": "new"}, format="json")
    client.patch(f"/api/v1/projects/{created['id']}", {"name": "Renamed"}, format="json")  # no change, no entry
    client.post(f"/api/v1/projects/{created['id']}/archive")
    client.post(f"/api/v1/projects/{created['id']}/archive")  # already archived, no entry
    client.post(f"/api/v1/projects/{created['id']}/restore")

    entries = audit_entries(alpha, created["id"])

    assert [entry.action for entry in entries] == ["project.created", "project.updated", "project.archived",
                                                   "project.restored"]
    for entry in entries:
        assert (entry.actor_id, entry.actor_email) == (alpha.developer.pk, alpha.developer.email)
        assert entry.ip_address == CLIENT_IP
        assert entry.api_key_prefix == ""
    assert entries[0].changes == {"name": "Shop", "slug": "shop", "base_url": "https://shop.example.com/",
                                  "description": "", "environments": {"dev": "https://dev.example.com/"}}
    assert entries[1].changes == {"name": {"from": "Shop", "to": "Renamed"}, "description": {"from": "", "to": "new"}}
    assert entries[1].object_repr == "Renamed"


def test_list_filters(client, alpha):
    with tenant_context(alpha.organization):
        for name in ("Checkout flow", "Blog", "checkout api"):
            ProjectFactory(name=name)
    old = projects(alpha, 1, archived=1)[0]

    def names(query) -> set[str]:
        response = client.get("/api/v1/projects", query)
        assert response.status_code == 200, response.content
        return {row["name"] for row in response.json()["results"]}

    assert names({}) == {"Checkout flow", "Blog", "checkout api"}
    assert names({"search": "CHECKOUT"}) == {"Checkout flow", "checkout api"}
    assert names({"archived": "true"}) == {old.name}
    assert names({"archived": "false"}) == {"Checkout flow", "Blog", "checkout api"}
    assert names({"search": "nothing-matches"}) == set()


def test_unknown_archived_value_is_refused(client):
    response = client.get("/api/v1/projects", {"archived": "yes"})

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert "archived" in error["details"]


@pytest.mark.parametrize(("ordering", "expected"), [
    ("name", ["Apple", "Banana", "Cherry"]),
    ("-name", ["Cherry", "Banana", "Apple"]),
    ("created_at", ["Banana", "Cherry", "Apple"]),
    (None, ["Apple", "Cherry", "Banana"]),  # default: newest first
])
def test_ordering(ordering, expected, client, alpha):
    with tenant_context(alpha.organization):
        for name in ("Banana", "Cherry", "Apple"):
            ProjectFactory(name=name)

    response = client.get("/api/v1/projects", {"ordering": ordering} if ordering else {})

    assert [row["name"] for row in response.json()["results"]] == expected


@pytest.mark.parametrize("ordering", [None, "name", "-updated_at"])
def test_cursor_pagination_walks_every_page_once(ordering, client, alpha):
    made = {str(project.pk) for project in projects(alpha, 7)}
    query = {"page_size": 2, **({"ordering": ordering} if ordering else {})}

    seen: list[str] = []
    pages = 0
    response = client.get("/api/v1/projects", query)
    while True:
        assert response.status_code == 200
        body = response.json()
        assert len(body["results"]) <= 2
        seen += [row["id"] for row in body["results"]]
        pages += 1
        if not body["next"]:
            break
        assert body["next"].startswith("http://alpha.localhost/api/v1/projects?")
        response = client.get(body["next"])

    assert pages == 4
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == made


def test_page_size_is_capped(client, alpha):
    projects(alpha, 3)

    response = client.get("/api/v1/projects", {"page_size": 10_000})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


def _list_queries(client, page_size: int) -> int:
    """SQL statements of one list request, not counting django-tenants' `SET search_path`."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/projects", {"page_size": page_size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    return len([query for query in queries if not query["sql"].startswith("SET search_path")])


def test_list_uses_a_constant_number_of_queries(client, alpha):
    with tenant_context(alpha.organization):
        for project in projects(alpha, 20):
            EnvironmentFactory(project=project, name="dev")
            EnvironmentFactory(project=project, name="staging")

    few, many = _list_queries(client, 2), _list_queries(client, 20)

    assert few == many
    # Domain, session, user, membership, projects, environments (one prefetch for the page).
    assert many <= 6


def test_list_with_an_api_key_uses_a_constant_number_of_queries(alpha, api_client, make_api_key):
    projects(alpha, 20)
    client = api_client(alpha, key=make_api_key(alpha, alpha.developer, ["read"])[1])
    client.get("/api/v1/me")  # the key's first use writes last_used_at once; measure the steady state

    assert _list_queries(client, 2) == _list_queries(client, 20)
