"""/health and /ready answer on every host, before any tenant lookup."""

from __future__ import annotations

import pytest
from django.test import Client

HOSTS = ["localhost", "alpha.localhost", "nope.localhost", "127.0.0.1"]


@pytest.mark.parametrize("host", HOSTS)
def test_health_is_ok_everywhere(host, db, session_orgs):
    response = Client(HTTP_HOST=host).get("/health")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("host", HOSTS)
def test_ready_checks_database_redis_and_broker(host, db, session_orgs):
    response = Client(HTTP_HOST=host).get("/ready")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "redis", "broker"}
    for name, check in body["checks"].items():
        assert check["ok"] is True, (name, check)
        assert check["ms"] >= 0


def test_health_needs_no_database(django_db_blocker):
    # Outside any `db` fixture the database is blocked: /health must not touch it.
    with django_db_blocker.block():
        response = Client(HTTP_HOST="alpha.localhost").get("/health")

    assert response.status_code == 200


def test_ready_reports_a_broken_dependency(db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = Client(HTTP_HOST="localhost").get("/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False and body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True
