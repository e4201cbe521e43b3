from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.core.context import RequestContext, reset_request_context, set_request_context
from apps.core.health import readiness


class HealthCheckMiddleware:
    """Answers /health and /ready on every host, before a tenant is looked up.

    Load balancers probe by IP or by any host name; neither must need a tenant or a
    database round trip (for /health).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/health":
            return JsonResponse({"status": "ok"})
        if request.path == "/ready":
            checks = readiness()
            ready = all(check["ok"] for check in checks.values())
            return JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks},
                                status=200 if ready else 503)
        return self.get_response(request)


def client_ip(request: HttpRequest) -> str | None:
    # uvicorn --proxy-headers already resolves X-Forwarded-For from trusted proxies into REMOTE_ADDR.
    return request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_request_context(RequestContext(ip=client_ip(request)))
        try:
            return self.get_response(request)
        finally:
            reset_request_context(token)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
