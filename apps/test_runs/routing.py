"""WebSocket routes of live runs, mounted by argus/routing.py."""

from django.urls import path

from apps.test_runs.consumers import RunConsumer, RunFeedConsumer

websocket_urlpatterns = [
    path("ws/runs/<uuid:run_id>/", RunConsumer.as_asgi()),
    path("ws/runs/", RunFeedConsumer.as_asgi()),
]
