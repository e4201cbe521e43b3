"""The webhook intake as a Django/DRF view: the same core as the ASGI fast path (fastpath.py), which
serves this path in the real server. This view documents the operation in the OpenAPI schema and
serves the Django test client and WSGI deployments."""

from __future__ import annotations

from django.db import connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.apis import ErrorEnvelopeSerializer
from apps.production_events import intake, signatures


class RawBodyParser(BaseParser):
    """Leaves the body alone: signatures are checked over the exact bytes, so the view reads
    request.body itself."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


class DeliveryAcceptedSerializer(serializers.Serializer):
    delivery = serializers.UUIDField(help_text="The stored delivery (WebhookLog) id.")
    status = serializers.ChoiceField(choices=["pending", "duplicate"],
                                     help_text="pending: queued for processing; duplicate: this delivery id was "
                                               "already received, stored again and never processed twice.")

    class Meta:
        ref_name = "WebhookDeliveryAccepted"


def _header(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False, description=description)


WEBHOOK_DESCRIPTION = f"""
Receives one delivery from an error tracker. Authenticated by the intake's secret, as the vendor does it
(no API key, no session):

- **sentry**: `Sentry-Hook-Signature` (or `Sentry-App-Signature`) = hex HMAC-SHA256(secret, raw body).
- **fullstory**: `Fullstory-Signature: o:<org>,t:<ts>,v:<base64 HMAC-SHA256(secret, body + ":" + org + ":"
  + ts)>`; the timestamp must be within {signatures.TOLERANCE_SECONDS} s.
- **generic**: `X-Argus-Timestamp: <unix seconds>` and `X-Argus-Signature: sha256=<hex HMAC-SHA256(secret,
  "<timestamp>.<raw body>")>`; the timestamp must be within {signatures.TOLERANCE_SECONDS} s.
- **datadog, newrelic, bugsnag, rollbar, logrocket**: the secret as `Authorization: Bearer <secret>`, Basic
  auth (any user, the secret as password), `X-Argus-Token: <secret>` or `?token=<secret>`.

The previous secret keeps working until the end of a rotation's grace period. A valid delivery is stored
(redacted) before the 202, then processed asynchronously; a repeated delivery id is acknowledged as a
duplicate and never processed twice. Errors: 401 `missing_signature` / `invalid_signature` /
`expired_signature` (nothing stored), 404 `unknown_source` / `unknown_intake`, 413 `payload_too_large`,
400 `invalid_json` (not a JSON object).
"""


class WebhookIntakeApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [RawBodyParser]

    @extend_schema(
        operation_id="webhook_deliver",
        summary="Deliver a tracker webhook",
        description=WEBHOOK_DESCRIPTION,
        tags=["webhooks"],
        auth=[],
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            _header("Sentry-Hook-Signature", "sentry: hex HMAC-SHA256 of the raw body."),
            _header("Fullstory-Signature", "fullstory: o:<org>,t:<timestamp>,v:<base64 signature>."),
            _header("X-Argus-Signature", "generic: sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\">."),
            _header("X-Argus-Timestamp", "generic: Unix seconds, signed."),
            _header("X-Argus-Token", "token sources: the intake's secret."),
            _header("Authorization", "token sources: Bearer <secret>, or Basic with the secret as password."),
            OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                             description="token sources: the intake's secret in the URL."),
        ],
        responses={
            202: DeliveryAcceptedSerializer,
            400: OpenApiResponse(ErrorEnvelopeSerializer, description="invalid_json: not a JSON object."),
            401: OpenApiResponse(ErrorEnvelopeSerializer,
                                 description="missing_signature, invalid_signature or expired_signature."),
            404: OpenApiResponse(ErrorEnvelopeSerializer, description="unknown_source or unknown_intake."),
            413: OpenApiResponse(ErrorEnvelopeSerializer, description="payload_too_large."),
        },
    )
    def post(self, request, source: str, key: str):
        try:
            content_length = int(request.META.get("CONTENT_LENGTH") or 0) or None
        except ValueError:
            content_length = None
        intake.check_size(content_length)
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            delivery = intake.intake_receive(source=source, key=key, headers=headers, body=request.body,
                                             query=request.query_params.dict(), content_length=content_length)
        except intake.IntakeRejected as exc:
            intake.log_not_found(connection.schema_name, source, key, exc)
            raise
        return Response(intake.response_body(delivery), status=status.HTTP_202_ACCEPTED)
