"""Celery tasks of integrations. Thin: each hands over to the module that does the work.

`dispatch_events` runs in the schema that enqueued it (apps.integrations.events sends the `_schema_name`
header); the beat sweep runs on the public schema and walks the tenants.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="integrations.dispatch_events", acks_late=True, reject_on_worker_lost=True)
def dispatch_events() -> int:
    """Deliver this schema's due outbox events to their subscribers; returns how many were handled."""
    from apps.integrations.dispatch import dispatch_due_events

    return dispatch_due_events().handled


@shared_task(name="integrations.sweep_events")
def sweep_events() -> int:
    """Beat tick: every organization with due events (a lost trigger, a retry) gets a dispatch task."""
    from apps.integrations.dispatch import sweep_current_tenant
    from apps.organizations.tenants import sum_over_tenants

    return sum_over_tenants(sweep_current_tenant, label="integrations.sweep_events")
