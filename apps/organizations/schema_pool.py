"""The pool of spare tenant schemas: created and migrated off the request path, so that
signup only renames one (see Organization.create_schema)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from apps.organizations.models import SpareSchema


def schema_pool_fill(*, size: int | None = None) -> int:
    """Adds spares until the pool holds `size`. Returns how many were added."""
    target = settings.ARGUS_SPARE_SCHEMAS if size is None else size
    added = 0
    while SpareSchema.objects.count() < target:
        name = f"spare_{uuid.uuid4().hex[:16]}"
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{name}"')
            call_command("migrate_schemas", schema_name=name, tenant=True, interactive=False, verbosity=0)
            connection.set_schema_to_public()
            # Listed only once fully migrated: a half-built schema is never handed out.
            SpareSchema.objects.create(schema_name=name)
        added += 1
    return added


def schema_pool_migrate(*, verbosity: int = 0) -> None:
    """Brings every spare up to the latest tenant migrations (run at deploy by setup_platform)."""
    for name in SpareSchema.objects.values_list("schema_name", flat=True):
        call_command("migrate_schemas", schema_name=name, tenant=True, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()
