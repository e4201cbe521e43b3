"""Reads of healing: heals, patterns, a project's settings and the published benchmark figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from apps.healing.models import Heal, HealingPattern, HealingSettings, HealStatus
from apps.projects.models import Project

ACCURACY_FILE = Path(settings.BASE_DIR) / "bench" / "healing" / "latest.json"
ACCURACY_FIGURES = ("measured_at", "cases", "pages", "correct_heals", "wrong_element_heals", "refusals",
                    "correct_refusals", "missed_heals", "accuracy", "wrong_element_rate", "p50_ms", "p95_ms")


def healing_settings_for(project: Project) -> HealingSettings:
    """The project's settings; the defaults (unsaved) when it never changed them."""
    return HealingSettings.objects.filter(project=project).first() or HealingSettings(project=project)


def heal_list(*, project=None, status: str | None = None, test=None) -> QuerySet[Heal]:
    queryset = Heal.objects.select_related("run", "test")
    if project is not None:
        queryset = queryset.filter(project=project)
    if status:
        queryset = queryset.filter(status=status)
    if test is not None:
        queryset = queryset.filter(test=test)
    return queryset


def pending_heals(*, project) -> QuerySet[Heal]:
    return heal_list(project=project, status=HealStatus.PENDING_REVIEW)


def pattern_list(*, project=None) -> QuerySet[HealingPattern]:
    queryset = HealingPattern.objects.all()
    return queryset.filter(project=project) if project is not None else queryset


def accuracy_figures(path: Path | None = None) -> dict[str, Any]:
    """The latest healing benchmark (bench/healing/latest.json): {"measured": False} until it ran."""
    try:
        data = json.loads((path or ACCURACY_FILE).read_text())
    except (OSError, ValueError):
        return {"measured": False, "message": "Not measured yet: run bench/healing/run.py."}
    if not isinstance(data, dict):
        return {"measured": False, "message": "Not measured yet: run bench/healing/run.py."}
    figures = {key: data.get(key) for key in ACCURACY_FIGURES}
    return {"measured": True, **figures, "by_mutation": data.get("by_mutation") or {}}
