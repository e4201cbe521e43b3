"""Celery, tenant-aware: a task runs in the schema of the tenant that enqueued it."""

import faulthandler
import os
import signal
import sys

from celery.signals import worker_init, worker_process_init
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus.settings")

app = CeleryApp("argus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
def _dump_stacks_on_sigusr2(**kwargs) -> None:
    """`kill -USR2 <pid>` prints every thread's stack of a worker process to its log: the way to see
    where a stuck task waits, without stopping it."""
    # Celery swaps sys.stderr for a logging proxy; faulthandler needs the real file descriptor.
    faulthandler.register(signal.SIGUSR2, file=sys.__stderr__, all_threads=True)
