"""The events, groups, intake and error-settings API beyond the generic isolation and role tables."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.production_events.models import ErrorGroupDay, IntakeEndpoint, ProductionEvent
from apps.projects.models import Project
from apps.projects.services import project_create
from tests.api_endpoints import create_objects
from tests.conftest import error_of
from tests.production_events.endpoints_events import LIST_MODELS, make_event


@pytest.fixture
def project(alpha):
    with tenant_context(alpha.organization):
        return project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example.com/")


def _in(org):
    return tenant_context(org.organization)


def test_patch_moves_the_status_and_returns_who_and_when(alpha, project, api_client):
    with _in(alpha):
        event = make_event(project)
    client = api_client(alpha, user=alpha.developer)

    response = client.patch(f"/api/v1/production-events/{event.pk}", {"status": "triaged", "note": "mine"},
                            format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "triaged"
    assert body["status_changed_by"] == alpha.developer.email
    assert body["status_changed_at"]
    assert set(body["allowed_statuses"]) == {"new", "test_generated", "resolved", "ignored"}


def test_invalid_transition_is_a_400_with_a_stable_code(alpha, project, api_client):
    with _in(alpha):
        event = make_event(project)
    client = api_client(alpha, user=alpha.developer)
    assert client.patch(f"/api/v1/production-events/{event.pk}", {"status": "resolved"}, format="json").status_code \
        == 200

    response = client.patch(f"/api/v1/production-events/{event.pk}", {"status": "ignored"}, format="json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_transition"
    with _in(alpha):
        assert ProductionEvent.objects.get(pk=event.pk).status == "resolved"


@pytest.mark.parametrize("body", [{"status": "done"}, {}, {"status": "triaged", "note": "x" * 1001}])
def test_bad_status_input_is_a_validation_error(alpha, project, api_client, body):
    with _in(alpha):
        event = make_event(project)

    response = api_client(alpha, user=alpha.admin).patch(f"/api/v1/production-events/{event.pk}", body, format="json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"


def test_bulk_status_reports_changed_and_skipped(alpha, project, api_client):
    with _in(alpha):
        fresh, resolved = make_event(project, title="A: a"), make_event(project, title="B: b", status="resolved")
    client = api_client(alpha, user=alpha.developer)

    response = client.post("/api/v1/production-events/status",
                           {"events": [str(fresh.pk), str(resolved.pk)], "status": "triaged"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["changed"] == [str(fresh.pk)]
    assert [item["id"] for item in body["skipped"]] == [str(resolved.pk)]
    assert body["skipped"][0]["status"] == "resolved"


def test_list_filters_and_facets(alpha, project, api_client):
    with _in(alpha):
        cart = make_event(project, title="TypeError: cart", source="sentry", severity="error", url_path="/cart")
        make_event(project, title="Warning: slow", source="datadog", severity="warning", url_path="/login",
                   hours_ago=24 * 8)
    client = api_client(alpha, user=alpha.viewer)
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()

    listed = client.get("/api/v1/production-events", {"project": str(project.pk), "since": since, "entity": "/cart"})
    facets = client.get("/api/v1/production-events/facets", {"project": str(project.pk), "source": "datadog"})

    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [str(cart.pk)]
    assert facets.status_code == 200
    assert facets.json()["total"] == 1
    assert facets.json()["source"]["sentry"] == 1 and facets.json()["source"]["datadog"] == 1
    assert facets.json()["severity"]["warning"] == 1 and facets.json()["severity"]["error"] == 0


@pytest.mark.parametrize("query", [{"severity": "catastrophic"}, {"since": "yesterday"}, {"project": "nope"},
                                   {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}])
def test_bad_filters_are_refused(alpha, api_client, query):
    response = api_client(alpha, user=alpha.viewer).get("/api/v1/production-events", query)

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"


def _queries_for(client, path: str, query: dict) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, query)
    assert response.status_code == 200
    return len(queries), response.json()


@pytest.mark.parametrize("path", ["/api/v1/production-events", "/api/v1/error-groups"])
def test_list_query_count_does_not_grow_with_the_page(alpha, project, api_client, path):
    with _in(alpha):
        for number in range(12):
            event = make_event(project, title=f"Error{number}: boom {number}")
            event.status_changed_by = alpha.developer
            event.save()
    client = api_client(alpha, user=alpha.viewer)
    client.get(path)  # warm the session and tenant caches

    one, _body = _queries_for(client, path, {"page_size": 1})
    twelve, body = _queries_for(client, path, {"page_size": 12})

    assert len(body["results"]) == 12
    assert twelve == one


def test_event_detail_has_stack_trail_tags_and_group(alpha, project, api_client):
    with _in(alpha):
        event = make_event(project, tags={"browser": "Chrome 120"}, link="https://sentry.example.com/issues/1/",
                           session_url="https://app.logrocket.example/s/1",
                           trail=[{"timestamp": "2026-01-01T10:00:00Z", "category": "ui.click", "type": "user",
                                   "message": "button#pay", "url": "/cart", "selector": "#pay", "data": {}}])

    body = api_client(alpha, user=alpha.viewer).get(f"/api/v1/production-events/{event.pk}").json()

    assert body["stack_trace"][-1]["function"] == "addToCart" and body["stack_trace"][-1]["in_app"] is True
    assert body["trail"][0]["selector"] == "#pay"
    assert body["tags"] == {"browser": "Chrome 120"}
    assert body["group"]["id"] == str(event.group_id)
    assert body["link"].startswith("https://sentry.example.com/") and body["session_url"]


def test_group_detail_has_the_trend_and_events(alpha, project, api_client):
    with _in(alpha):
        event = make_event(project)
        ErrorGroupDay.objects.create(group=event.group, day=timezone.localdate(), occurrences=7)

    body = api_client(alpha, user=alpha.viewer).get(f"/api/v1/error-groups/{event.group_id}").json()

    assert len(body["trend"]) == 30 and body["trend"][-1]["occurrences"] == 7
    assert [row["id"] for row in body["events"]] == [str(event.pk)]


def test_intake_secrets_are_for_admins_only(alpha, project, api_client):
    admin_view = api_client(alpha, user=alpha.admin).get(f"/api/v1/projects/{project.pk}/intake").json()
    viewer_view = api_client(alpha, user=alpha.viewer).get(f"/api/v1/projects/{project.pk}/intake")

    with _in(alpha):
        secrets = dict(IntakeEndpoint.objects.filter(project=project).values_list("source", "secret"))
    assert {row["source"] for row in admin_view} == set(secrets) and len(secrets) == 8
    assert all(row["secret"] == secrets[row["source"]] for row in admin_view)
    assert all(f"{alpha.host}/api/v1/webhooks/{row['source']}/" in row["url"] for row in admin_view), admin_view[0]
    assert all(row["instructions"]["curl"] for row in admin_view)
    text = viewer_view.content.decode()
    assert viewer_view.status_code == 200
    assert not any(secret in text for secret in secrets.values())


def test_rotate_gives_a_new_secret_and_keeps_the_old_one_for_a_while(alpha, project, api_client):
    client = api_client(alpha, user=alpha.admin)
    old = {row["source"]: row["secret"] for row in client.get(f"/api/v1/projects/{project.pk}/intake").json()}

    response = client.post(f"/api/v1/projects/{project.pk}/intake/rollbar/rotate", {"grace_hours": 2}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["secret"] != old["rollbar"]
    with _in(alpha):
        endpoint = IntakeEndpoint.objects.get(project=project, source="rollbar")
        assert endpoint.previous_secret == old["rollbar"] and endpoint.rotated_by_id == alpha.admin.pk
        assert AuditEntry.objects.filter(action="intake_endpoint.rotated", object_id=str(endpoint.pk)).exists()
    unknown = client.post(f"/api/v1/projects/{project.pk}/intake/splunk/rotate", format="json")
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "not_found"


def test_error_settings_read_and_update(alpha, project, api_client):
    client = api_client(alpha, user=alpha.admin)
    assert client.get(f"/api/v1/projects/{project.pk}/error-settings").json()["similarity_threshold"] == 0.92

    refused = client.patch(f"/api/v1/projects/{project.pk}/error-settings", {"similarity_threshold": 1.5},
                           format="json")
    saved = client.patch(f"/api/v1/projects/{project.pk}/error-settings", {"auto_merge": True}, format="json")

    assert refused.status_code == 400 and error_of(refused)["code"] == "validation_error"
    assert saved.status_code == 200 and saved.json()["auto_merge"] is True
    assert client.get(f"/api/v1/projects/{project.pk}/error-settings").json()["auto_merge"] is True


@pytest.mark.parametrize("path", sorted(LIST_MODELS))
def test_lists_show_only_the_hosts_rows(path, alpha, bravo, api_client):
    alpha_ids, bravo_ids = create_objects(alpha), create_objects(bravo)
    model = LIST_MODELS[path]
    with _in(bravo):
        bravo_rows = {str(pk) for pk in model.objects.values_list("pk", flat=True)}
    with _in(alpha):
        alpha_rows = {str(pk) for pk in model.objects.values_list("pk", flat=True)}

    response = api_client(bravo, user=bravo.admin).get(path, {"page_size": 200})

    listed = {row["id"] for row in response.json()["results"]}
    assert listed and listed <= bravo_rows
    assert not listed & (alpha_rows | set(alpha_ids.values()))
    assert bravo_ids["event"] in listed or bravo_ids["group"] in listed


def test_filtering_by_another_orgs_project_lists_nothing(alpha, bravo, api_client):
    bravo_ids = create_objects(bravo)
    create_objects(alpha)

    response = api_client(alpha, user=alpha.admin).get("/api/v1/production-events", {"project": bravo_ids["project"]})

    assert response.status_code == 200 and response.json()["results"] == []
    with _in(bravo):
        assert Project.objects.filter(pk=bravo_ids["project"]).exists()
