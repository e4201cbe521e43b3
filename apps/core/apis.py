"""Shared API building blocks: the tenant-scoped base view and the documented error envelope."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.generics import GenericAPIView


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
