"""WebSocket routes, mounted by argus/asgi.py behind the origin check and the tenant middleware."""

from django.urls import path, re_path

from apps.test_runs.consumers import NotFoundConsumer, RunConsumer, RunFeedConsumer

websocket_urlpatterns = [
    path("ws/runs/<uuid:run_id>/", RunConsumer.as_asgi()),
    path("ws/runs/", RunFeedConsumer.as_asgi()),
    re_path(r"", NotFoundConsumer.as_asgi()),
]
