from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from apps.audit.models import AuditEntry
from apps.core.apis import OrganizationAPIView, error_responses
from apps.organizations.permissions import IsAdmin


class AuditEntryOutputSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_email")

    class Meta:
        model = AuditEntry
        ref_name = "AuditEntry"
        fields = ["id", "created_at", "actor", "api_key_prefix", "action", "object_type", "object_id",
                  "object_repr", "changes", "ip_address"]


class AuditEntryFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_email", lookup_expr="iexact")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = ["action", "object_type", "object_id", "actor", "since", "until"]


class AuditEntryListApi(OrganizationAPIView):
    permission_classes = [IsAdmin]
    queryset = AuditEntry.objects.all()
    filterset_class = AuditEntryFilter
    ordering_fields = ["created_at", "action"]

    @extend_schema(operation_id="audit_log_list", responses={200: AuditEntryOutputSerializer(many=True),
                                                             **error_responses(400, 401, 403)}, tags=["audit"])
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AuditEntryOutputSerializer(page, many=True).data)
