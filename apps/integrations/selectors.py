"""Reads of integrations: the event log and the dead letters."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.integrations.models import DeadLetter, OutboxEvent


def event_list() -> QuerySet[OutboxEvent]:
    return OutboxEvent.objects.order_by("-created_at")


def dead_letter_list(*, pending_only: bool = False) -> QuerySet[DeadLetter]:
    """Dead letters with their event (one query); `pending_only` leaves out the replayed ones."""
    queryset = DeadLetter.objects.select_related("event").order_by("-created_at")
    return queryset.filter(replayed_at__isnull=True) if pending_only else queryset
