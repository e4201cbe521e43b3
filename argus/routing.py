"""Every WebSocket route, mounted by argus/asgi.py behind the origin check and the tenant middleware."""

from django.urls import re_path

from apps.integrations.routing import websocket_urlpatterns as event_routes
from apps.test_runs.consumers import NotFoundConsumer
from apps.test_runs.routing import websocket_urlpatterns as run_routes

websocket_urlpatterns = [
    *run_routes,
    *event_routes,
    re_path(r"", NotFoundConsumer.as_asgi()),
]
