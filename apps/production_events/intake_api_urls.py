"""/api/v1/ operations of production_events (intake); api_urls.py joins these lists.

In the running server the ASGI fast path (fastpath.py) answers this path before Django; this view is the
same intake for the OpenAPI schema, the test client and WSGI deployments."""

from django.urls import path

from apps.production_events.intake_apis import WebhookIntakeApi

urlpatterns = [
    path("webhooks/<str:source>/<str:key>", WebhookIntakeApi.as_view(), name="api-webhook-intake"),
]
