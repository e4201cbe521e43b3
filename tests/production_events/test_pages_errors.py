"""The error pages (/errors/): tenant isolation, roles, and what each page shows (server-rendered HTML)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.organizations.models import Role
from apps.production_events import urls as production_events_urls
from apps.production_events.models import (
    DeliveryStatus,
    ErrorSettings,
    GroupSimilarity,
    IntakeEndpoint,
    ProductionEvent,
    WebhookLog,
)
from apps.projects.models import Project
from tests.api_endpoints import create_objects, org_state
from tests.factories import MembershipFactory
from tests.production_events.endpoints_events import make_event

ROOT_URLCONF = "argus.urls"
ROLES = (Role.VIEWER, Role.DEVELOPER, Role.ADMIN)
# GET pages: name -> (object kind its URL takes, (viewer, developer, admin) status).
PAGES = {
    "errors_event_list": (None, (200, 200, 200)),
    "errors_event_detail": ("event", (200, 200, 200)),
    "errors_group_list": (None, (200, 200, 200)),
    "errors_group_detail": ("group", (200, 200, 200)),
    "errors_intake_index": (None, (200, 200, 200)),
    "errors_intake": ("project", (200, 200, 200)),
}
# POST actions on one object: name -> (kind, form data, (viewer, developer, admin) status when allowed).
ACTIONS = {
    "errors_event_status": ("event", {"status": "triaged"}, (403, 302, 302)),
    "errors_similarity_merge": ("similarity", {}, (403, 302, 302)),
    "errors_similarity_dismiss": ("similarity", {}, (403, 302, 302)),
    "errors_intake_rotate": ("project", {}, (403, 403, 302)),
    "errors_deliveries_reprocess": ("project", {"scope": "all"}, (403, 302, 302)),
    "errors_settings_update": ("project", {"similarity_threshold": "0.8", "auto_merge": "on"}, (403, 403, 302)),
}
# POST actions that name objects in the form only.
FORM_POSTS = {"errors_event_bulk_status": ({"events": "{event}", "status": "ignored"}, (403, 302, 302))}
KWARG_BY_KIND = {"event": "event_id", "group": "group_id", "project": "project_id", "similarity": "similarity_id"}
EXTRA_KWARGS = {"errors_intake_rotate": {"source": "sentry"}}


def url_of(name: str, kind: str | None, ids: dict[str, str]) -> str:
    kwargs = {KWARG_BY_KIND[kind]: ids[kind]} if kind else {}
    return reverse(name, urlconf=ROOT_URLCONF, kwargs={**kwargs, **EXTRA_KWARGS.get(name, {})})


def browser(org, user=None) -> Client:
    client = Client(HTTP_HOST=org.host)
    if user is not None:
        client.force_login(user)
    return client


def objects_of(org) -> dict[str, str]:
    """The API table's objects plus a second group similar to the first, a merge proposal and a failed
    delivery, so that every page and action has something of this organization to show or change."""
    ids = create_objects(org)
    with tenant_context(org.organization):
        project = Project.objects.get(pk=ids["project"])
        first = ProductionEvent.objects.get(pk=ids["event"])
        second = make_event(project, title="TypeError: basket is undefined", url_path="/basket")
        proposal = GroupSimilarity.objects.create(project=project, group=second.group, similar_group=first.group,
                                                  score=0.95, shared_frames=["cart:addToCart"],
                                                  explanation="Same in-app frame cart:addToCart")
        endpoint = IntakeEndpoint.objects.get(project=project, source="sentry")
        delivery = WebhookLog.objects.create(
            endpoint=endpoint, project=project, source="sentry", delivery_id=uuid.uuid4().hex, payload={"broken": True},
            body_sha256="0" * 64, size=16, received_at=first.last_seen, status=DeliveryStatus.FAILED,
            reason="KeyError: 'data'", attempts=1)
    return {**ids, "similarity": str(proposal.pk), "other_event": str(second.pk), "delivery": str(delivery.pk)}


def leaks(org, ids: dict[str, str]) -> list[str]:
    """Strings only someone who can see `org`'s errors would find on a page."""
    with tenant_context(org.organization):
        project = Project.objects.get(pk=ids["project"])
        secret = IntakeEndpoint.objects.get(project=project, source="sentry").secret
    return [project.name, ids["event"], ids["group"], ids["other_event"], secret]


