"""Brings the database up to date: public schema, every tenant, and the pool of spare
tenant schemas that signup takes from. Idempotent; `make run` and the tests call it."""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from apps.organizations.schema_pool import schema_pool_fill, schema_pool_migrate


class Command(BaseCommand):
    help = "Migrate the public schema, all tenant schemas and the spare schemas; fill the spare pool."

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity,
                     executor="multiprocessing")
        schema_pool_migrate(verbosity=verbosity)
        added = schema_pool_fill()
        self.stdout.write(self.style.SUCCESS(f"Schemas are up to date ({added} spare schemas added)."))
