"""WebSocket routes of domain events, mounted by argus/routing.py."""

from django.urls import path

from apps.integrations.consumers import EventFeedConsumer

websocket_urlpatterns = [
    path("ws/events/", EventFeedConsumer.as_asgi()),
]
