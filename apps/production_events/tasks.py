"""Celery tasks of production_events. Thin: each hands over to the module that does the work.

Tenant-aware through tenant-schemas-celery: `process_pending` and `backfill_index` run in the schema that
enqueued them (processing.request_processing sends the `_schema_name` header itself); the beat sweep runs
on the public schema and walks the tenants.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="production_events.process_pending", acks_late=True, reject_on_worker_lost=True)
def process_pending(helper: bool = False) -> int:
    """Process this schema's pending webhook deliveries until none is left; returns how many."""
    from apps.production_events.processing import process_pending_deliveries

    return process_pending_deliveries(helper=helper).deliveries


@shared_task(name="production_events.sweep_pending")
def sweep_pending() -> int:
    """Beat tick: every organization with deliveries pending for too long gets a processing task."""
    from apps.organizations.tenants import sum_over_tenants
    from apps.production_events.processing import sweep_current_tenant

    return sum_over_tenants(sweep_current_tenant, label="production_events.sweep_pending")


@shared_task(name="production_events.backfill_index", acks_late=True, reject_on_worker_lost=True)
def backfill_index(project_id: str, job_id: str) -> int:
    """Re-embed every group of a project (and re-check near-duplicates); progress in the job record."""
    from apps.production_events.similarity import backfill_run

    return backfill_run(project_id, job_id)