@pytest.fixture
def alpha_ids(alpha) -> dict[str, str]:
    return objects_of(alpha)


@pytest.fixture
def bravo_ids(bravo) -> dict[str, str]:
    return objects_of(bravo)


def test_every_error_page_and_action_is_in_a_table():
    names = {pattern.name for pattern in production_events_urls.urlpatterns}
    assert names == {*PAGES, *ACTIONS, *FORM_POSTS}


@pytest.mark.parametrize("name", [name for name, (kind, _roles) in PAGES.items() if kind])
def test_page_with_another_orgs_object_id_is_not_found(name, alpha, bravo, alpha_ids, bravo_ids):
    response = browser(alpha, alpha.admin).get(url_of(name, PAGES[name][0], bravo_ids))

    assert response.status_code == 404
    assert not any(secret in response.content.decode() for secret in leaks(bravo, bravo_ids))


@pytest.mark.parametrize("name", ACTIONS)
def test_action_on_another_orgs_object_is_not_found_and_changes_nothing(name, alpha, bravo, alpha_ids, bravo_ids):
    kind, data, _roles = ACTIONS[name]
    before = org_state(bravo)

    response = browser(alpha, alpha.admin).post(url_of(name, kind, bravo_ids), data)

    assert response.status_code == 404
    assert org_state(bravo) == before


def test_bulk_status_with_another_orgs_event_is_refused(alpha, bravo, alpha_ids, bravo_ids):
    before = (org_state(alpha), org_state(bravo))

    response = browser(alpha, alpha.admin).post(reverse("errors_event_bulk_status", urlconf=ROOT_URLCONF),
                                                {"events": [alpha_ids["event"], bravo_ids["event"]],
                                                 "status": "ignored"})

    assert response.status_code == 400
    assert "Some events do not exist." in response.content.decode()
    assert (org_state(alpha), org_state(bravo)) == before


@pytest.mark.parametrize("name", PAGES)
def test_member_of_another_org_and_anonymous_see_nothing(name, alpha, bravo, alpha_ids):
    url = url_of(name, PAGES[name][0], alpha_ids)

    outsider = browser(alpha, bravo.admin).get(url)
    anonymous = browser(alpha).get(url)

    assert outsider.status_code == 404
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/?next=")
    for response in (outsider, anonymous):
        assert not any(secret in response.content.decode() for secret in leaks(alpha, alpha_ids))


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_page_roles(role, name, alpha, alpha_ids):
    kind, roles = PAGES[name]

    response = browser(alpha, alpha.users[role]).get(url_of(name, kind, alpha_ids))

    assert response.status_code == roles[ROLES.index(role)]
    assert alpha.organization.name in response.content.decode()


