from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.apis import EnumChoiceField, OrganizationAPIView, error_responses
from apps.core.errors import ApplicationError
from apps.core.pagination import CreatedCursorPagination
from apps.organizations.models import Role
from apps.production_events import intake
from apps.production_events.models import (
    ErrorGroup,
    EventStatus,
    GroupingMethod,
    ProductionEvent,
    Severity,
    Source,
)
from apps.production_events.selectors import (
    EventFilters,
    error_settings_for,
    event_detail_queryset,
    event_facets,
    event_list,
    group_events,
    group_list,
    group_trend,
    intake_endpoint_summary,
)
from apps.production_events.services import (
    MAX_BULK_EVENTS,
    MAX_NOTE_LENGTH,
    SIMILARITY_THRESHOLD_RANGE,
    allowed_transitions,
    error_settings_update,
    event_status_change,
    events_status_change,
)
from apps.projects.models import Project


def _source_field(**kwargs) -> EnumChoiceField:
    return EnumChoiceField(Source.choices, enum_name="ErrorSource", **kwargs)


def _severity_field(**kwargs) -> EnumChoiceField:
    return EnumChoiceField(Severity.choices, enum_name="ErrorSeverity", **kwargs)


def _status_field(**kwargs) -> EnumChoiceField:
    return EnumChoiceField(EventStatus.choices, enum_name="EventStatus", **kwargs)


# ------------------------------------------------------------------------------------------- events


class ProductionEventOutputSerializer(serializers.ModelSerializer):
    source = _source_field()
    severity = _severity_field()
    status = _status_field()
    status_changed_by = serializers.EmailField(source="status_changed_by.email", allow_null=True, read_only=True,
                                               help_text="Who last changed the status (null: nobody yet).")

    class Meta:
        model = ProductionEvent
        ref_name = "ProductionEvent"
        fields = ["id", "project", "group", "source", "external_id", "event_type", "severity", "title", "message",
                  "exception_type", "url", "url_path", "component", "api_endpoint", "occurrence_count",
                  "affected_users", "first_seen", "last_seen", "release", "environment", "status",
                  "status_changed_by", "status_changed_at", "created_at", "updated_at"]


class StackFrameSerializer(serializers.Serializer):
    filename = serializers.CharField(allow_blank=True, required=False)
    function = serializers.CharField(allow_blank=True, required=False)
    module = serializers.CharField(allow_blank=True, required=False)
    lineno = serializers.IntegerField(allow_null=True, required=False)
    colno = serializers.IntegerField(allow_null=True, required=False)
    in_app = serializers.BooleanField(required=False)
    context_line = serializers.CharField(allow_blank=True, required=False)

    class Meta:
        ref_name = "StackFrame"


class TrailEntrySerializer(serializers.Serializer):
    timestamp = serializers.CharField(allow_null=True, required=False)
    category = serializers.CharField(allow_blank=True, required=False)
    type = serializers.CharField(allow_blank=True, required=False)
    message = serializers.CharField(allow_blank=True, required=False)
    url = serializers.CharField(allow_blank=True, required=False)
    selector = serializers.CharField(allow_blank=True, required=False)
    data = serializers.JSONField(required=False)

    class Meta:
        ref_name = "TrailEntry"


class ErrorGroupOutputSerializer(serializers.ModelSerializer):
    grouping_method = EnumChoiceField(GroupingMethod.choices, enum_name="GroupingMethod")
    severity = _severity_field()
    in_app_frames = serializers.ListField(child=serializers.CharField(),
                                         help_text="The normalized in-app frames the stack hash was built from.")

    class Meta:
        model = ErrorGroup
        ref_name = "ErrorGroup"
        fields = ["id", "project", "fingerprint", "grouping_method", "title", "exception_type", "normalized_message",
                  "in_app_frames", "severity", "event_count", "occurrence_count", "affected_users", "first_seen",
                  "last_seen", "url_path", "component", "api_endpoint", "merged_into", "created_at"]


class ProductionEventDetailOutputSerializer(ProductionEventOutputSerializer):
    stack_trace = StackFrameSerializer(many=True, help_text="Frames, innermost last.")
    trail = TrailEntrySerializer(many=True, help_text="What the user did before the error (breadcrumbs, "
                                                      "session events), oldest first.")
    tags = serializers.DictField(child=serializers.CharField(allow_blank=True))
    group = ErrorGroupOutputSerializer()
    allowed_statuses = serializers.SerializerMethodField(help_text="Where the status workflow allows it to go.")

    class Meta(ProductionEventOutputSerializer.Meta):
        ref_name = "ProductionEventDetail"
        fields = [*ProductionEventOutputSerializer.Meta.fields, "stack_trace", "trail", "tags", "tracker_fingerprint",
                  "fingerprint", "link", "session_url", "delivery", "allowed_statuses"]

    @extend_schema_field(serializers.ListField(child=_status_field()))
    def get_allowed_statuses(self, event) -> list[str]:
        return allowed_transitions(event.status)


