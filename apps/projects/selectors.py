from __future__ import annotations

from django.db.models import QuerySet

from apps.projects.models import Project


def project_list(*, include_archived: bool = False) -> QuerySet[Project]:
    queryset = Project.objects.prefetch_related("environments")
    if not include_archived:
        queryset = queryset.filter(archived_at__isnull=True)
    return queryset
