"""`manage.py reprocess_deliveries`: put failed (or ignored) webhook deliveries back through processing.

    python manage.py reprocess_deliveries                      # every organization, failed deliveries
    python manage.py reprocess_deliveries --schema acme --status ignored
    python manage.py reprocess_deliveries --id 6f1c... --id 9a2b...
    python manage.py reprocess_deliveries --enqueue            # leave the work to the Celery workers

Without --enqueue the deliveries are processed here, with a progress bar; each one is audited as a
reprocess by the system (no user).
"""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import get_public_schema_name, get_tenant_model, tenant_context
from tqdm import tqdm

from apps.production_events.models import DeliveryStatus, WebhookLog
from apps.production_events.processing import REPROCESSABLE, deliveries_reprocess, process_delivery


class Command(BaseCommand):
    help = "Reprocess failed or ignored webhook deliveries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schema", help="Only this organization's schema (default: all).")
        parser.add_argument("--status", choices=[str(status) for status in REPROCESSABLE], default="failed")
        parser.add_argument("--id", action="append", default=[], dest="ids", help="A delivery id (repeatable).")
        parser.add_argument("--enqueue", action="store_true", help="Reset to pending and let the workers process.")

    def handle(self, *args, schema: str | None, status: str, ids: list[str], enqueue: bool, **options) -> None:
        try:
            delivery_ids = [uuid.UUID(value) for value in ids]
        except ValueError as error:
            raise CommandError(f"Not a delivery id: {error}") from None
        tenants = get_tenant_model().objects.exclude(schema_name=get_public_schema_name())
        if schema:
            tenants = tenants.filter(schema_name=schema)
            if not tenants.exists():
                raise CommandError(f"No organization with schema {schema!r}.")
        reset = processed = failed = 0
        for tenant in tenants:
            with tenant_context(tenant):
                queryset = WebhookLog.objects.filter(status=status, is_duplicate=False)
                if delivery_ids:
                    queryset = WebhookLog.objects.filter(pk__in=delivery_ids, is_duplicate=False)
                pks = list(queryset.filter(status__in=REPROCESSABLE).values_list("pk", flat=True))
                if not pks:
                    continue
                reset += deliveries_reprocess(WebhookLog.objects.filter(pk__in=pks), actor=None, trigger=enqueue)
                if enqueue:
                    continue
                for log in tqdm(WebhookLog.objects.filter(pk__in=pks).order_by("received_at"), total=len(pks),
                                desc=tenant.schema_name, unit="delivery", disable=options["verbosity"] == 0):
                    process_delivery(log)
                    if log.status == DeliveryStatus.PROCESSED:
                        processed += 1
                    elif log.status == DeliveryStatus.FAILED:
                        failed += 1
        if enqueue:
            self.stdout.write(f"{reset} deliveries queued for processing.")
        else:
            self.stdout.write(f"{reset} deliveries reprocessed: {processed} processed, {failed} failed, "
                              f"{reset - processed - failed} ignored.")
