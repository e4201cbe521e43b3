from __future__ import annotations

from django.db.models import Count, QuerySet

from apps.generated_tests.models import Suite, Test


def test_list(*, project=None) -> QuerySet[Test]:
    queryset = Test.objects.select_related("project")
    return queryset.filter(project=project) if project is not None else queryset


def suite_list(*, project=None) -> QuerySet[Suite]:
    queryset = Suite.objects.select_related("project").annotate(test_count=Count("suitetest"))
    return queryset.filter(project=project) if project is not None else queryset