class ProductionEventQuerySerializer(serializers.Serializer):
    project = serializers.UUIDField(required=False)
    source = _source_field(required=False)
    severity = _severity_field(required=False)
    status = _status_field(required=False)
    entity = serializers.CharField(required=False, max_length=500,
                                   help_text="A page path, component or API endpoint (exact).")
    url_path = serializers.CharField(required=False, max_length=500)
    component = serializers.CharField(required=False, max_length=200)
    api_endpoint = serializers.CharField(required=False, max_length=300)
    group = serializers.UUIDField(required=False)
    since = serializers.DateTimeField(required=False, help_text="Seen at or after (ISO 8601).")
    until = serializers.DateTimeField(required=False, help_text="First seen at or before (ISO 8601).")
    q = serializers.CharField(required=False, max_length=200, help_text="Text in the title, message or exception.")

    class Meta:
        ref_name = "ProductionEventQuery"

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["Must not be before `since`."]})
        return attrs


def _event_filters(request) -> EventFilters:
    query = ProductionEventQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return EventFilters.from_data(query.validated_data)


class EventCursorPagination(CreatedCursorPagination):
    """Events and groups: most recently seen first."""

    ordering = ("-last_seen", "-id")


class ProductionEventListApi(OrganizationAPIView):
    pagination_class = EventCursorPagination
    filter_backends = []

    @extend_schema(operation_id="production_events_list", parameters=[ProductionEventQuerySerializer],
                   responses={200: ProductionEventOutputSerializer(many=True), **error_responses(400, 401)},
                   tags=["production events"], description="Events, most recently seen first. Counts per source, "
                                                           "severity and status: `/production-events/facets`.")
    def get(self, request):
        page = self.paginate_queryset(event_list(_event_filters(request)))
        return self.get_paginated_response(ProductionEventOutputSerializer(page, many=True).data)


class ProductionEventFacetsOutputSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Events matching every filter.")
    source = serializers.DictField(child=serializers.IntegerField())
    severity = serializers.DictField(child=serializers.IntegerField())
    status = serializers.DictField(child=serializers.IntegerField())

    class Meta:
        ref_name = "ProductionEventFacets"


class ProductionEventFacetsApi(OrganizationAPIView):
    @extend_schema(operation_id="production_events_facets", parameters=[ProductionEventQuerySerializer],
                   responses={200: ProductionEventFacetsOutputSerializer, **error_responses(400, 401)},
                   tags=["production events"],
                   description="Counts per source, severity and status; each facet is counted under every filter "
                               "except its own, so it shows what choosing another value would give.")
    def get(self, request):
        filters = _event_filters(request)
        return Response({"total": event_list(filters).count(), **event_facets(filters)})


class ProductionEventStatusInputSerializer(serializers.Serializer):
    status = _status_field()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=MAX_NOTE_LENGTH,
                                 help_text="Why; kept in the audit trail.")

    class Meta:
        ref_name = "ProductionEventStatusInput"


class ProductionEventDetailApi(OrganizationAPIView):
    def get_event(self) -> ProductionEvent:
        return get_object_or_404(event_detail_queryset(), pk=self.kwargs["event_id"])

    @extend_schema(operation_id="production_events_retrieve",
                   responses={200: ProductionEventDetailOutputSerializer, **error_responses(401, 404)},
                   tags=["production events"])
    def get(self, request, event_id):
        return Response(ProductionEventDetailOutputSerializer(self.get_event()).data)

    @extend_schema(operation_id="production_events_update", request=ProductionEventStatusInputSerializer,
                   responses={200: ProductionEventDetailOutputSerializer, **error_responses(400, 401, 403, 404)},
                   tags=["production events"],
                   description="Moves the event along the status workflow (new, triaged, test generated, resolved, "
                               "ignored; resolved and ignored reopen to new). 400 `invalid_transition` when the "
                               "workflow does not allow it.")
    def patch(self, request, event_id):
        event = self.get_event()
        serializer = ProductionEventStatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event_status_change(event, actor=request.user, **serializer.validated_data)
        return Response(ProductionEventDetailOutputSerializer(event_detail_queryset().get(pk=event.pk)).data)


