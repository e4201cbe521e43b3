"""The management commands: reprocess_deliveries and backfill_index."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from apps.production_events.models import DeliveryStatus, ErrorGroup, WebhookLog
from apps.production_events.processing import process_pending_deliveries
from tests.production_events.processing_deliveries import generic_error, make_project, stored_delivery


def test_reprocess_deliveries_processes_a_repaired_failure(alpha):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        broken = stored_delivery(project, "generic", {"id": "evt-1", "issue_id": "ISSUE-1"})
        untouched = stored_delivery(project, "generic", {"id": "evt-2", "issue_id": "ISSUE-2"})
        process_pending_deliveries()
        assert set(WebhookLog.objects.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
        WebhookLog.objects.filter(pk=broken.pk).update(payload=generic_error("ISSUE-1"))

    out = StringIO()
    call_command("reprocess_deliveries", "--schema", alpha.organization.schema_name, "--id", str(broken.pk),
                 verbosity=0, stdout=out)

    assert "1 deliveries reprocessed: 1 processed" in out.getvalue()
    with tenant_context(alpha.organization):
        broken.refresh_from_db()
        untouched.refresh_from_db()
        assert broken.status == DeliveryStatus.PROCESSED and broken.attempts == 2
        assert untouched.status == DeliveryStatus.FAILED and untouched.attempts == 1


def test_reprocess_deliveries_refuses_bad_arguments(alpha):
    with pytest.raises(CommandError):
        call_command("reprocess_deliveries", "--schema", "no_such_schema", verbosity=0)
    with pytest.raises(CommandError):
        call_command("reprocess_deliveries", "--id", "not-a-uuid", verbosity=0)


def test_backfill_index_reembeds_the_groups(alpha):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        for issue in ("A", "B"):
            stored_delivery(project, "generic", generic_error(issue, message=f"failure {issue} happened"))
        process_pending_deliveries()
        before = dict(ErrorGroup.objects.filter(project=project).values_list("pk", "embedding"))
        ErrorGroup.objects.filter(project=project).update(embedding=None)

    out = StringIO()
    call_command("backfill_index", "--schema", alpha.organization.schema_name, "--project", str(project.pk),
                 verbosity=0, stdout=out)

    assert "2 groups re-embedded" in out.getvalue()
    with tenant_context(alpha.organization):
        after = dict(ErrorGroup.objects.filter(project=project).values_list("pk", "embedding"))
        assert after.keys() == before.keys()
        for pk, vector in after.items():
            assert vector is not None
            assert max(abs(a - b) for a, b in zip(vector, before[pk], strict=True)) < 1e-6
