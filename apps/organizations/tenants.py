"""Platform-level jobs (beat ticks) that do the same work in every organization's schema."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django_tenants.utils import get_public_schema_name, get_tenant_model, tenant_context

logger = logging.getLogger(__name__)


def sum_over_tenants(job: Callable[[], int], *, label: str) -> int:
    """Run `job` inside each organization's schema and add up what it returns. A tenant whose job
    fails is logged and skipped, so one broken organization never stops the others."""
    total = 0
    for tenant in get_tenant_model().objects.exclude(schema_name=get_public_schema_name()):
        try:
            with tenant_context(tenant):
                total += job()
        except Exception:  # noqa: BLE001 - logged; the next tick tries again
            logger.exception("%s failed for %s", label, tenant.schema_name)
    return total
