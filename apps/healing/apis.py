from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.apis import EnumChoiceField, OrganizationAPIView, error_responses
from apps.healing.models import (
    Heal,
    HealErrorType,
    HealingMode,
    HealingPattern,
    HealingSettings,
    HealSource,
    HealStatus,
)
from apps.healing.selectors import accuracy_figures, heal_list, healing_settings_for, pattern_list
from apps.healing.services import heal_accept, heal_reject, healing_settings_update
from apps.organizations.models import Role
from apps.projects.models import Project

# ---------------------------------------------------------------------------------------------- heals


class HealCandidateSerializer(serializers.Serializer):
    selector = serializers.CharField()
    score = serializers.FloatField()

    class Meta:
        ref_name = "HealCandidate"


class HealLinksSerializer(serializers.Serializer):
    run = serializers.CharField()
    result = serializers.CharField()
    screenshot = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "HealLinks"


class HealOutputSerializer(serializers.ModelSerializer):
    status = EnumChoiceField(HealStatus.choices, enum_name="HealStatus")
    error_type = EnumChoiceField(HealErrorType.choices, enum_name="HealErrorType")
    source = EnumChoiceField(HealSource.choices, enum_name="HealSource")
    original_locators = serializers.JSONField(help_text="The step's locators that broke, as the run used them.")
    runner_up = HealCandidateSerializer(allow_null=True, help_text="The second-best candidate, if any.")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Evidence for the chosen element.")
    fingerprint = serializers.JSONField(allow_null=True, help_text="The healed element's fingerprint.")
    run_number = serializers.IntegerField(source="run.number", read_only=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = Heal
        ref_name = "Heal"
        fields = ["id", "project", "test", "test_version", "run", "run_number", "result", "step_result", "step_index",
                  "action", "status", "source", "error_type", "original_locators", "original_text",
                  "healed_selector", "confidence", "runner_up", "reasons", "reason", "candidates", "duration_ms",
                  "fingerprint", "screenshot", "pattern", "reviewed_by", "reviewed_at", "applied_version",
                  "created_at", "links"]

    @extend_schema_field(HealLinksSerializer)
    def get_links(self, heal) -> dict:
        return {
            "run": reverse("api-run-detail", args=[heal.run_id]),
            "result": reverse("api-result-detail", args=[heal.result_id]),
            "screenshot": reverse("api-artifact-content", args=[heal.screenshot_id]) if heal.screenshot_id else None,
        }


class HealFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")
    test = django_filters.UUIDFilter(field_name="test_id")
    status = django_filters.ChoiceFilter(choices=HealStatus.choices)

    class Meta:
        model = Heal
        fields = ["project", "test", "status"]


class HealListApi(OrganizationAPIView):
    filterset_class = HealFilter
    ordering_fields = ["created_at", "confidence"]

    def get_queryset(self):
        return heal_list()

    @extend_schema(operation_id="healing_heals_list", responses={200: HealOutputSerializer(many=True),
                                                                 **error_responses(400, 401)}, tags=["healing"],
                   description="Heals of every run, newest first: applied, pending review, accepted, rejected, "
                               "refused or failed.")
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(HealOutputSerializer(page, many=True).data)


class HealObjectMixin:
    def get_heal(self) -> Heal:
        return get_object_or_404(heal_list(), pk=self.kwargs["heal_id"])


class HealDetailApi(HealObjectMixin, OrganizationAPIView):
    @extend_schema(operation_id="healing_heals_retrieve", responses={200: HealOutputSerializer,
                                                                     **error_responses(401, 404)}, tags=["healing"])
    def get(self, request, heal_id):
        return Response(HealOutputSerializer(self.get_heal()).data)


class HealAcceptApi(HealObjectMixin, OrganizationAPIView):
    @extend_schema(operation_id="healing_heals_accept", request=None,
                   responses={200: HealOutputSerializer, **error_responses(401, 403, 404, 409)}, tags=["healing"],
                   description="Applies a pending heal to its test as a new version: the healed selector becomes "
                               "the step's first locator, the old ones stay as fallbacks. 409 `not_pending` when "
                               "the heal was already reviewed, `test_changed` when the step changed since the run.")
    def post(self, request, heal_id):
        heal = heal_accept(heal=self.get_heal(), actor=request.user)
        return Response(HealOutputSerializer(heal_list().get(pk=heal.pk)).data)


class HealRejectApi(HealObjectMixin, OrganizationAPIView):
    @extend_schema(operation_id="healing_heals_reject", request=None,
                   responses={200: HealOutputSerializer, **error_responses(401, 403, 404, 409)}, tags=["healing"],
                   description="Refuses a pending heal: the test is unchanged and the heal's pattern counts a "
                               "failure. 409 `not_pending` when the heal was already reviewed.")
    def post(self, request, heal_id):
        heal = heal_reject(heal=self.get_heal(), actor=request.user)
        return Response(HealOutputSerializer(heal_list().get(pk=heal.pk)).data)


# ------------------------------------------------------------------------------------------- patterns


class HealingPatternOutputSerializer(serializers.ModelSerializer):
    error_type = EnumChoiceField(HealErrorType.choices, enum_name="HealErrorType")
    confidence = serializers.FloatField(read_only=True, help_text="(successes + 1) / (uses + 2).")
    fingerprint = serializers.JSONField()

    class Meta:
        model = HealingPattern
        ref_name = "HealingPattern"
        fields = ["id", "project", "fingerprint_key", "fingerprint", "original_locators", "healed_selector",
                  "error_type", "success_count", "failure_count", "confidence", "last_used_at", "created_at"]


class HealingPatternFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")

    class Meta:
        model = HealingPattern
        fields = ["project"]


class HealingPatternListApi(OrganizationAPIView):
    filterset_class = HealingPatternFilter
    ordering_fields = ["created_at", "last_used_at", "success_count"]

    def get_queryset(self):
        return pattern_list()

    @extend_schema(operation_id="healing_patterns_list", responses={200: HealingPatternOutputSerializer(many=True),
                                                                    **error_responses(400, 401)}, tags=["healing"],
                   description="Remembered heals, tried first when the same element breaks the same way again.")
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(HealingPatternOutputSerializer(page, many=True).data)


# ------------------------------------------------------------------------------------------- settings


class HealingSettingsOutputSerializer(serializers.ModelSerializer):
    mode = EnumChoiceField(HealingMode.choices, enum_name="HealingMode")

    class Meta:
        model = HealingSettings
        ref_name = "HealingSettings"
        fields = ["project", "mode", "auto_apply_min_confidence", "allow_ai"]


class HealingSettingsInputSerializer(serializers.Serializer):
    mode = EnumChoiceField(HealingMode.choices, enum_name="HealingMode", required=False)
    auto_apply_min_confidence = serializers.FloatField(min_value=0.5, max_value=1, required=False)
    allow_ai = serializers.BooleanField(required=False)

    class Meta:
        ref_name = "HealingSettingsInput"


class HealingSettingsApi(OrganizationAPIView):
    write_role = Role.ADMIN

    def get_project(self) -> Project:
        return get_object_or_404(Project, pk=self.kwargs["project_id"])

    @extend_schema(operation_id="healing_settings_retrieve", responses={200: HealingSettingsOutputSerializer,
                                                                        **error_responses(401, 404)},
                   tags=["healing"], description="The project's healing policy (defaults until changed).")
    def get(self, request, project_id):
        return Response(HealingSettingsOutputSerializer(healing_settings_for(self.get_project())).data)

    @extend_schema(operation_id="healing_settings_update", request=HealingSettingsInputSerializer,
                   responses={200: HealingSettingsOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
                   tags=["healing"], description="Admins only. `auto_apply` writes heals at or above "
                                                 "`auto_apply_min_confidence` into the test; `review` queues them; "
                                                 "`off` lets broken locators fail.")
    def patch(self, request, project_id):
        serializer = HealingSettingsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        settings_row = healing_settings_update(project=self.get_project(), actor=request.user,
                                               **serializer.validated_data)
        return Response(HealingSettingsOutputSerializer(settings_row).data)


# ------------------------------------------------------------------------------------------- accuracy


class HealingMutationFiguresSerializer(serializers.Serializer):
    cases = serializers.IntegerField()
    correct = serializers.IntegerField()
    wrong = serializers.IntegerField()
    refused = serializers.IntegerField()

    class Meta:
        ref_name = "HealingMutationFigures"


class HealingAccuracySerializer(serializers.Serializer):
    measured = serializers.BooleanField()
    message = serializers.CharField(required=False, help_text="Set when nothing was measured yet.")
    measured_at = serializers.CharField(required=False, allow_null=True)
    cases = serializers.IntegerField(required=False, allow_null=True)
    pages = serializers.IntegerField(required=False, allow_null=True)
    correct_heals = serializers.IntegerField(required=False, allow_null=True)
    wrong_element_heals = serializers.IntegerField(required=False, allow_null=True)
    refusals = serializers.IntegerField(required=False, allow_null=True)
    correct_refusals = serializers.IntegerField(required=False, allow_null=True)
    missed_heals = serializers.IntegerField(required=False, allow_null=True)
    accuracy = serializers.FloatField(required=False, allow_null=True)
    wrong_element_rate = serializers.FloatField(required=False, allow_null=True)
    p50_ms = serializers.FloatField(required=False, allow_null=True)
    p95_ms = serializers.FloatField(required=False, allow_null=True)
    by_mutation = serializers.DictField(child=HealingMutationFiguresSerializer(), required=False)

    class Meta:
        ref_name = "HealingAccuracy"


class HealingAccuracyApi(OrganizationAPIView):
    pagination_class = None
    filter_backends = []

    @extend_schema(operation_id="healing_accuracy_retrieve", responses={200: HealingAccuracySerializer,
                                                                        **error_responses(401)}, tags=["healing"],
                   description="The latest run of the healing benchmark (bench/healing/): correct heals, "
                               "wrong-element heals, refusals and heal times. `measured` is false until it ran.")
    def get(self, request):
        return Response(HealingAccuracySerializer(accuracy_figures()).data)
