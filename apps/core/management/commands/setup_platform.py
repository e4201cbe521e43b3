"""Brings the database up to date: public schema, the tenant template schema, every tenant.

Idempotent; `make run` and `make test` call it. New organizations are cloned from the
template schema, so keeping the template migrated is what keeps signup fast.
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django_tenants.utils import schema_exists


class Command(BaseCommand):
    help = "Migrate the public schema, the tenant template schema and all tenant schemas."

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        template = settings.TENANT_BASE_SCHEMA
        if not schema_exists(template):
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{template}"')
        call_command("migrate_schemas", schema_name=template, tenant=True, interactive=False, verbosity=verbosity)
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity,
                     executor="multiprocessing")
        self.stdout.write(self.style.SUCCESS("Schemas are up to date."))