class ProductionEventBulkStatusInputSerializer(ProductionEventStatusInputSerializer):
    events = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=MAX_BULK_EVENTS)

    class Meta:
        ref_name = "ProductionEventBulkStatusInput"

    def validate_events(self, ids: list) -> list:
        ids = list(dict.fromkeys(ids))
        found = set(ProductionEvent.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [str(event_id) for event_id in ids if event_id not in found]
        if missing:
            raise serializers.ValidationError([f"Unknown event: {event_id}" for event_id in missing])
        return ids


class SkippedEventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = _status_field()
    reason = serializers.CharField()

    class Meta:
        ref_name = "ProductionEventSkipped"


class ProductionEventBulkStatusOutputSerializer(serializers.Serializer):
    status = _status_field()
    changed = serializers.ListField(child=serializers.UUIDField())
    skipped = SkippedEventSerializer(many=True)

    class Meta:
        ref_name = "ProductionEventBulkStatus"


class ProductionEventBulkStatusApi(OrganizationAPIView):
    @extend_schema(operation_id="production_events_status_bulk", request=ProductionEventBulkStatusInputSerializer,
                   responses={200: ProductionEventBulkStatusOutputSerializer, **error_responses(400, 401, 403)},
                   tags=["production events"],
                   description="One status for many events. Events the workflow does not allow to move (or already "
                               "there) are skipped with the reason; unknown ids refuse the whole request.")
    def post(self, request):
        serializer = ProductionEventBulkStatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = events_status_change(data["events"], status=data["status"], note=data["note"], actor=request.user)
        return Response({
            "status": data["status"],
            "changed": [event.pk for event in result.changed],
            "skipped": [{"id": event.pk, "status": event.status, "reason": reason} for event, reason in result.skipped],
        })


# ------------------------------------------------------------------------------------------- groups


class TrendDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    occurrences = serializers.IntegerField()

    class Meta:
        ref_name = "ErrorGroupTrendDay"


class ErrorGroupDetailOutputSerializer(ErrorGroupOutputSerializer):
    trend = TrendDaySerializer(many=True, help_text="Occurrences per day, the last 30 days, oldest first.")
    events = ProductionEventOutputSerializer(many=True, source="recent_events",
                                             help_text="Its 50 most recently seen events; `/production-events?group=` "
                                                       "lists all.")

    class Meta(ErrorGroupOutputSerializer.Meta):
        ref_name = "ErrorGroupDetail"
        fields = [*ErrorGroupOutputSerializer.Meta.fields, "trend", "events"]


class ErrorGroupQuerySerializer(serializers.Serializer):
    project = serializers.UUIDField(required=False)
    severity = _severity_field(required=False)
    since = serializers.DateTimeField(required=False, help_text="Last seen at or after (ISO 8601).")
    q = serializers.CharField(required=False, max_length=200)
    include_merged = serializers.BooleanField(required=False, default=False,
                                              help_text="Also groups merged into another one.")

    class Meta:
        ref_name = "ErrorGroupQuery"


class ErrorGroupListApi(OrganizationAPIView):
    pagination_class = EventCursorPagination
    filter_backends = []

    @extend_schema(operation_id="error_groups_list", parameters=[ErrorGroupQuerySerializer],
                   responses={200: ErrorGroupOutputSerializer(many=True), **error_responses(400, 401)},
                   tags=["production events"], description="Error groups, most recently seen first.")
    def get(self, request):
        query = ErrorGroupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(group_list(**query.validated_data))
        return self.get_paginated_response(ErrorGroupOutputSerializer(page, many=True).data)


class ErrorGroupDetailApi(OrganizationAPIView):
    @extend_schema(operation_id="error_groups_retrieve",
                   responses={200: ErrorGroupDetailOutputSerializer, **error_responses(401, 404)},
                   tags=["production events"])
    def get(self, request, group_id):
        group = get_object_or_404(ErrorGroup.objects.select_related("project"), pk=group_id)
        group.trend = group_trend(group)
        group.recent_events = list(group_events(group))
        return Response(ErrorGroupDetailOutputSerializer(group).data)


# ------------------------------------------------------------------------------- intake and settings


class IntakeEndpointOutputSerializer(serializers.Serializer):
    source = _source_field()
    source_label = serializers.CharField()
    url = serializers.CharField(help_text="Where the tracker delivers (POST).")
    key = serializers.CharField(help_text="Routes the delivery to this project; not a credential.")
    secret = serializers.CharField(help_text="The signing key or shared token; masked unless you are an admin.")
    secret_visible = serializers.BooleanField()
    enabled = serializers.BooleanField()
    rotated_at = serializers.DateTimeField(allow_null=True)
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then the secret before the last rotation is accepted too.")
    last_delivery_at = serializers.DateTimeField(allow_null=True)
    instructions = serializers.JSONField(help_text="Headers to configure, signature scheme and an example curl.")

    class Meta:
        ref_name = "IntakeEndpoint"


def _project(project_id) -> Project:
    return get_object_or_404(Project, pk=project_id)


def _is_admin(request) -> bool:
    return request.auth.has_role(Role.ADMIN)


class ProjectIntakeApi(OrganizationAPIView):
    pagination_class = None
    filter_backends = []

    @extend_schema(operation_id="projects_intake_list",
                   responses={200: IntakeEndpointOutputSerializer(many=True), **error_responses(401, 404)},
                   tags=["production events"],
                   description="Each source's intake URL and how to configure the tracker. The secrets are shown to "
                               "admins only.")
    def get(self, request, project_id):
        show_secret = _is_admin(request)
        endpoints = intake.intake_endpoints_for(_project(project_id), actor=request.user)
        return Response(IntakeEndpointOutputSerializer(
            [intake_endpoint_summary(endpoint, request, show_secret=show_secret) for endpoint in endpoints],
            many=True).data)


class IntakeRotateInputSerializer(serializers.Serializer):
    grace_hours = serializers.IntegerField(required=False, default=24, min_value=0, max_value=24 * 14,
                                           help_text="How long the old secret keeps working.")

    class Meta:
        ref_name = "IntakeRotateInput"


class ProjectIntakeRotateApi(OrganizationAPIView):
    write_role = Role.ADMIN

    @extend_schema(operation_id="projects_intake_rotate", request=IntakeRotateInputSerializer,
                   responses={200: IntakeEndpointOutputSerializer, **error_responses(400, 401, 403, 404)},
                   tags=["production events"],
                   description="A new secret for this source; the old one keeps working for `grace_hours` (24 by "
                               "default) so the tracker can be updated without losing deliveries.")
    def post(self, request, project_id, source):
        project = _project(project_id)
        if source not in Source.values:
            raise ApplicationError(f"Unknown source “{source}”.", code="not_found", status_code=404)
        serializer = IntakeRotateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoints = {item.source: item for item in intake.intake_endpoints_for(project, actor=request.user)}
        endpoint = intake.intake_endpoint_rotate(endpoints[source], actor=request.user,
                                                 grace_hours=serializer.validated_data["grace_hours"])
        summary = intake_endpoint_summary(endpoint, request, show_secret=True)
        return Response(IntakeEndpointOutputSerializer(summary).data)


class ErrorSettingsOutputSerializer(serializers.Serializer):
    project = serializers.UUIDField(source="project_id")
    similarity_threshold = serializers.FloatField()
    auto_merge = serializers.BooleanField()
    updated_at = serializers.DateTimeField(allow_null=True, help_text="null while the defaults apply.")

    class Meta:
        ref_name = "ErrorSettings"


class ErrorSettingsInputSerializer(serializers.Serializer):
    similarity_threshold = serializers.FloatField(required=False, min_value=SIMILARITY_THRESHOLD_RANGE[0],
                                                  max_value=SIMILARITY_THRESHOLD_RANGE[1],
                                                  help_text="Groups at least this similar are proposed as merges.")
    auto_merge = serializers.BooleanField(required=False, help_text="Merge them at once instead of proposing.")

    class Meta:
        ref_name = "ErrorSettingsInput"


class ProjectErrorSettingsApi(OrganizationAPIView):
    write_role = Role.ADMIN

    @extend_schema(operation_id="projects_error_settings_retrieve",
                   responses={200: ErrorSettingsOutputSerializer, **error_responses(401, 404)},
                   tags=["production events"])
    def get(self, request, project_id):
        return Response(ErrorSettingsOutputSerializer(error_settings_for(_project(project_id))).data)

    @extend_schema(operation_id="projects_error_settings_update", request=ErrorSettingsInputSerializer,
                   responses={200: ErrorSettingsOutputSerializer, **error_responses(400, 401, 403, 404)},
                   tags=["production events"])
    def patch(self, request, project_id):
        project = _project(project_id)
        serializer = ErrorSettingsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        settings = error_settings_update(project, actor=request.user, **serializer.validated_data)
        return Response(ErrorSettingsOutputSerializer(settings).data)
