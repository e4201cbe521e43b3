"""ASGI entry point: HTTP through Django (tenant resolved by its middleware), WebSockets through
Channels: the Origin must be an allowed host, then TenantWebSocketMiddleware resolves the
organization from the Host and authenticates the member before any consumer runs.

Webhook deliveries (POST /api/v1/webhooks/<source>/<key>) are answered by the intake's raw ASGI
fast path before Django (apps/production_events/fastpath.py): the same checks and storage, at a
fraction of the CPU per request; every other HTTP request passes through to Django unchanged."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus.settings")
django_asgi_app = get_asgi_application()

# These import models, so they need Django set up first.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.organizations.websocket import TenantWebSocketMiddleware  # noqa: E402
from apps.production_events.fastpath import WebhookFastPath  # noqa: E402
from argus.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({
    "http": WebhookFastPath(django_asgi_app),
    "websocket": AllowedHostsOriginValidator(TenantWebSocketMiddleware(URLRouter(websocket_urlpatterns))),
})
