"""Celery tasks of risk_scores, and the debounced trigger that processing calls after new events.

Tenant-aware through tenant-schemas-celery: a task sent inside a tenant's schema runs in that schema.
"""

from __future__ import annotations

from functools import cache

import redis
from celery import shared_task
from django.conf import settings
from django.db import connection, transaction

# A burst of deliveries asks for a recalculation many times: one task per project in this window.
DEBOUNCE_SECONDS = 10
# The task waits a little, so the rest of the burst is in the database when it runs.
COUNTDOWN_SECONDS = 3
RECALCULATE_TASK = "risk_scores.recalculate_project"


def debounce_key(schema_name: str, project_id) -> str:
    return f"argus:{schema_name}:risk:scheduled:{project_id}"


@cache
def _redis() -> redis.Redis:
    # redis-py's pool notices a fork and reconnects, so one client per process is safe under prefork.
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def request_risk_recalculation(project_id) -> None:
    """Recalculate the project's risk soon, once for a burst of requests (after the caller's commit).

    The first request of a burst sets a Redis flag (SET NX EX) and sends the task with a short countdown;
    requests while the flag is set do nothing. The task clears the flag before it reads anything, so an
    event committed after that point asks again and is never left out.
    """
    schema_name = connection.schema_name

    def schedule() -> None:
        if _redis().set(debounce_key(schema_name, project_id), 1, nx=True, ex=DEBOUNCE_SECONDS):
            recalculate_project.apply_async(args=[str(project_id)], countdown=COUNTDOWN_SECONDS,
                                            headers={"_schema_name": schema_name})

    transaction.on_commit(schedule)


@shared_task(name=RECALCULATE_TASK)
def recalculate_project(project_id: str) -> int:
    """Recalculate one project's risk scores (in the schema the task was sent from)."""
    from apps.risk_scores.services import recalculate_project_risk_by_id

    _redis().delete(debounce_key(connection.schema_name, project_id))
    return recalculate_project_risk_by_id(project_id)


@shared_task(name="risk_scores.recalculate_all")
def recalculate_all() -> int:
    """Beat tick: recalculate every project of every tenant, so trends move as days pass without new events."""
    from apps.organizations.tenants import sum_over_tenants
    from apps.risk_scores.services import recalculate_all_projects

    return sum_over_tenants(recalculate_all_projects, label="risk recalculation")
