"""`manage.py backfill_index`: re-embed error groups for similar-error search (after a change of the
embedding, or for groups stored before it), with a progress bar.

    python manage.py backfill_index                   # every project of every organization
    python manage.py backfill_index --schema acme --project 6f1c...
"""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import get_public_schema_name, get_tenant_model, tenant_context
from tqdm import tqdm

from apps.production_events.models import ErrorGroup
from apps.production_events.similarity import reembed_groups
from apps.projects.models import Project


class Command(BaseCommand):
    help = "Re-embed error groups for similar-error search."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schema", help="Only this organization's schema (default: all).")
        parser.add_argument("--project", help="Only this project (id).")

    def handle(self, *args, schema: str | None, project: str | None, **options) -> None:
        tenants = get_tenant_model().objects.exclude(schema_name=get_public_schema_name())
        if schema:
            tenants = tenants.filter(schema_name=schema)
            if not tenants.exists():
                raise CommandError(f"No organization with schema {schema!r}.")
        try:
            project_id = uuid.UUID(project) if project else None
        except ValueError:
            raise CommandError(f"Not a project id: {project}") from None
        total = 0
        for tenant in tenants:
            with tenant_context(tenant):
                projects = Project.objects.all()
                if project_id is not None:
                    projects = projects.filter(pk=project_id)
                for row in projects:
                    total += self._reembed(row, tenant.schema_name, quiet=options["verbosity"] == 0)
        self.stdout.write(f"{total} groups re-embedded.")

    def _reembed(self, project: Project, schema_name: str, *, quiet: bool) -> int:
        total = ErrorGroup.objects.filter(project=project, merged_into__isnull=True).count()
        with tqdm(total=total, desc=f"{schema_name}/{project.slug}", unit="group", disable=quiet) as bar:
            return reembed_groups(project.pk, progress=lambda done: bar.update(done - bar.n))
