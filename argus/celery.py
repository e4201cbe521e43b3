"""Celery, tenant-aware: a task runs in the schema of the tenant that enqueued it."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus.settings")

app = CeleryApp("argus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
