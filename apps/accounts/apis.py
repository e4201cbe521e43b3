from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.accounts.models import ApiKey, ApiKeyScope
from apps.accounts.services import api_key_create, api_key_revoke
from apps.core.apis import OrganizationAPIView, error_responses
from apps.organizations.models import Role
from apps.organizations.permissions import IsAdmin


class MeOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    organization = serializers.CharField(help_text="The organization's slug.")
    authenticated_with = serializers.ChoiceField(choices=["session", "api_key"])

    class Meta:
        ref_name = "Me"


class MeApi(OrganizationAPIView):
    @extend_schema(operation_id="me_retrieve", responses={200: MeOutputSerializer, **error_responses(401)},
                   tags=["account"])
    def get(self, request):
        access = request.auth
        data = {
            "id": request.user.id, "email": request.user.email, "full_name": request.user.full_name,
            "role": access.role, "organization": request.tenant.slug,
            "authenticated_with": "api_key" if access.api_key else "session",
        }
        return Response(MeOutputSerializer(data).data)


class ApiKeyOutputSerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        ref_name = "ApiKey"
        fields = ["id", "name", "prefix", "scopes", "created_by", "created_at", "last_used_at", "expires_at",
                  "revoked_at", "is_active"]


class ApiKeyCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiKeyScope.choices), allow_empty=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    class Meta:
        ref_name = "ApiKeyCreateInput"


class ApiKeyCreatedOutputSerializer(ApiKeyOutputSerializer):
    key = serializers.CharField(read_only=True, help_text="The secret. Shown once; store it now.")

    class Meta(ApiKeyOutputSerializer.Meta):
        ref_name = "ApiKeyCreated"
        fields = [*ApiKeyOutputSerializer.Meta.fields, "key"]


class ApiKeyListCreateApi(OrganizationAPIView):
    permission_classes = [IsAdmin]
    serializer_class = ApiKeyOutputSerializer
    ordering_fields = ["created_at", "name", "last_used_at"]
    filterset_fields = ["name"]

    def get_queryset(self):
        return self.organization_queryset(ApiKey.objects.select_related("created_by"))

    @extend_schema(operation_id="api_keys_list", responses={200: ApiKeyOutputSerializer(many=True),
                                                            **error_responses(401, 403)}, tags=["api keys"])
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ApiKeyOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="api_keys_create", request=ApiKeyCreateInputSerializer,
                   responses={201: ApiKeyCreatedOutputSerializer, **error_responses(400, 401, 403)},
                   tags=["api keys"])
    def post(self, request):
        serializer = ApiKeyCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, raw = api_key_create(organization=request.tenant, actor=request.user, **serializer.validated_data)
        api_key.key = raw
        return Response(ApiKeyCreatedOutputSerializer(api_key).data, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(OrganizationAPIView):
    permission_classes = [IsAdmin]

    def get_object(self):
        return get_object_or_404(self.organization_queryset(ApiKey.objects.select_related("created_by")),
                                 pk=self.kwargs["key_id"])

    @extend_schema(operation_id="api_keys_retrieve", responses={200: ApiKeyOutputSerializer, **error_responses()},
                   tags=["api keys"])
    def get(self, request, key_id):
        return Response(ApiKeyOutputSerializer(self.get_object()).data)

    @extend_schema(operation_id="api_keys_revoke", responses={200: ApiKeyOutputSerializer, **error_responses()},
                   tags=["api keys"], description="Revokes the key. It stops working at once and cannot be restored.")
    def delete(self, request, key_id):
        return Response(ApiKeyOutputSerializer(api_key_revoke(api_key=self.get_object(), actor=request.user)).data)
