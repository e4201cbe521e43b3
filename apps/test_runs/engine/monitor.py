"""Watches a running result from a daemon thread with its own database connection (in the tenant's
schema): refreshes its heartbeat, so the reaper can tell a live worker from a dead one, and notices
a cancel request, so the interpreter stops between polls without querying the database itself."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from apps.audit.models import AuditEntry
from apps.test_runs import services
from apps.test_runs.models import Run, TestResult

logger = logging.getLogger(__name__)

CANCEL_POLL_SECONDS = 0.25


def heartbeat_interval() -> float:
    # Well inside the reaper's staleness window: a few missed beats still don't look like a dead worker.
    return max(0.2, settings.ARGUS_RESULT_STALE_SECONDS / 4)


def cancelled_by(run_id) -> str:
    """Who asked to cancel the run, from its audit entry ("" when unknown)."""
    entry = (AuditEntry.objects.filter(action="run.cancelled", object_id=str(run_id))
             .only("actor_email", "api_key_prefix").order_by("-created_at").first())
    if entry is None:
        return ""
    if entry.api_key_prefix:
        return f"API key {entry.api_key_prefix}"
    return entry.actor_email


class ResultMonitor:
    def __init__(self, *, result: TestResult, schema_name: str) -> None:
        self.result = result
        self.cancelled = threading.Event()
        self.cancelled_by = ""
        self._schema_name = schema_name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"argus-monitor-{result.pk}", daemon=True)

    def start(self) -> ResultMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _watch(self) -> None:
        every = heartbeat_interval()
        next_beat = time.monotonic() + every
        try:
            with schema_context(self._schema_name):
                while not self._stop.wait(CANCEL_POLL_SECONDS):
                    try:
                        if time.monotonic() >= next_beat:
                            services.result_heartbeat(self.result)
                            next_beat = time.monotonic() + every
                        if not self.cancelled.is_set() and self._cancel_requested():
                            self.cancelled_by = cancelled_by(self.result.run_id)
                            self.cancelled.set()
                    except Exception:  # noqa: BLE001 - a database hiccup: try again on the next tick
                        logger.warning("watching result %s failed", self.result.pk, exc_info=True)
                        connection.close()
        finally:
            connection.close()

    def _cancel_requested(self) -> bool:
        return Run.objects.filter(pk=self.result.run_id, cancel_requested_at__isnull=False).exists()
