"""Signup takes a migrated spare schema; a real Celery worker refills the pool."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_exists

from apps.organizations.models import SpareSchema
from apps.organizations.schema_pool import schema_pool_fill
from apps.organizations.services import organization_provision
from apps.organizations.tasks import schema_pool_fill_task

ROOT = Path(__file__).resolve().parents[2]
TENANT_APP_LABELS = {"projects", "audit", "generated_tests", "test_runs"}


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def _applied_tenant_migrations(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')  # noqa: S608 - our own schema names
        return {row for row in cursor.fetchall() if row[0] in TENANT_APP_LABELS}


def _expected_tenant_migrations() -> set[tuple[str, str]]:
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    return {key for key in loader.disk_migrations if key[0] in TENANT_APP_LABELS}


def _provision(slug: str):
    return organization_provision(name=slug.title(), slug=slug, owner_email=f"owner@{slug}.test",
                                  owner_password="Pool-test-password-1")


def test_signup_renames_a_spare_schema(db):
    schema_pool_fill(size=2)
    spare = SpareSchema.objects.order_by("created_at").first()
    before = SpareSchema.objects.count()

    organization, _owner = _provision("poolcase")

    assert SpareSchema.objects.count() == before - 1
    assert not SpareSchema.objects.filter(pk=spare.pk).exists()
    assert not schema_exists(spare.schema_name)
    assert {"projects_project", "audit_auditentry"} <= _tables(organization.schema_name)
    assert _applied_tenant_migrations(organization.schema_name) == _expected_tenant_migrations()


def test_signup_without_spare_builds_a_migrated_schema(db):
    SpareSchema.objects.all().delete()

    organization, _owner = _provision("nopool")

    assert {"projects_project", "audit_auditentry"} <= _tables(organization.schema_name)
    assert _applied_tenant_migrations(organization.schema_name) == _expected_tenant_migrations()


@pytest.fixture
def celery_worker_process(django_db_blocker):
    database = connection.settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    env = {
        **os.environ,
        # The worker must see the test database, where this test commits its rows.
        "DATABASE_URL": f"postgres://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "argus", "worker", "-Q", "default", "--concurrency", "1",
         "--pool", "solo", "--without-mingle", "--without-gossip", "--loglevel", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    yield worker
    worker.terminate()
    worker.wait(timeout=20)


def test_worker_refills_the_pool_after_a_signup(django_db_blocker, celery_worker_process):
    with django_db_blocker.unblock():
        schema_pool_fill()
        taken = SpareSchema.objects.order_by("created_at").first()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{taken.schema_name}" CASCADE')
        taken.delete()
        assert SpareSchema.objects.count() == settings.ARGUS_SPARE_SCHEMAS - 1

        schema_pool_fill_task.delay()

        deadline = time.monotonic() + 60
        while SpareSchema.objects.count() < settings.ARGUS_SPARE_SCHEMAS:
            if celery_worker_process.poll() is not None:
                pytest.fail(f"worker exited: {celery_worker_process.stdout.read().decode()[-2000:]}")
            assert time.monotonic() < deadline, "the worker did not refill the pool within 60 s"
            time.sleep(0.2)
        newest = SpareSchema.objects.order_by("-created_at").first()
        assert newest.pk != taken.pk
        assert _applied_tenant_migrations(newest.schema_name) == _expected_tenant_migrations()
