from __future__ import annotations

from typing import Any

from django.db import models

from apps.audit.models import AuditEntry
from apps.core.context import current_request_context


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {field: _jsonable(getattr(instance, field)) for field in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Only the fields that changed, as {"field": {"from": old, "to": new}}."""
    return {
        field: {"from": before.get(field), "to": value}
        for field, value in after.items()
        if before.get(field) != value
    }


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    changes: dict | None = None,
) -> AuditEntry:
    """Append to the current tenant's audit trail. Call inside the write's transaction."""
    context = current_request_context()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        actor=actor if is_user else None,
        actor_email=actor.email if is_user else "",
        api_key_prefix=context.api_key_prefix or "",
        action=action,
        object_type=object_type or (target._meta.model_name if target is not None else ""),
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        changes=_jsonable(changes or {}),
        ip_address=context.ip,
    )
