from celery import shared_task

from apps.organizations.schema_pool import schema_pool_fill


@shared_task(name="organizations.schema_pool_fill")
def schema_pool_fill_task() -> int:
    # Runs in the public schema: it is queued from the public signup request.
    return schema_pool_fill()
