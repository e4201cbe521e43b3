"""The audit log: every write in this organization, filterable, 50 to a page."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.audit.apis import AuditEntryFilter
from apps.audit.models import AuditEntry
from apps.core.ui import member_required
from apps.organizations.models import Role

PAGE_SIZE = 50


def _readable(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_readable(item)}" for key, item in value.items()) or "(empty)"
    if isinstance(value, list):
        return ", ".join(_readable(item) for item in value) or "(empty)"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def change_lines(changes: dict) -> list[dict[str, str]]:
    """`changes` as lines to read: "field: before → after" for diffs, "field: value" for snapshots."""
    lines = []
    for field, value in changes.items():
        label = field.replace("_", " ")
        if isinstance(value, dict) and set(value) == {"from", "to"}:
            lines.append({"field": label, "before": _readable(value["from"]), "after": _readable(value["to"])})
        else:
            lines.append({"field": label, "value": _readable(value)})
    return lines


@require_GET
@member_required(Role.ADMIN)
def audit_log(request: HttpRequest) -> HttpResponse:
    # The API's filter, so the page and /api/v1/audit-log accept the same parameters.
    filterset = AuditEntryFilter(request.GET, queryset=AuditEntry.objects.all())
    valid = filterset.is_valid()
    entries = filterset.qs if valid else AuditEntry.objects.none()
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page:
        entry.change_lines = change_lines(entry.changes)
    return render(request, "audit/audit_log.html", {
        "section": "audit",
        "page": page,
        "filter_errors": filterset.form.errors,
        "filtered": any(request.GET.get(name) for name in filterset.filters),
        "actions": AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct(),
        "object_types": AuditEntry.objects.order_by("object_type").values_list("object_type", flat=True).distinct(),
    }, status=200 if valid else 400)
