from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.core.apis import OrganizationAPIView, error_responses
from apps.organizations.models import Invitation, Membership, Organization, Role
from apps.organizations.permissions import IsAdmin, IsMember
from apps.organizations.services import (
    invitation_create,
    invitation_revoke,
    membership_change_role,
    membership_remove,
    organization_update,
)


class OrganizationOutputSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code", read_only=True)

    class Meta:
        model = Organization
        ref_name = "Organization"
        fields = ["name", "slug", "plan", "features", "ai_daily_budget_usd", "ai_monthly_budget_usd",
                  "ai_daily_spend_usd", "ai_monthly_spend_usd", "ai_opt_out", "created_at"]


class OrganizationUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    ai_daily_budget_usd = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)
    ai_monthly_budget_usd = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)
    ai_opt_out = serializers.BooleanField(required=False)

    class Meta:
        ref_name = "OrganizationUpdateInput"


class OrganizationApi(OrganizationAPIView):
    permission_classes = [IsMember]
    write_role = Role.ADMIN

    @extend_schema(operation_id="organization_retrieve",
                   responses={200: OrganizationOutputSerializer, **error_responses(401)}, tags=["organization"])
    def get(self, request):
        return Response(OrganizationOutputSerializer(self.get_organization()).data)

    @extend_schema(operation_id="organization_update", request=OrganizationUpdateInputSerializer,
                   responses={200: OrganizationOutputSerializer, **error_responses(400, 401, 403)},
                   tags=["organization"])
    def patch(self, request):
        serializer = OrganizationUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = organization_update(
            organization=self.get_organization(), actor=request.user, **serializer.validated_data
        )
        return Response(OrganizationOutputSerializer(organization).data)


class MemberOutputSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")

    class Meta:
        model = Membership
        ref_name = "Member"
        fields = ["id", "email", "full_name", "role", "created_at"]


class MemberUpdateInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        ref_name = "MemberUpdateInput"


class MemberListApi(OrganizationAPIView):
    permission_classes = [IsMember]
    ordering_fields = ["created_at", "role"]
    filterset_fields = ["role"]

    def get_queryset(self):
        return self.organization_queryset(Membership.objects.select_related("user"))

    @extend_schema(operation_id="members_list", responses={200: MemberOutputSerializer(many=True),
                                                           **error_responses(401)}, tags=["members"])
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(MemberOutputSerializer(page, many=True).data)


class MemberDetailApi(OrganizationAPIView):
    permission_classes = [IsAdmin]

    def get_object(self) -> Membership:
        return get_object_or_404(self.organization_queryset(Membership.objects.select_related("user")),
                                 pk=self.kwargs["member_id"])

    @extend_schema(operation_id="members_update", request=MemberUpdateInputSerializer,
                   responses={200: MemberOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
                   tags=["members"])
    def patch(self, request, member_id):
        serializer = MemberUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_change_role(membership=self.get_object(), actor=request.user,
                                            role=serializer.validated_data["role"])
        return Response(MemberOutputSerializer(membership).data)

    @extend_schema(operation_id="members_remove", responses={204: None, **error_responses(401, 403, 404, 409)},
                   tags=["members"])
    def delete(self, request, member_id):
        membership_remove(membership=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationOutputSerializer(serializers.ModelSerializer):
    invited_by = serializers.EmailField(source="invited_by.email", default=None, read_only=True)
    status = serializers.ChoiceField(choices=["pending", "accepted", "revoked", "expired"], read_only=True)

    class Meta:
        model = Invitation
        ref_name = "Invitation"
        fields = ["id", "email", "role", "status", "invited_by", "created_at", "expires_at", "accepted_at"]


class InvitationCreateInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.DEVELOPER)

    class Meta:
        ref_name = "InvitationCreateInput"


class InvitationListCreateApi(OrganizationAPIView):
    permission_classes = [IsAdmin]
    ordering_fields = ["created_at", "email"]
    filterset_fields = ["role", "email"]

    def get_queryset(self):
        return self.organization_queryset(Invitation.objects.select_related("invited_by"))

    @extend_schema(operation_id="invitations_list", responses={200: InvitationOutputSerializer(many=True),
                                                               **error_responses(401, 403)}, tags=["members"])
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(InvitationOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="invitations_create", request=InvitationCreateInputSerializer,
                   responses={201: InvitationOutputSerializer, **error_responses(400, 401, 403, 409)},
                   tags=["members"], description="Invites a person by e-mail. The link is valid for 7 days.")
    def post(self, request):
        serializer = InvitationCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation, _token = invitation_create(organization=request.tenant, actor=request.user,
                                               **serializer.validated_data)
        return Response(InvitationOutputSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailApi(OrganizationAPIView):
    permission_classes = [IsAdmin]

    @extend_schema(operation_id="invitations_revoke", responses={200: InvitationOutputSerializer,
                                                                 **error_responses()}, tags=["members"])
    def delete(self, request, invitation_id):
        invitation = get_object_or_404(self.organization_queryset(Invitation.objects.all()), pk=invitation_id)
        return Response(InvitationOutputSerializer(invitation_revoke(invitation=invitation, actor=request.user)).data)
