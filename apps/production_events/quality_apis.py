from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.core.apis import EnumChoiceField, OrganizationAPIView, error_responses
from apps.core.errors import ApplicationError
from apps.core.pagination import CreatedCursorPagination
from apps.organizations.models import Role
from apps.production_events.models import (
    DeliveryStatus,
    ErrorGroup,
    GroupingMethod,
    GroupSimilarity,
    Severity,
    SimilarityStatus,
    Source,
    WebhookLog,
)
from apps.production_events.processing import REPROCESSABLE, deliveries_reprocess
from apps.production_events.similarity import (
    MAX_LIMIT,
    BackfillJob,
    backfill_request,
    backfill_status,
    similar_groups,
    similarity_dismiss,
    similarity_merge,
)
from apps.projects.models import Project

TAGS = ["quality"]
DELIVERY_TAGS = ["webhook deliveries"]


class _ProjectField(serializers.PrimaryKeyRelatedField):
    """A project of this organization (the host's schema): another organization's id does not exist here."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Project.objects.all(), **kwargs)


# ------------------------------------------------------------------------------------- similar errors


class SimilarGroupSummarySerializer(serializers.ModelSerializer):
    grouping_method = EnumChoiceField(GroupingMethod.choices, enum_name="GroupingMethod")
    severity = EnumChoiceField(Severity.choices, enum_name="ErrorSeverity")

    class Meta:
        model = ErrorGroup
        ref_name = "SimilarGroupSummary"
        fields = ["id", "title", "exception_type", "severity", "grouping_method", "event_count", "occurrence_count",
                  "affected_users", "first_seen", "last_seen", "url_path", "component", "api_endpoint"]


class SimilarGroupSerializer(serializers.Serializer):
    group = SimilarGroupSummarySerializer()
    score = serializers.FloatField(help_text="1 - cosine distance of the two embeddings (1 = identical).")
    shared_frames = serializers.ListField(child=serializers.CharField(),
                                          help_text="In-app frames (module:function) both groups have.")
    explanation = serializers.CharField()

    class Meta:
        ref_name = "SimilarGroup"


class SimilarErrorsOutputSerializer(serializers.Serializer):
    project = serializers.UUIDField()
    group = serializers.UUIDField(allow_null=True, help_text="The group compared against, when one was given.")
    query = serializers.CharField(allow_blank=True, help_text="The free-text query, when one was given.")
    results = SimilarGroupSerializer(many=True)

    class Meta:
        ref_name = "SimilarErrors"


def _limit_field() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=10, required=False)


class SimilarErrorsQuerySerializer(serializers.Serializer):
    project = _ProjectField()
    group = serializers.UUIDField(required=False, help_text="Find groups like this one (of the project).")
    q = serializers.CharField(required=False, max_length=2000, help_text="Or: find groups like this text.")
    limit = _limit_field()

    class Meta:
        ref_name = "SimilarErrorsQuery"

    def validate(self, attrs):
        if bool(attrs.get("group")) == bool(attrs.get("q", "").strip()):
            raise serializers.ValidationError({"group": ["Give exactly one of `group` and `q`."]})
        if attrs.get("group"):
            group = ErrorGroup.objects.filter(pk=attrs["group"], project=attrs["project"]).first()
            if group is None:
                raise serializers.ValidationError({"group": ["No such error group in this project."]})
            attrs["group"] = group
        return attrs


def _similar_response(project, *, group=None, text: str = "", limit: int = 10) -> dict:
    results = similar_groups(project, group=group, text=text or None, limit=limit)
    return SimilarErrorsOutputSerializer({
        "project": project.pk, "group": group.pk if group is not None else None, "query": text,
        "results": [{"group": match.group, "score": round(match.score, 4), "shared_frames": match.shared_frames,
                     "explanation": match.explanation} for match in results],
    }).data


class SimilarErrorsApi(OrganizationAPIView):
    @extend_schema(operation_id="quality_similar_errors", parameters=[SimilarErrorsQuerySerializer],
                   responses={200: SimilarErrorsOutputSerializer, **error_responses(400, 401)}, tags=TAGS,
                   description="The error groups of the project closest to a group (`group`) or to a text (`q`), "
                               "best first, with the score and what they share. Merged groups are left out.")
    def get(self, request):
        query = SimilarErrorsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        return Response(_similar_response(data["project"], group=data.get("group"), text=data.get("q", ""),
                                          limit=data["limit"]))


class SemanticSearchInputSerializer(serializers.Serializer):
    project = _ProjectField()
    query = serializers.CharField(max_length=2000)
    limit = _limit_field()

    class Meta:
        ref_name = "SemanticSearchInput"


class SemanticSearchApi(OrganizationAPIView):
    # A search: any member may run it, although it is a POST.
    write_role = Role.VIEWER

    @extend_schema(operation_id="semantic_search", request=SemanticSearchInputSerializer,
                   responses={200: SimilarErrorsOutputSerializer, **error_responses(400, 401)}, tags=TAGS,
                   description="Similarity search over the project's error patterns from plain text (an error "
                               "message, an exception type, a function or page name).")
    def post(self, request):
        serializer = SemanticSearchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return Response(_similar_response(data["project"], text=data["query"], limit=data["limit"]))


class GroupSimilarQuerySerializer(serializers.Serializer):
    limit = _limit_field()

    class Meta:
        ref_name = "ErrorGroupSimilarQuery"


class ErrorGroupSimilarApi(OrganizationAPIView):
    @extend_schema(operation_id="error_groups_similar", parameters=[GroupSimilarQuerySerializer],
                   responses={200: SimilarErrorsOutputSerializer, **error_responses(400, 401, 404)}, tags=TAGS,
                   description="The groups of the same project closest to this one.")
    def get(self, request, group_id):
        group = get_object_or_404(ErrorGroup.objects.select_related("project"), pk=group_id)
        query = GroupSimilarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(_similar_response(group.project, group=group, limit=query.validated_data["limit"]))


# ------------------------------------------------------------------------------------------- backfill


class BackfillInputSerializer(serializers.Serializer):
    project = _ProjectField()

    class Meta:
        ref_name = "BackfillIndexInput"


class BackfillQuerySerializer(serializers.Serializer):
    project = _ProjectField()

    class Meta:
        ref_name = "BackfillIndexQuery"


class BackfillJobSerializer(serializers.Serializer):
    job = serializers.UUIDField(allow_null=True, help_text="null when no re-index ran recently.")
    project = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["idle", "queued", "running", "finished", "failed"])
    total = serializers.IntegerField(help_text="Groups to re-embed.")
    done = serializers.IntegerField(help_text="Groups re-embedded so far.")
    requested_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "BackfillIndexJob"


def _job_data(project: Project, job: BackfillJob | None) -> dict:
    if job is None:
        total = ErrorGroup.objects.filter(project=project, merged_into__isnull=True).count()
        return {"job": None, "project": project.pk, "status": "idle", "total": total, "done": 0, "requested_at": None,
                "finished_at": None, "error": ""}
    return {"job": job.job, "project": job.project, "status": job.status, "total": job.total, "done": job.done,
            "requested_at": job.requested_at, "finished_at": job.finished_at or None, "error": job.error}


class BackfillIndexApi(OrganizationAPIView):
    @extend_schema(operation_id="quality_backfill_index_status", parameters=[BackfillQuerySerializer],
                   responses={200: BackfillJobSerializer, **error_responses(400, 401)}, tags=TAGS,
                   description="Progress of the project's latest re-index.")
    def get(self, request):
        query = BackfillQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        project = query.validated_data["project"]
        return Response(BackfillJobSerializer(_job_data(project, backfill_status(project))).data)

    @extend_schema(operation_id="quality_backfill_index", request=BackfillInputSerializer,
                   responses={202: BackfillJobSerializer, **error_responses(400, 401, 403)}, tags=TAGS,
                   description="Re-embeds every error group of the project in the background (after a change of "
                               "the embedding, or for history indexed before it). Poll GET with the project for "
                               "progress.")
    def post(self, request):
        serializer = BackfillInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = serializer.validated_data["project"]
        job = backfill_request(project=project, actor=request.user)
        return Response(BackfillJobSerializer(_job_data(project, job)).data, status=status.HTTP_202_ACCEPTED)


# ------------------------------------------------------------------------------- similarity proposals


class GroupSimilarityOutputSerializer(serializers.ModelSerializer):
    group = SimilarGroupSummarySerializer(help_text="The newer group; a merge moves its events into "
                                                    "`similar_group`.")
    similar_group = SimilarGroupSummarySerializer()
    status = EnumChoiceField(SimilarityStatus.choices, enum_name="SimilarityStatus")
    shared_frames = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = GroupSimilarity
        ref_name = "GroupSimilarity"
        fields = ["id", "project", "group", "similar_group", "score", "shared_frames", "explanation", "status",
                  "decided_by", "decided_at", "created_at"]


class GroupSimilarityQuerySerializer(serializers.Serializer):
    project = _ProjectField(required=False)
    status = EnumChoiceField(SimilarityStatus.choices, enum_name="SimilarityStatus", required=False)

    class Meta:
        ref_name = "GroupSimilarityQuery"


class SimilarityCursorPagination(CreatedCursorPagination):
    ordering = ("-created_at", "-id")


class GroupSimilarityListApi(OrganizationAPIView):
    pagination_class = SimilarityCursorPagination
    filter_backends = []

    @extend_schema(operation_id="group_similarities_list", parameters=[GroupSimilarityQuerySerializer],
                   responses={200: GroupSimilarityOutputSerializer(many=True), **error_responses(400, 401)},
                   tags=TAGS, description="Near-duplicate group pairs the index found, newest first.")
    def get(self, request):
        query = GroupSimilarityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        queryset = GroupSimilarity.objects.select_related("group", "similar_group")
        if query.validated_data.get("project"):
            queryset = queryset.filter(project=query.validated_data["project"])
        if query.validated_data.get("status"):
            queryset = queryset.filter(status=query.validated_data["status"])
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(GroupSimilarityOutputSerializer(page, many=True).data)


def _similarity(similarity_id) -> GroupSimilarity:
    return get_object_or_404(GroupSimilarity, pk=similarity_id)


def _similarity_data(similarity: GroupSimilarity) -> dict:
    fresh = GroupSimilarity.objects.select_related("group", "similar_group").get(pk=similarity.pk)
    return GroupSimilarityOutputSerializer(fresh).data


class GroupSimilarityMergeApi(OrganizationAPIView):
    @extend_schema(operation_id="group_similarities_merge", request=None,
                   responses={200: GroupSimilarityOutputSerializer, **error_responses(401, 403, 404, 409)},
                   tags=TAGS, description="Accept the proposal: `group`'s events, counts and days move into "
                                          "`similar_group`; later events of `group`'s fingerprint land there too.")
    def post(self, request, similarity_id):
        merged = similarity_merge(similarity=_similarity(similarity_id), actor=request.user)
        return Response(_similarity_data(merged))


class GroupSimilarityDismissApi(OrganizationAPIView):
    @extend_schema(operation_id="group_similarities_dismiss", request=None,
                   responses={200: GroupSimilarityOutputSerializer, **error_responses(401, 403, 404, 409)},
                   tags=TAGS, description="Reject the proposal: the groups stay apart and the pair is not proposed "
                                          "again.")
    def post(self, request, similarity_id):
        dismissed = similarity_dismiss(similarity=_similarity(similarity_id), actor=request.user)
        return Response(_similarity_data(dismissed))


# ---------------------------------------------------------------------------------- webhook deliveries


class WebhookDeliveryOutputSerializer(serializers.ModelSerializer):
    source = EnumChoiceField(Source.choices, enum_name="ErrorSource")
    status = EnumChoiceField(DeliveryStatus.choices, enum_name="DeliveryStatus")
    reprocessable = serializers.SerializerMethodField()

    class Meta:
        model = WebhookLog
        ref_name = "WebhookDelivery"
        fields = ["id", "project", "endpoint", "source", "delivery_id", "is_duplicate", "event_kind", "status",
                  "reason", "attempts", "size", "body_sha256", "received_at", "processed_at", "events_created",
                  "reprocessable"]

    def get_reprocessable(self, log) -> bool:
        return log.status in REPROCESSABLE and not log.is_duplicate


class WebhookDeliveryDetailOutputSerializer(WebhookDeliveryOutputSerializer):
    payload = serializers.JSONField(help_text="The delivery as stored (secrets already redacted).")
    headers = serializers.DictField(child=serializers.CharField(), help_text="The headers kept with it.")
    events = serializers.SerializerMethodField(help_text="Events this delivery last updated.")

    class Meta(WebhookDeliveryOutputSerializer.Meta):
        ref_name = "WebhookDeliveryDetail"
        fields = [*WebhookDeliveryOutputSerializer.Meta.fields, "payload", "headers", "events"]

    def get_events(self, log) -> list[str]:
        return [str(pk) for pk in log.events.values_list("pk", flat=True)[:100]]


class WebhookDeliveryQuerySerializer(serializers.Serializer):
    project = _ProjectField(required=False)
    status = EnumChoiceField(DeliveryStatus.choices, enum_name="DeliveryStatus", required=False)
    source = EnumChoiceField(Source.choices, enum_name="ErrorSource", required=False)

    class Meta:
        ref_name = "WebhookDeliveryQuery"


class DeliveryCursorPagination(CreatedCursorPagination):
    ordering = ("-received_at", "-id")


class WebhookDeliveryListApi(OrganizationAPIView):
    pagination_class = DeliveryCursorPagination
    filter_backends = []

    @extend_schema(operation_id="webhook_deliveries_list", parameters=[WebhookDeliveryQuerySerializer],
                   responses={200: WebhookDeliveryOutputSerializer(many=True), **error_responses(400, 401)},
                   tags=DELIVERY_TAGS, description="Every delivery the trackers made, newest first, with what "
                                                   "processing made of it (payloads: the detail).")
    def get(self, request):
        query = WebhookDeliveryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        queryset = WebhookLog.objects.defer("payload", "headers")
        for name in ("project", "status", "source"):
            if query.validated_data.get(name):
                queryset = queryset.filter(**{name: query.validated_data[name]})
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(WebhookDeliveryOutputSerializer(page, many=True).data)


class WebhookDeliveryDetailApi(OrganizationAPIView):
    @extend_schema(operation_id="webhook_deliveries_retrieve",
                   responses={200: WebhookDeliveryDetailOutputSerializer, **error_responses(401, 404)},
                   tags=DELIVERY_TAGS)
    def get(self, request, webhook_delivery_id):
        log = get_object_or_404(WebhookLog, pk=webhook_delivery_id)
        return Response(WebhookDeliveryDetailOutputSerializer(log).data)


class WebhookDeliveryReprocessApi(OrganizationAPIView):
    @extend_schema(operation_id="webhook_deliveries_reprocess", request=None,
                   responses={200: WebhookDeliveryOutputSerializer, **error_responses(401, 403, 404, 409)},
                   tags=DELIVERY_TAGS, description="A failed or ignored delivery goes back to pending and is "
                                                   "processed again in the background.")
    def post(self, request, webhook_delivery_id):
        log = get_object_or_404(WebhookLog.objects.defer("payload", "headers"), pk=webhook_delivery_id)
        if log.is_duplicate or log.status not in REPROCESSABLE:
            raise ApplicationError(f"Only failed or ignored deliveries can be reprocessed; this one is {log.status}.",
                                   code="not_reprocessable", status_code=status.HTTP_409_CONFLICT)
        deliveries_reprocess(WebhookLog.objects.filter(pk=log.pk), actor=request.user)
        log.refresh_from_db()
        return Response(WebhookDeliveryOutputSerializer(log).data)
