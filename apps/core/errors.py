"""One error envelope for every API error:

    {"error": {"code": "validation_error", "message": "...", "details": {"field": ["..."]}}}

`code` is stable and machine-readable; `message` is for people; `details` holds field errors.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A business rule said no. Services raise it; the API answers 400 with its code."""

    def __init__(self, message: str, *, code: str = "invalid", details: dict | None = None,
                 status_code: int = status.HTTP_400_BAD_REQUEST):
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details or {}
        self.status_code = status_code


_CODE_BY_EXCEPTION = {
    exceptions.ParseError: ("malformed_request", "The request body is not valid JSON."),
    exceptions.NotAuthenticated: ("not_authenticated", "Authentication credentials were not provided."),
    exceptions.AuthenticationFailed: ("authentication_failed", "Invalid credentials."),
    exceptions.PermissionDenied: ("permission_denied", "Your role does not allow this action."),
    exceptions.NotFound: ("not_found", "Not found."),
    exceptions.MethodNotAllowed: ("method_not_allowed", "Method not allowed."),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Unsupported media type."),
    exceptions.Throttled: ("throttled", "Too many requests."),
    exceptions.NotAcceptable: ("not_acceptable", "Not acceptable."),
}


def envelope(code: str, message: str, details: dict | list | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def api_exception_handler(exc, context):
    # Imported here: rest_framework.views loads the authentication classes, which use this module.
    from rest_framework.views import exception_handler

    if isinstance(exc, ApplicationError):
        return Response(envelope(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = envelope("validation_error", _first_message(details), details)
        return response

    code, default_message = _CODE_BY_EXCEPTION.get(type(exc), (None, None))
    if code is None:
        code = getattr(exc, "default_code", "error")
        default_message = str(exc.detail)
    # A refusal with its own reason (a CSRF failure, say) must not read as "your role does not allow this".
    specific = isinstance(exc, exceptions.AuthenticationFailed | exceptions.Throttled) or (
        isinstance(exc, exceptions.PermissionDenied) and exc.detail != exceptions.PermissionDenied.default_detail
    )
    message = str(exc.detail) if specific else default_message
    response.data = envelope(code, message)
    return response


def _first_message(details) -> str:
    """A readable summary: the first field error, prefixed with the field name."""
    if isinstance(details, dict):
        for field, errors in details.items():
            inner = _first_message(errors)
            return inner if field == "non_field_errors" else f"{field}: {inner}"
    if isinstance(details, list) and details:
        return _first_message(details[0])
    return str(details) if details else "Invalid input."


def json_error_response(request, code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(envelope(code, message), status=status_code)
