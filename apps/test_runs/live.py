"""Live updates: every change to a run is pushed to two channel groups, both prefixed by the
tenant's schema so no socket can ever subscribe to another organization's events.

- `<schema>.run.<run id>`: the deltas of one run (step started/finished, test finished, log, run finished)
- `<schema>.runs`: the organization's run feed (run queued/started/progress/finished)

The database is the source of truth; consumers send a snapshot on connect and these deltas after.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

RUN_EVENT_TYPE = "run.event"  # the consumer method (run_event) that relays a delta


def run_group(run_id, schema_name: str | None = None) -> str:
    return f"{schema_name or connection.schema_name}.run.{run_id}"


def feed_group(schema_name: str | None = None) -> str:
    return f"{schema_name or connection.schema_name}.runs"


def publish(run_id, event: str, data: dict[str, Any], *, feed: bool = False) -> None:
    """Send one delta to the run's group (and the feed). Never raises: the database already has it."""
    message = {"type": RUN_EVENT_TYPE, "event": event, "run_id": str(run_id),
               "at": timezone.now().isoformat(), "data": data}
    layer = get_channel_layer()
    try:
        async_to_sync(layer.group_send)(run_group(run_id), message)
        if feed:
            async_to_sync(layer.group_send)(feed_group(), message)
    except Exception:  # a Redis hiccup must not fail the test being run
        logger.warning("live update %s for run %s was not delivered", event, run_id, exc_info=True)
