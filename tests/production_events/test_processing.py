"""Processing: stored deliveries → events and groups, once; failures kept with their reason and
reprocessable; repeats update counts; a resolved error that comes back reopens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db.models import Count, Sum
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.production_events.models import (
    DeliveryStatus,
    ErrorGroup,
    ErrorGroupDay,
    EventStatus,
    ProductionEvent,
    WebhookLog,
)
from apps.production_events.processing import (
    deliveries_reprocess,
    process_batch,
    process_delivery,
    process_pending_deliveries,
    request_processing,
    scheduled_key,
)
from tests.conftest import error_of
from tests.production_events.processing_deliveries import frame, generic_error, make_project, stored_delivery

FIXTURES = Path("/work/shared/fixtures/webhooks")
TRACKERS = ["sentry", "datadog", "bugsnag", "rollbar", "newrelic", "fullstory"]
FIXTURE_FILES = sorted(path for source in TRACKERS for path in (FIXTURES / source).glob("*.json"))
SENTRY_RESOURCES = {"issue": "issue", "error": "error", "event_alert": "event_alert", "metric_alert": "metric_alert"}


def _headers_for(path: Path) -> dict[str, str]:
    if path.parent.name != "sentry":
        return {}
    resource = SENTRY_RESOURCES.get(path.name.split(".", 1)[0])
    return {"Sentry-Hook-Resource": resource} if resource else {}


def _assert_group_books_balance(group: ErrorGroup) -> None:
    events = ProductionEvent.objects.filter(group=group)
    assert group.event_count == events.count()
    assert group.occurrence_count == events.aggregate(total=Sum("occurrence_count"))["total"]
    days = ErrorGroupDay.objects.filter(group=group).aggregate(total=Sum("occurrences"))["total"]
    assert days == group.occurrence_count


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_tracker_fixture_is_processed_end_to_end(path, alpha):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        log = stored_delivery(project, path.parent.name, json.loads(path.read_text()), headers=_headers_for(path))

        outcome = process_pending_deliveries()

        log.refresh_from_db()
        assert outcome.deliveries == 1
        assert log.status in (DeliveryStatus.PROCESSED, DeliveryStatus.IGNORED), log.reason
        assert log.attempts == 1 and log.processed_at is not None
        if log.status == DeliveryStatus.IGNORED:
            assert log.reason and not ProductionEvent.objects.filter(project=project).exists()
            return
        events = list(ProductionEvent.objects.filter(project=project))
        assert log.events_created == len(events) >= 1
        for event in events:
            assert event.delivery_id == log.pk and event.source == path.parent.name
            assert event.fingerprint == event.group.fingerprint
            assert event.status in (EventStatus.NEW, EventStatus.RESOLVED)
            _assert_group_books_balance(event.group)
            assert event.group.embedding is not None


def test_the_fixtures_make_errors_not_only_ignores(alpha):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        for path in FIXTURE_FILES:
            stored_delivery(project, path.parent.name, json.loads(path.read_text()), headers=_headers_for(path))
        process_pending_deliveries()
        statuses = dict(WebhookLog.objects.filter(project=project).values_list("status").annotate(n=Count("pk")))
        assert statuses.get(DeliveryStatus.FAILED) is None, WebhookLog.objects.filter(status="failed").values("reason")
        assert statuses.get(DeliveryStatus.PROCESSED, 0) >= len(TRACKERS)
        sources = set(ProductionEvent.objects.filter(project=project).values_list("source", flat=True))
        assert sources == set(TRACKERS)


@pytest.mark.parametrize("source", ["generic", "logrocket"])
def test_generic_and_logrocket_shapes_are_processed(source, alpha):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        log = stored_delivery(project, source, generic_error(
            "ISSUE-1", frames=[frame("src/cart.js", "addItem"), frame("src/cart.js", "renderCart")],
            component="CartDrawer", session_url="https://app.logrocket.com/org/app/s/1"))

        process_delivery(log)

        assert log.status == DeliveryStatus.PROCESSED, log.reason
        event = ProductionEvent.objects.get(project=project)
        assert event.group.in_app_frames == ["src/cart.js:addItem", "src/cart.js:renderCart"]
        assert event.group.grouping_method == "stack" and event.group.component == "CartDrawer"


def test_rollbar_deploy_is_ignored_with_a_reason(alpha):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        log = stored_delivery(project, "rollbar", json.loads((FIXTURES / "rollbar" / "deploy.json").read_text()))
        process_delivery(log)
        assert log.status == DeliveryStatus.IGNORED and "deploy" in log.reason.lower()
        assert not ErrorGroup.objects.filter(project=project).exists()


def test_a_duplicate_delivery_is_processed_once(alpha):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        payload = generic_error("ISSUE-7")
        first = stored_delivery(project, "generic", payload, delivery_id=payload["id"])
        duplicate = stored_delivery(project, "generic", payload, delivery_id=payload["id"], duplicate=True)

        process_pending_deliveries()
        process_delivery(first)  # processing the same row again is a no-op
        process_delivery(duplicate)

        first.refresh_from_db()
        duplicate.refresh_from_db()
        assert (first.status, duplicate.status) == (DeliveryStatus.PROCESSED, DeliveryStatus.DUPLICATE)
        event = ProductionEvent.objects.get(project=project)
        assert event.occurrence_count == 1 and event.group.occurrence_count == 1
        assert first.attempts == 1 and duplicate.attempts == 0


def test_repeats_update_the_event_and_a_resolved_error_reopens(alpha):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        for _ in range(2):
            stored_delivery(project, "generic", generic_error("ISSUE-9", users=1))
        process_pending_deliveries()
        event = ProductionEvent.objects.get(project=project)
        assert event.occurrence_count == 2 and event.group.occurrence_count == 2 and event.group.event_count == 1

        ProductionEvent.objects.filter(pk=event.pk).update(status=EventStatus.RESOLVED)
        stored_delivery(project, "generic", generic_error("ISSUE-9", count=10, users=4))
        process_pending_deliveries()

        event.refresh_from_db()
        # The tracker's cumulative count wins over +1; users likewise.
        assert (event.occurrence_count, event.affected_users) == (10, 4)
        assert event.status == EventStatus.NEW and event.status_changed_at is not None
        group = ErrorGroup.objects.get(pk=event.group_id)
        assert (group.occurrence_count, group.affected_users, group.event_count) == (10, 4, 1)
        _assert_group_books_balance(group)


def test_a_failure_is_kept_with_its_reason_then_reprocessed_after_repair(alpha, api_client):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        good = stored_delivery(project, "generic", generic_error("ISSUE-1"))
        # No title, message nor exception: the normalizer cannot say what went wrong.
        broken = stored_delivery(project, "generic", {"id": "evt-broken", "issue_id": "ISSUE-2"})

        outcome = process_batch()

        good.refresh_from_db()
        broken.refresh_from_db()
        assert (outcome.processed, outcome.failed) == (1, 1)
        assert good.status == DeliveryStatus.PROCESSED
        assert broken.status == DeliveryStatus.FAILED and broken.attempts == 1
        assert broken.reason.startswith("NormalizationError: ")
        assert not ProductionEvent.objects.filter(project=project, external_id__contains="ISSUE-2").exists()

        # Repaired at the source of the failure (the stored payload), then reprocessed through the API.
        WebhookLog.objects.filter(pk=broken.pk).update(payload=generic_error("ISSUE-2", message="total is NaN"))
        processed_reprocess = api_client(alpha, user=alpha.developer).post(
            f"/api/v1/webhook-deliveries/{good.pk}/reprocess")
        assert processed_reprocess.status_code == 409
        assert error_of(processed_reprocess)["code"] == "not_reprocessable"
        response = api_client(alpha, user=alpha.developer).post(f"/api/v1/webhook-deliveries/{broken.pk}/reprocess")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "pending" and response.json()["reason"] == ""
        assert AuditEntry.objects.filter(action="webhook_delivery.reprocess", object_id=str(broken.pk)).exists()

        process_pending_deliveries()

        broken.refresh_from_db()
        assert broken.status == DeliveryStatus.PROCESSED and broken.attempts == 2 and broken.events_created == 1
        assert ProductionEvent.objects.filter(project=project).count() == 2


def test_deliveries_reprocess_only_resets_failed_and_ignored(alpha):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        logs = [stored_delivery(project, "generic", generic_error(f"ISSUE-{index}")) for index in range(3)]
        WebhookLog.objects.filter(pk=logs[0].pk).update(status=DeliveryStatus.FAILED, reason="boom")
        WebhookLog.objects.filter(pk=logs[1].pk).update(status=DeliveryStatus.IGNORED, reason="deploy")
        WebhookLog.objects.filter(pk=logs[2].pk).update(status=DeliveryStatus.PROCESSED)

        count = deliveries_reprocess(WebhookLog.objects.filter(project=project), actor=alpha.admin)

        assert count == 2
        statuses = dict(WebhookLog.objects.filter(project=project).values_list("pk", "status"))
        assert [statuses[log.pk] for log in logs] == ["pending", "pending", "processed"]


def test_request_processing_is_debounced_by_one_redis_flag(alpha):
    from apps.production_events.processing import _redis

    schema_name = alpha.organization.schema_name
    key = scheduled_key(schema_name)
    _redis().delete(key)
    request_processing(schema_name)
    ttl = _redis().ttl(key)
    assert 0 < ttl <= 120
    queued = _redis().llen("default")
    request_processing(schema_name)
    assert _redis().llen("default") == queued  # the second call sent nothing
    assert queued >= 1
    with tenant_context(alpha.organization):
        process_pending_deliveries()
    assert not _redis().exists(key)
