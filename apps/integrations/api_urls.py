"""/api/v1/ operations of integrations; argus/api_urls.py appends these patterns to its flat list."""

from django.urls import path

from apps.integrations.apis import DeadLetterListApi, DeadLetterReplayApi, OutboxEventDetailApi, OutboxEventListApi

urlpatterns: list = [
    path("events", OutboxEventListApi.as_view(), name="api-events"),
    path("events/<uuid:outbox_event_id>", OutboxEventDetailApi.as_view(), name="api-event-detail"),
    path("dead-letters", DeadLetterListApi.as_view(), name="api-dead-letters"),
    path("dead-letters/<uuid:dead_letter_id>/replay", DeadLetterReplayApi.as_view(), name="api-dead-letter-replay"),
]
