"""The events API and page: filters, detail, dead letters, replay by admins only, and isolation between
organizations (another organization's event or dead letter is a 404 and stays untouched)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

import tests.api_endpoints  # noqa: F401 - loads the API tables in the order they expect
from apps.integrations.events import emit
from apps.integrations.models import DeadLetter, OutboxEvent, OutboxStatus
from apps.projects.services import project_create
from tests.conftest import error_of
from tests.integrations.endpoints import dead_event


def _objects(org) -> dict[str, str]:
    with tenant_context(org.organization):
        project = project_create(actor=org.admin, name="Events shop", base_url="https://shop.example.com/")
        created = emit("test.created", {"name": f"{org.slug} checkout"}, source="tests")
        letter = dead_event(project)
        return {"created": str(created.event_id), "dead_event": str(letter.event.event_id),
                "dead_letter": str(letter.pk)}


@pytest.fixture
def alpha_events(alpha) -> dict[str, str]:
    return _objects(alpha)


@pytest.fixture
def bravo_events(bravo) -> dict[str, str]:
    return _objects(bravo)


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["event_id"] for row in response.json()["results"]]


def test_events_list_filters_and_detail(alpha, alpha_events, bravo_events, api_client):
    client = api_client(alpha, user=alpha.viewer)
    everything = _ids(client.get("/api/v1/events"))
    assert {alpha_events["created"], alpha_events["dead_event"]} <= set(everything)
    assert not {bravo_events["created"], bravo_events["dead_event"]} & set(everything)
    assert _ids(client.get("/api/v1/events", {"event_type": "test.created"})) == [alpha_events["created"]]
    assert _ids(client.get("/api/v1/events", {"status": "dead"})) == [alpha_events["dead_event"]]
    assert _ids(client.get("/api/v1/events", {"since": (timezone.now() + timedelta(hours=1)).isoformat()})) == []
    for bad in ({"event_type": "test.teleported"}, {"status": "lost"}, {"since": "yesterday"}):
        response = client.get("/api/v1/events", bad)
        assert response.status_code == 400 and error_of(response)["code"] == "validation_error"

    detail = client.get(f"/api/v1/events/{alpha_events['created']}").json()
    assert detail["event_type"] == "test.created" and detail["payload"] == {"name": "alpha checkout"}
    assert detail["status"] == "pending" and detail["tenant"] == alpha.organization.schema_name
    foreign = client.get(f"/api/v1/events/{bravo_events['created']}")
    assert foreign.status_code == 404 and error_of(foreign)["code"] == "not_found"


def test_dead_letters_are_listed_and_only_admins_replay_them(alpha, alpha_events, bravo, bravo_events, api_client):
    viewer = api_client(alpha, user=alpha.viewer)
    rows = viewer.get("/api/v1/dead-letters").json()["results"]
    assert [row["id"] for row in rows] == [alpha_events["dead_letter"]]
    assert rows[0]["event"]["event_id"] == alpha_events["dead_event"] and rows[0]["retry_count"] == 3
    assert rows[0]["subscriber"] == "webhook" and rows[0]["replayed_at"] is None

    path = f"/api/v1/dead-letters/{alpha_events['dead_letter']}/replay"
    for user in (alpha.viewer, alpha.developer):
        refused = api_client(alpha, user=user).post(path)
        assert refused.status_code == 403 and error_of(refused)["code"] == "permission_denied"
    admin = api_client(alpha, user=alpha.admin)
    foreign = admin.post(f"/api/v1/dead-letters/{bravo_events['dead_letter']}/replay")
    assert foreign.status_code == 404
    with tenant_context(bravo.organization):
        assert DeadLetter.objects.get(pk=bravo_events["dead_letter"]).replayed_at is None
        assert OutboxEvent.objects.get(event_id=bravo_events["dead_event"]).status == OutboxStatus.DEAD

    replayed = admin.post(path)
    assert replayed.status_code == 200 and replayed.json()["replayed_at"] is not None
    assert replayed.json()["event"]["status"] == "pending" and replayed.json()["event"]["attempts"] == 0
    assert viewer.get("/api/v1/dead-letters", {"replayed": "false"}).json()["results"] == []
    again = admin.post(path)
    assert again.status_code == 409 and error_of(again)["code"] == "already_replayed"


def _page_client(org, user) -> Client:
    client = Client(HTTP_HOST=org.host)
    client.force_login(user)
    return client


def test_the_events_page_lists_events_and_offers_replay_to_admins(alpha, alpha_events, bravo_events):
    viewer_page = _page_client(alpha, alpha.viewer).get("/events/", {"event_type": "test.created"})
    html = viewer_page.content.decode()
    assert viewer_page.status_code == 200
    assert f'data-event-row="{alpha_events["created"]}"' in html
    assert f'data-event-row="{alpha_events["dead_event"]}"' not in html  # filtered out
    assert f'data-event-row="{bravo_events["created"]}"' not in html
    assert f'data-dead-letter-row="{alpha_events["dead_letter"]}"' in html and "Admins can replay" in html
    replay = f"/events/dead-letters/{alpha_events['dead_letter']}/replay/"
    assert f'action="{replay}"' not in html
    assert _page_client(alpha, alpha.developer).post(replay).status_code == 403

    admin = _page_client(alpha, alpha.admin)
    assert f'action="{replay}"' in admin.get("/events/").content.decode()
    response = admin.post(replay)
    assert response.status_code == 302 and response["Location"] == "/events/"
    with tenant_context(alpha.organization):
        assert DeadLetter.objects.get(pk=alpha_events["dead_letter"]).replayed_at is not None
    assert admin.post(f"/events/dead-letters/{bravo_events['dead_letter']}/replay/").status_code == 404
