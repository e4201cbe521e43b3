"""Error pages: JSON envelopes under /api/, HTML elsewhere."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from apps.core.errors import json_error_response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return json_error_response(request, "not_found", "Not found.", 404)
    return render(request, "errors/404.html", status=404)


def server_error(request):
    if _is_api(request):
        return json_error_response(request, "server_error", "Internal server error.", 500)
    # Rendered without the request: no context processor may touch the database that just failed.
    return HttpResponseServerError(loader.get_template("errors/500.html").render())


def permission_denied(request, exception=None):
    if _is_api(request):
        return json_error_response(request, "permission_denied", "Your role does not allow this action.", 403)
    return render(request, "errors/403.html", status=403)


def bad_request(request, exception=None):
    if _is_api(request):
        return json_error_response(request, "bad_request", "Bad request.", 400)
    return render(request, "errors/400.html", status=400)
