"""The status workflow of events, the grouping policy, and the events list's filters and facet counts."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.core.errors import ApplicationError
from apps.production_events.models import ErrorGroupDay, ErrorSettings, EventStatus, ProductionEvent
from apps.production_events.selectors import EventFilters, error_settings_for, event_facets, event_list, group_trend
from apps.production_events.services import error_settings_update, event_status_change, events_status_change
from apps.projects.services import project_create
from tests.api_endpoints import create_objects  # noqa: F401 - loads the API tables before endpoints_events
from tests.production_events.endpoints_events import make_event


@pytest.fixture
def project(alpha):
    with tenant_context(alpha.organization):
        yield project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example.com/")


def test_status_change_records_who_when_and_audits(alpha, project):
    event = make_event(project)
    before = timezone.now()

    event_status_change(event, status=EventStatus.TRIAGED, actor=alpha.developer, note="looking into it")

    event.refresh_from_db()
    assert event.status == EventStatus.TRIAGED
    assert event.status_changed_by_id == alpha.developer.pk
    assert before <= event.status_changed_at <= timezone.now()
    entry = AuditEntry.objects.get(action="production_event.status_changed", object_id=str(event.pk))
    assert entry.actor_email == alpha.developer.email
    assert entry.changes == {"status": {"from": "new", "to": "triaged"}, "note": "looking into it"}


@pytest.mark.parametrize(("path", "refused"), [
    (["resolved"], "ignored"),               # resolved only reopens
    (["ignored"], "triaged"),                # ignored only reopens
    (["test_generated"], "new"),             # a generated test is not undone by "new"
    ([], "new"),                             # already new
    (["triaged"], "triaged"),                # already triaged
])
def test_invalid_transitions_are_refused_and_change_nothing(alpha, project, path, refused):
    event = make_event(project)
    for status in path:
        event_status_change(event, status=status, actor=alpha.developer)
    event.refresh_from_db()
    state = (event.status, event.status_changed_at)
    audits = AuditEntry.objects.count()

    with pytest.raises(ApplicationError) as refusal:
        event_status_change(event, status=refused, actor=alpha.admin)

    assert refusal.value.code == "invalid_transition"
    event.refresh_from_db()
    assert (event.status, event.status_changed_at) == state
    assert AuditEntry.objects.count() == audits


def test_reopen_after_resolve(alpha, project):
    event = make_event(project)
    event_status_change(event, status=EventStatus.RESOLVED, actor=alpha.developer)

    event_status_change(event, status=EventStatus.NEW, actor=alpha.admin, note="came back in 2.0")

    event.refresh_from_db()
    assert event.status == EventStatus.NEW and event.status_changed_by_id == alpha.admin.pk
    entries = AuditEntry.objects.filter(action="production_event.status_changed", object_id=str(event.pk))
    assert [entry.changes["status"]["to"] for entry in entries.order_by("created_at")] == ["resolved", "new"]


def test_unknown_status_is_invalid(alpha, project):
    event = make_event(project)
    with pytest.raises(ApplicationError) as refusal:
        event_status_change(event, status="fixed", actor=alpha.admin)
    assert refusal.value.code == "invalid"


def test_bulk_change_skips_what_the_workflow_refuses(alpha, project):
    fresh = make_event(project, title="A: one")
    triaged = make_event(project, title="B: two")
    resolved = make_event(project, title="C: three")
    event_status_change(triaged, status=EventStatus.TRIAGED, actor=alpha.developer)
    event_status_change(resolved, status=EventStatus.RESOLVED, actor=alpha.developer)

    result = events_status_change([fresh.pk, triaged.pk, resolved.pk], status=EventStatus.IGNORED,
                                  actor=alpha.developer)

    assert {event.pk for event in result.changed} == {fresh.pk, triaged.pk}
    assert [(event.pk, "cannot become ignored" in reason) for event, reason in result.skipped] == [(resolved.pk, True)]
    statuses = dict(ProductionEvent.objects.values_list("pk", "status"))
    assert statuses == {fresh.pk: "ignored", triaged.pk: "ignored", resolved.pk: "resolved"}


def test_bulk_change_with_an_unknown_id_changes_nothing(alpha, project):
    event = make_event(project)

    with pytest.raises(ApplicationError) as refusal:
        events_status_change([event.pk, "3b0f3f9e-0000-4000-8000-000000000000"], status=EventStatus.TRIAGED,
                             actor=alpha.developer)

    assert refusal.value.code == "invalid"
    event.refresh_from_db()
    assert event.status == EventStatus.NEW


def test_error_settings_defaults_are_read_without_writing(alpha, project):
    settings = error_settings_for(project)

    assert (settings.similarity_threshold, settings.auto_merge, settings._state.adding) == (0.92, False, True)
    assert not ErrorSettings.objects.filter(project=project).exists()


def test_error_settings_update_validates_and_audits(alpha, project):
    with pytest.raises(ApplicationError) as refusal:
        error_settings_update(project, actor=alpha.admin, similarity_threshold=0.2)
    assert refusal.value.details == {"similarity_threshold": ["Between 0.5 and 1.0."]}

    error_settings_update(project, actor=alpha.admin, similarity_threshold=0.85, auto_merge=True)

    settings = ErrorSettings.objects.get(project=project)
    assert (settings.similarity_threshold, settings.auto_merge) == (0.85, True)
    entry = AuditEntry.objects.get(action="error_settings.updated")
    assert entry.changes == {"similarity_threshold": {"from": 0.92, "to": 0.85},
                             "auto_merge": {"from": False, "to": True}}


def test_filters_narrow_the_list(alpha, project):
    cart = make_event(project, title="TypeError: cart is undefined", source="sentry", severity="error",
                      url_path="/cart")
    login = make_event(project, title="Warning: slow login", source="datadog", severity="warning", url_path="/login",
                       component="LoginForm", hours_ago=24 * 10)
    api = make_event(project, title="HTTPError: 502 on orders", source="rollbar", severity="fatal", url_path="",
                     api_endpoint="GET /api/orders/:id", hours_ago=1)
    event_status_change(api, status=EventStatus.TRIAGED, actor=alpha.developer)

    def ids(**filters) -> set:
        return set(event_list(EventFilters(**filters)).values_list("pk", flat=True))

    assert ids() == {cart.pk, login.pk, api.pk}
    assert ids(source="datadog") == {login.pk}
    assert ids(severity="fatal") == {api.pk}
    assert ids(status="triaged") == {api.pk}
    assert ids(entity="/cart") == {cart.pk}
    assert ids(entity="LoginForm") == {login.pk}
    assert ids(api_endpoint="GET /api/orders/:id") == {api.pk}
    assert ids(since=timezone.now() - datetime.timedelta(days=2)) == {cart.pk, api.pk}
    assert ids(until=timezone.now() - datetime.timedelta(days=5)) == {login.pk}
    assert ids(q="slow LOGIN") == {login.pk}
    assert ids(q="502") == {api.pk}
    assert ids(group=cart.group_id) == {cart.pk}
    assert ids(source="sentry", severity="warning") == set()


def test_facets_count_each_facet_under_the_other_filters(alpha, project):
    make_event(project, title="A: a", source="sentry", severity="error")
    make_event(project, title="B: b", source="sentry", severity="warning")
    make_event(project, title="C: c", source="bugsnag", severity="error")

    facets = event_facets(EventFilters(source="sentry"))

    # The source facet ignores the chosen source (it shows the alternatives); the others respect it.
    assert facets["source"]["sentry"] == 2 and facets["source"]["bugsnag"] == 1 and facets["source"]["rollbar"] == 0
    assert facets["severity"] == {"fatal": 0, "error": 1, "warning": 1, "info": 0}
    assert facets["status"]["new"] == 2 and sum(facets["status"].values()) == 2


def test_group_trend_is_zero_filled(alpha, project):
    event = make_event(project)
    today = timezone.localdate()
    ErrorGroupDay.objects.create(group=event.group, day=today, occurrences=5)
    ErrorGroupDay.objects.create(group=event.group, day=today - datetime.timedelta(days=2), occurrences=2)
    ErrorGroupDay.objects.create(group=event.group, day=today - datetime.timedelta(days=40), occurrences=9)

    trend = group_trend(event.group, days=7)

    assert [day["occurrences"] for day in trend] == [0, 0, 0, 0, 2, 0, 5]
    assert trend[-1]["day"] == today