@pytest.mark.parametrize("name", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_action_roles(role, name, alpha, alpha_ids):
    kind, data, roles = ACTIONS[name]
    expected = roles[ROLES.index(role)]
    before = org_state(alpha)

    response = browser(alpha, alpha.users[role]).post(url_of(name, kind, alpha_ids), data)

    assert response.status_code == expected
    if expected == 403:
        assert org_state(alpha) == before


def test_viewer_cannot_rotate_and_sees_no_secret(alpha, alpha_ids):
    client = browser(alpha, alpha.viewer)
    with tenant_context(alpha.organization):
        secret = IntakeEndpoint.objects.get(project_id=alpha_ids["project"], source="sentry").secret

    page = client.get(url_of("errors_intake", "project", alpha_ids)).content.decode()
    refused = client.post(url_of("errors_intake_rotate", "project", alpha_ids))

    assert refused.status_code == 403
    assert secret not in page and "Rotate secret" not in page
    assert "/api/v1/webhooks/sentry/" in page
    with tenant_context(alpha.organization):
        assert IntakeEndpoint.objects.get(project_id=alpha_ids["project"], source="sentry").secret == secret


def test_admin_sees_secret_rotates_it_and_the_old_one_is_kept_for_a_grace_period(alpha, alpha_ids):
    client = browser(alpha, alpha.admin)
    with tenant_context(alpha.organization):
        old = IntakeEndpoint.objects.get(project_id=alpha_ids["project"], source="sentry").secret
    assert old in client.get(url_of("errors_intake", "project", alpha_ids)).content.decode()

    response = client.post(url_of("errors_intake_rotate", "project", alpha_ids), follow=True)

    with tenant_context(alpha.organization):
        endpoint = IntakeEndpoint.objects.get(project_id=alpha_ids["project"], source="sentry")
    assert endpoint.secret != old and endpoint.previous_secret == old and endpoint.previous_secret_expires_at
    html = response.content.decode()
    assert endpoint.secret in html and "keeps working until" in html


def test_event_page_shows_stack_trail_similar_and_status_workflow(alpha, alpha_ids):
    with tenant_context(alpha.organization):
        ProductionEvent.objects.filter(pk=alpha_ids["event"]).update(
            trail=[{"timestamp": "10:00:01", "category": "ui.click", "message": "Clicked Pay", "selector": "#pay"}],
            tags={"browser": "Firefox 128"}, release="shop@2.4.1", environment="production",
            link="https://sentry.example.com/issues/42/")

    html = browser(alpha, alpha.developer).get(url_of("errors_event_detail", "event", alpha_ids)).content.decode()

    assert html.count("data-frame") == 2 and html.count("data-in-app") == 1
    assert "addToCart" in html and "cart.items.push(item)" in html
    assert "Clicked Pay" in html and "Firefox 128" in html and "shop@2.4.1" in html
    assert "data-similar-errors" in html and "TypeError: basket is undefined" in html  # the merge proposal
    assert 'data-transition="triaged"' in html and 'data-transition="resolved"' in html
    assert 'href="https://sentry.example.com/issues/42/"' in html
    assert "<polyline" in html


def test_status_buttons_change_the_status_and_invalid_ones_say_why(alpha, alpha_ids):
    client = browser(alpha, alpha.developer)
    url = reverse("errors_event_status", urlconf=ROOT_URLCONF, kwargs={"event_id": alpha_ids["event"]})

    resolved = client.post(url, {"status": "resolved", "note": "fixed in 2.4.2"}, follow=True)
    refused = client.post(url, {"status": "ignored"})

    assert resolved.status_code == 200 and "Status set to resolved." in resolved.content.decode()
    assert refused.status_code == 400 and "cannot become ignored" in refused.content.decode()
    with tenant_context(alpha.organization):
        event = ProductionEvent.objects.get(pk=alpha_ids["event"])
        assert (event.status, event.status_changed_by_id) == ("resolved", alpha.developer.pk)
        assert AuditEntry.objects.get(action="production_event.status_changed",
                                      object_id=alpha_ids["event"]).changes["note"] == "fixed in 2.4.2"


def test_list_filters_counts_and_htmx_fragment(alpha, alpha_ids):
    client = browser(alpha, alpha.viewer)
    url = reverse("errors_event_list", urlconf=ROOT_URLCONF)

    everything = client.get(url).content.decode()
    basket = client.get(url, {"entity": "/basket"}).content.decode()
    fragment = client.get(url, {"severity": "warning"}, HTTP_HX_REQUEST="true")

    assert alpha_ids["event"] in everything and alpha_ids["other_event"] in everything
    assert alpha_ids["other_event"] in basket and alpha_ids["event"] not in basket
    assert 'data-facet-value="sentry" data-count="1"' in basket
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "<html" not in html and 'id="event-results"' in html and "No errors match" in html


def test_bulk_status_from_the_list(alpha, alpha_ids):
    response = browser(alpha, alpha.developer).post(
        reverse("errors_event_bulk_status", urlconf=ROOT_URLCONF) + "?severity=error",
        {"events": [alpha_ids["event"], alpha_ids["other_event"]], "status": "triaged"})

    assert response.status_code == 302 and response["Location"].endswith("?severity=error")
    with tenant_context(alpha.organization):
        statuses = ProductionEvent.objects.filter(pk__in=[alpha_ids["event"], alpha_ids["other_event"]])
        assert set(statuses.values_list("status", flat=True)) == {"triaged"}


def test_empty_list_tells_how_to_connect_a_tracker(alpha, alpha_ids):
    with tenant_context(alpha.organization):
        ProductionEvent.objects.all().delete()

    html = browser(alpha, alpha.viewer).get(reverse("errors_event_list", urlconf=ROOT_URLCONF)).content.decode()

    assert "No production errors yet" in html
    assert reverse("errors_intake", urlconf=ROOT_URLCONF, kwargs={"project_id": alpha_ids["project"]}) in html


def test_reprocess_resets_failed_deliveries(alpha, alpha_ids):
    response = browser(alpha, alpha.developer).post(url_of("errors_deliveries_reprocess", "project", alpha_ids),
                                                    {"scope": "all"}, follow=True)

    assert re.search(r"\d+ deliver(y|ies) queued for processing again\.", response.content.decode())
    with tenant_context(alpha.organization):
        assert WebhookLog.objects.get(pk=alpha_ids["delivery"]).status == DeliveryStatus.PENDING


def test_settings_form_refuses_a_bad_threshold(alpha, alpha_ids):
    response = browser(alpha, alpha.admin).post(url_of("errors_settings_update", "project", alpha_ids),
                                                {"similarity_threshold": "3"})

    assert response.status_code == 400
    with tenant_context(alpha.organization):
        assert not ErrorSettings.objects.filter(project_id=alpha_ids["project"]).exists()


@pytest.fixture
def staff(alpha):
    """A platform superuser who is also a member of alpha, for the organization's admin site."""
    user = type(alpha.admin).objects.create_user(email="staff@alpha.example.test", password="x" * 20,
                                                 full_name="Alpha Staff", is_staff=True, is_superuser=True)
    MembershipFactory(user=user, organization=alpha.organization, role=Role.ADMIN)
    return user


def test_admin_shows_deliveries_pretty_and_reprocesses_them(alpha, alpha_ids, staff):
    client = browser(alpha, staff)
    changelist = reverse("tenant_admin:production_events_webhooklog_changelist", urlconf=ROOT_URLCONF)

    listed = client.get(changelist)
    detail = client.get(reverse("tenant_admin:production_events_webhooklog_change", urlconf=ROOT_URLCONF,
                                args=[alpha_ids["delivery"]]))
    acted = client.post(changelist, {"action": "reprocess", "_selected_action": [alpha_ids["delivery"]]})

    assert listed.status_code == 200 and detail.status_code == 200
    assert "&quot;broken&quot;: true" in detail.content.decode()
    assert acted.status_code == 302
    with tenant_context(alpha.organization):
        assert WebhookLog.objects.get(pk=alpha_ids["delivery"]).status == DeliveryStatus.PENDING
    for model in ("intakeendpoint", "productionevent", "errorgroup", "groupsimilarity", "errorsettings"):
        assert client.get(reverse(f"tenant_admin:production_events_{model}_changelist",
                                  urlconf=ROOT_URLCONF)).status_code == 200


def test_admin_status_action_follows_the_workflow(alpha, alpha_ids, staff):
    changelist = reverse("tenant_admin:production_events_productionevent_changelist", urlconf=ROOT_URLCONF)

    response = browser(alpha, staff).post(changelist, {"action": "mark_resolved",
                                                       "_selected_action": [alpha_ids["event"]]})

    assert response.status_code == 302
    with tenant_context(alpha.organization):
        event = ProductionEvent.objects.get(pk=alpha_ids["event"])
        assert (event.status, event.status_changed_by_id) == ("resolved", staff.pk)
