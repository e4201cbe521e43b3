from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.apis import EnumChoiceField, OrganizationAPIView, error_responses
from apps.integrations.models import DeadLetter, EventType, OutboxEvent, OutboxStatus
from apps.integrations.selectors import dead_letter_list, event_list
from apps.integrations.services import dead_letter_replay
from apps.organizations.models import Role


class OutboxEventOutputSerializer(serializers.ModelSerializer):
    event_type = EnumChoiceField(EventType.choices, enum_name="OutboxEventType")
    status = EnumChoiceField(OutboxStatus.choices, enum_name="OutboxStatus")
    payload = serializers.JSONField()
    metadata = serializers.JSONField()

    class Meta:
        model = OutboxEvent
        ref_name = "OutboxEvent"
        fields = ["event_id", "event_type", "timestamp", "source", "tenant", "correlation_id", "payload", "metadata",
                  "status", "attempts", "next_attempt_at", "last_error", "dispatched_at", "created_at"]


class OutboxEventFilter(django_filters.FilterSet):
    event_type = django_filters.ChoiceFilter(choices=EventType.choices)
    status = django_filters.ChoiceFilter(choices=OutboxStatus.choices)
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")

    class Meta:
        model = OutboxEvent
        fields = ["event_type", "status", "since"]


class OutboxEventListApi(OrganizationAPIView):
    filterset_class = OutboxEventFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return event_list()

    @extend_schema(operation_id="events_list", responses={200: OutboxEventOutputSerializer(many=True),
                                                          **error_responses(400, 401)}, tags=["events"],
                   description="Domain events of this organization, newest first. `since` is an ISO date-time.")
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(OutboxEventOutputSerializer(page, many=True).data)


class OutboxEventDetailApi(OrganizationAPIView):
    @extend_schema(operation_id="events_retrieve", responses={200: OutboxEventOutputSerializer,
                                                              **error_responses(401, 404)}, tags=["events"],
                   description="One event by its `event_id`.")
    def get(self, request, outbox_event_id):
        return Response(OutboxEventOutputSerializer(get_object_or_404(event_list(),
                                                                      event_id=outbox_event_id)).data)


class DeadLetterOutputSerializer(serializers.ModelSerializer):
    event = OutboxEventOutputSerializer(read_only=True)

    class Meta:
        model = DeadLetter
        ref_name = "DeadLetter"
        fields = ["id", "event", "subscriber", "error", "retry_count", "created_at", "replayed_at", "replayed_by"]


class DeadLetterFilter(django_filters.FilterSet):
    replayed = django_filters.BooleanFilter(field_name="replayed_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = DeadLetter
        fields = ["replayed"]


class DeadLetterListApi(OrganizationAPIView):
    filterset_class = DeadLetterFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return dead_letter_list()

    @extend_schema(operation_id="dead_letters_list", responses={200: DeadLetterOutputSerializer(many=True),
                                                                **error_responses(400, 401)}, tags=["events"],
                   description="Subscribers that still failed after the last retry, with the original event. "
                               "`replayed=false` lists those not replayed yet.")
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(DeadLetterOutputSerializer(page, many=True).data)


class DeadLetterReplayApi(OrganizationAPIView):
    write_role = Role.ADMIN

    @extend_schema(operation_id="dead_letters_replay", request=None,
                   responses={200: DeadLetterOutputSerializer, **error_responses(401, 403, 404, 409)},
                   tags=["events"],
                   description="Admins only. Puts the event back to pending with its attempts reset; subscribers "
                               "that already had it are skipped. 409 `already_replayed` the second time.")
    def post(self, request, dead_letter_id):
        dead_letter = get_object_or_404(dead_letter_list(), pk=dead_letter_id)
        dead_letter = dead_letter_replay(dead_letter=dead_letter, actor=request.user)
        return Response(DeadLetterOutputSerializer(dead_letter_list().get(pk=dead_letter.pk)).data)
