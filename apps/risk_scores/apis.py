from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.apis import EnumChoiceField, OrganizationAPIView, error_responses
from apps.core.pagination import CreatedCursorPagination
from apps.projects.models import Project
from apps.risk_scores.models import EntityType, RiskScore, RiskTrend
from apps.risk_scores.scoring import WEIGHTS
from apps.risk_scores.selectors import coverage_gaps, risk_history, risk_score_list
from apps.risk_scores.services import recalculate_project_risk

TOP_ENTITIES = 10
FORMULA = ("Scores are 0-100, the sum of six factor contributions: frequency (up to 30), severity (20), affected "
           "users (20), trend (10), test coverage (10: no approved test covers the entity) and recent test "
           "failures (10). Each factor carries its value, weight, contribution and a one-line explanation.")


class RiskFactorSerializer(serializers.Serializer):
    name = EnumChoiceField([(name, name) for name in WEIGHTS], enum_name="RiskFactorName")
    label = serializers.CharField()
    value = serializers.JSONField(help_text="What was measured: a count, the worst severity or the trend.")
    weight = serializers.FloatField(help_text="The most this factor can add to the score.")
    contribution = serializers.FloatField(help_text="What it adds; the contributions sum to the score.")
    explanation = serializers.CharField()

    class Meta:
        ref_name = "RiskFactor"


class RiskScoreOutputSerializer(serializers.ModelSerializer):
    entity_type = EnumChoiceField(EntityType.choices, enum_name="RiskEntityType")
    trend = EnumChoiceField(RiskTrend.choices, enum_name="RiskTrend")
    factors = RiskFactorSerializer(many=True)

    class Meta:
        model = RiskScore
        ref_name = "RiskScore"
        fields = ["id", "project", "entity_type", "entity", "score", "trend", "factors", "groups_count",
                  "events_count", "occurrences", "affected_users", "has_approved_test", "calculated_at"]


class RiskHistoryPointSerializer(serializers.Serializer):
    day = serializers.DateField()
    score = serializers.FloatField()

    class Meta:
        ref_name = "RiskHistoryPoint"


class RiskScoreDetailOutputSerializer(RiskScoreOutputSerializer):
    history = serializers.SerializerMethodField()

    class Meta(RiskScoreOutputSerializer.Meta):
        ref_name = "RiskScoreDetail"
        fields = [*RiskScoreOutputSerializer.Meta.fields, "history"]

    @extend_schema_field(RiskHistoryPointSerializer(many=True))
    def get_history(self, score: RiskScore) -> list[dict]:
        """The entity's score per day, oldest first (the last 90 days)."""
        return RiskHistoryPointSerializer(risk_history(score), many=True).data


class CalculateRiskInputSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())

    class Meta:
        ref_name = "CalculateRiskInput"


class CalculateRiskOutputSerializer(serializers.Serializer):
    project = serializers.UUIDField()
    recalculated = serializers.IntegerField(help_text="How many entities now have a score.")
    top = RiskScoreOutputSerializer(many=True, help_text=f"The {TOP_ENTITIES} riskiest entities.")

    class Meta:
        ref_name = "CalculateRiskOutput"


class RiskScoreFilter(django_filters.FilterSet):
    # A project of another organization is not in this schema: the filter answers 400, not an empty list.
    project = django_filters.ModelChoiceFilter(queryset=Project.objects.all())
    entity_type = django_filters.ChoiceFilter(choices=EntityType.choices)
    trend = django_filters.ChoiceFilter(choices=RiskTrend.choices)

    class Meta:
        model = RiskScore
        fields = ["project", "entity_type", "trend"]


class CoverageGapFilter(django_filters.FilterSet):
    project = django_filters.ModelChoiceFilter(queryset=Project.objects.all())
    entity_type = django_filters.ChoiceFilter(choices=EntityType.choices)

    class Meta:
        model = RiskScore
        fields = ["project", "entity_type"]


class RiskPagination(CreatedCursorPagination):
    # The riskiest first; the cursor keeps pages stable while scores are recalculated.
    ordering = ("-score", "entity_type", "entity")


class RiskScoreListApi(OrganizationAPIView):
    filterset_class = RiskScoreFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = RiskPagination

    def get_queryset(self):
        return risk_score_list()

    @extend_schema(operation_id="risk_scores_list", responses={200: RiskScoreOutputSerializer(many=True),
                                                               **error_responses(400, 401)},
                   tags=["risk"], description=f"Entities of your projects by risk, the riskiest first. {FORMULA}")
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(RiskScoreOutputSerializer(page, many=True).data)


class RiskScoreDetailApi(OrganizationAPIView):
    @extend_schema(operation_id="risk_scores_retrieve", responses={200: RiskScoreDetailOutputSerializer,
                                                                   **error_responses(401, 404)},
                   tags=["risk"], description="One entity's risk with its factors and its daily history.")
    def get(self, request, risk_score_id):
        score = get_object_or_404(risk_score_list(), pk=risk_score_id)
        return Response(RiskScoreDetailOutputSerializer(score).data)


class CoverageGapListApi(OrganizationAPIView):
    filterset_class = CoverageGapFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = RiskPagination

    def get_queryset(self):
        return coverage_gaps()

    @extend_schema(operation_id="coverage_gaps_list", responses={200: RiskScoreOutputSerializer(many=True),
                                                                 **error_responses(400, 401)},
                   tags=["risk"], description="Entities with production errors and no approved test covering "
                                              "them, the riskiest first.")
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(RiskScoreOutputSerializer(page, many=True).data)


class CalculateRiskApi(OrganizationAPIView):
    @extend_schema(operation_id="quality_calculate_risk", request=CalculateRiskInputSerializer,
                   responses={200: CalculateRiskOutputSerializer, **error_responses(400, 401, 403)},
                   tags=["quality"], description="Recalculates the project's risk scores now (they are also "
                                                 f"recalculated a few seconds after new events). {FORMULA}")
    def post(self, request):
        serializer = CalculateRiskInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = serializer.validated_data["project"]
        scores = recalculate_project_risk(project, actor=request.user)
        return Response(CalculateRiskOutputSerializer({
            "project": project.pk, "recalculated": len(scores), "top": scores[:TOP_ENTITIES]}).data)
