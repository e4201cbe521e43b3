"""Shared API building blocks: the tenant-scoped base view and the documented error envelope."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView

from apps.core.errors import ApplicationError


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable error code.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    details = serializers.DictField(help_text="Field name to list of messages, for validation errors.")

    class Meta:
        ref_name = "ErrorDetail"


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()

    class Meta:
        ref_name = "ErrorEnvelope"


_ERROR_DESCRIPTIONS = {
    400: "Invalid input (validation_error, malformed_request, or a business rule).",
    401: "Missing or invalid credentials for this organization.",
    403: "Your role does not allow this action.",
    404: "Not found in this organization.",
    409: "Conflicts with the current state.",
    410: "No longer valid.",
    413: "The upload exceeds the size limit.",
    429: "Too many attempts.",
}


def error_responses(*status_codes: int) -> dict[int, OpenApiResponse]:
    codes = status_codes or (400, 401, 403, 404)
    return {code: OpenApiResponse(ErrorEnvelopeSerializer, description=_ERROR_DESCRIPTIONS[code]) for code in codes}


# Base for every tenant API view. (A comment, not a docstring: drf-spectacular would publish a
# docstring as every operation's description.) Tenant tables are isolated by the schema the
# host selected; public-schema rows (members, invitations, API keys) are filtered here, once,
# by `organization_queryset`.
class OrganizationAPIView(GenericAPIView):

    def get_organization(self):
        return self.request.auth.membership.organization

    def organization_queryset(self, queryset):
        if getattr(self, "swagger_fake_view", False):
            # Schema generation inspects the model without a request bound to a tenant.
            return queryset.none()
        return queryset.filter(organization_id=self.request.tenant.pk)


class EnumChoiceField(serializers.ChoiceField):
    """A choice field published as one named enum component (`<enum_name>Enum`).

    drf-spectacular names enums by field name and warns when one name ("status", "kind") carries
    several choice sets; naming each set once keeps the schema exact and warning-free."""

    def __init__(self, choices, *, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(choices, **kwargs)


class EnumChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = EnumChoiceField

    def get_name(self) -> str:
        return f"{self.target.enum_name}{'OrBlank' if self.target.allow_blank else ''}Enum"

    def map_serializer_field(self, auto_schema, direction) -> dict:
        values = list(self.target.choices)
        if self.target.allow_blank:
            values.append("")
        return {"type": "string", "enum": values}


def upload_too_large() -> ApplicationError:
    limit_mb = settings.ARGUS_UPLOAD_MAX_BYTES / (1024 * 1024)
    return ApplicationError(f"The upload is larger than the {limit_mb:g} MB limit.", code="too_large",
                            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


def refuse_oversized_body(request) -> None:
    """A 413 before the body is parsed, when the client announces more than the limit."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.ARGUS_UPLOAD_MAX_BYTES:
        raise upload_too_large()


def read_upload(upload) -> bytes:
    """The bytes of an uploaded file, refusing anything over the limit (a chunked body has no length)."""
    if upload.size is not None and upload.size > settings.ARGUS_UPLOAD_MAX_BYTES:
        raise upload_too_large()
    data = upload.read(settings.ARGUS_UPLOAD_MAX_BYTES + 1)
    if len(data) > settings.ARGUS_UPLOAD_MAX_BYTES:
        raise upload_too_large()
    return data


TOO_LARGE_RESPONSE = error_responses(413)


def attachment(content: str | bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
