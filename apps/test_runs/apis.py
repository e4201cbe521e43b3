from __future__ import annotations

import json

import django_filters
from django.conf import settings
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.utils import html

from apps.core.apis import (
    TOO_LARGE_RESPONSE,
    EnumChoiceField,
    OrganizationAPIView,
    attachment,
    error_responses,
    read_upload,
    refuse_oversized_body,
    upload_too_large,
)
from apps.core.errors import ApplicationError
from apps.generated_tests.models import Suite, Test
from apps.projects.models import EnvironmentName, Project
from apps.test_runs.devices import DEVICE_CHOICES, DEVICES
from apps.test_runs.junit import junit_import_run, render_junit_xml
from apps.test_runs.models import (
    Artifact,
    ArtifactKind,
    LogStream,
    ResultStatus,
    Run,
    RunKind,
    RunLogLine,
    RunStatus,
    RunTrigger,
    Schedule,
    StepResult,
    StepStatus,
    TestResult,
)
from apps.test_runs.reports import render_html_report, render_markdown_report
from apps.test_runs.runners.command import command_run_create
from apps.test_runs.schedules import schedule_create, schedule_delete, schedule_update
from apps.test_runs.selectors import (
    MAX_LOG_LINES_PER_READ,
    artifact_list,
    log_lines_after,
    result_list,
    run_list,
    schedule_list,
    step_list,
)
from apps.test_runs.services import SCREENSHOT_POLICIES, run_cancel, run_create, run_rerun_failed

SCREENSHOT_CHOICES = [(policy, policy.replace("_", " ").capitalize()) for policy in SCREENSHOT_POLICIES]
# Only these are shown in the browser; anything else (HTML snapshots, SVG, logs) downloads, so a
# file a tested page produced can never run as a page of the organization's host.
INLINE_CONTENT_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


def run_trigger(request) -> str:
    return RunTrigger.API if request.auth.api_key is not None else RunTrigger.MANUAL


def _devices_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=EnumChoiceField(DEVICE_CHOICES, enum_name="Device"),
                                 max_length=len(DEVICE_CHOICES), **kwargs)


def _environment_field(**kwargs) -> EnumChoiceField:
    return EnumChoiceField(EnvironmentName.choices, enum_name="EnvironmentName", allow_blank=True, **kwargs)


# ---------------------------------------------------------------------------------------------- runs


class RunLinksSerializer(serializers.Serializer):
    self = serializers.CharField()
    results = serializers.CharField()
    artifacts = serializers.CharField()
    logs = serializers.CharField()
    report_html = serializers.CharField()
    report_md = serializers.CharField()
    junit_xml = serializers.CharField()

    class Meta:
        ref_name = "RunLinks"


def run_links(run: Run) -> dict[str, str]:
    return {
        "self": reverse("api-run-detail", args=[run.pk]),
        "results": reverse("api-run-results", args=[run.pk]),
        "artifacts": reverse("api-run-artifacts", args=[run.pk]),
        "logs": reverse("api-run-logs", args=[run.pk]),
        "report_html": reverse("api-run-report-html", args=[run.pk]),
        "report_md": reverse("api-run-report-md", args=[run.pk]),
        "junit_xml": reverse("api-run-junit-xml", args=[run.pk]),
    }


class RunOutputSerializer(serializers.ModelSerializer):
    kind = EnumChoiceField(RunKind.choices, enum_name="RunKind")
    status = EnumChoiceField(RunStatus.choices, enum_name="RunStatus")
    trigger = EnumChoiceField(RunTrigger.choices, enum_name="RunTrigger")
    screenshots = EnumChoiceField(SCREENSHOT_CHOICES, enum_name="ScreenshotPolicy")
    environment = serializers.CharField(source="environment.name", allow_null=True, read_only=True,
                                        help_text="The environment's name, or null for the project's base URL.")
    devices = serializers.ListField(child=serializers.CharField())
    completed = serializers.IntegerField(read_only=True)
    command = serializers.JSONField(help_text="Command runs: command, workspace, JUnit path, timeout, variable "
                                              "names (never values).")
    metadata = serializers.JSONField(help_text="CI metadata (branch, commit, build URL) or the run it re-runs.")
    links = serializers.SerializerMethodField()

    class Meta:
        model = Run
        ref_name = "Run"
        fields = ["id", "number", "project", "kind", "status", "trigger", "suite", "schedule", "environment",
                  "target_url", "browser", "devices", "retries", "screenshots", "total", "passed", "failed",
                  "errored", "skipped", "cancelled", "completed", "created_at", "started_at", "finished_at",
                  "duration_ms", "cancel_requested_at", "started_by_label", "error_message", "exit_code", "command",
                  "metadata", "links"]

    @extend_schema_field(RunLinksSerializer)
    def get_links(self, run) -> dict:
        return run_links(run)


class RunCreateInputSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    suite = serializers.PrimaryKeyRelatedField(queryset=Suite.objects.all(), required=False, allow_null=True)
    tests = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=2000,
                                  help_text="Test ids to run, in order; instead of, or chosen from, the suite.")
    environment = _environment_field(required=False, default="",
                                     help_text="Defaults to the suite's environment, else the project's base URL.")
    devices = _devices_field(required=False, help_text="Defaults to the suite's devices, else desktop.")
    retries = serializers.IntegerField(min_value=0, max_value=3, required=False, default=0)
    screenshots = EnumChoiceField(SCREENSHOT_CHOICES, enum_name="ScreenshotPolicy", required=False,
                                  default="every_step")

    class Meta:
        ref_name = "RunCreateInput"

    def validate_tests(self, ids: list) -> list[Test]:
        ids = list(dict.fromkeys(ids))
        found = Test.objects.in_bulk(ids)
        missing = [str(test_id) for test_id in ids if test_id not in found]
        if missing:
            raise serializers.ValidationError([f"Unknown test: {test_id}" for test_id in missing])
        return [found[test_id] for test_id in ids]


def _create_browser_run(request) -> Run:
    serializer = RunCreateInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return run_create(actor=request.user, trigger=run_trigger(request), **serializer.validated_data)


class RunFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")
    suite = django_filters.UUIDFilter(field_name="suite_id")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)
    trigger = django_filters.ChoiceFilter(choices=RunTrigger.choices)
    kind = django_filters.ChoiceFilter(choices=RunKind.choices)

    class Meta:
        model = Run
        fields = ["project", "suite", "status", "trigger", "kind"]


class RunListCreateApi(OrganizationAPIView):
    filterset_class = RunFilter
    ordering_fields = ["created_at", "number"]

    def get_queryset(self):
        return run_list()

    @extend_schema(operation_id="runs_list", responses={200: RunOutputSerializer(many=True),
                                                        **error_responses(400, 401)}, tags=["runs"])
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(RunOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="runs_create", request=RunCreateInputSerializer,
                   responses={201: RunOutputSerializer, **error_responses(400, 401, 403, 409)}, tags=["runs"],
                   description="Queues a browser run: one result per test and device. The trigger is `api` with "
                               "an API key, else `manual`.")
    def post(self, request):
        run = _create_browser_run(request)
        return Response(RunOutputSerializer(run_list().get(pk=run.pk)).data, status=status.HTTP_201_CREATED)


class RunObjectMixin:
    def get_run(self) -> Run:
        return get_object_or_404(run_list(), pk=self.kwargs["run_id"])


class RunDetailApi(RunObjectMixin, OrganizationAPIView):
    @extend_schema(operation_id="runs_retrieve", responses={200: RunOutputSerializer, **error_responses(401, 404)},
                   tags=["runs"])
    def get(self, request, run_id):
        return Response(RunOutputSerializer(self.get_run()).data)


class RunCancelApi(RunObjectMixin, OrganizationAPIView):
    @extend_schema(operation_id="runs_cancel", request=None,
                   responses={200: RunOutputSerializer, **error_responses(401, 403, 404, 409)}, tags=["runs"],
                   description="Queued tests are cancelled now, running ones at their next step. 409 when the run "
                               "already finished.")
    def post(self, request, run_id):
        run = run_cancel(run=self.get_run(), actor=request.user)
        return Response(RunOutputSerializer(run_list().get(pk=run.pk)).data)


class RunRerunFailedApi(RunObjectMixin, OrganizationAPIView):
    @extend_schema(operation_id="runs_rerun_failed", request=None,
                   responses={201: RunOutputSerializer, **error_responses(400, 401, 403, 404, 409)}, tags=["runs"],
                   description="A new run of the tests that failed, errored or were cancelled. 400 "
                               "`nothing_to_run` when nothing did.")
    def post(self, request, run_id):
        rerun = run_rerun_failed(run=self.get_run(), actor=request.user, trigger=run_trigger(request))
        return Response(RunOutputSerializer(run_list().get(pk=rerun.pk)).data, status=status.HTTP_201_CREATED)


# ------------------------------------------------------------------------------------ results, steps


class ArtifactOutputSerializer(serializers.ModelSerializer):
    kind = EnumChoiceField(ArtifactKind.choices, enum_name="ArtifactKind")
    content_url = serializers.SerializerMethodField()

    class Meta:
        model = Artifact
        ref_name = "Artifact"
        fields = ["id", "run", "result", "kind", "name", "content_type", "size", "created_at", "content_url"]

    def get_content_url(self, artifact) -> str:
        return reverse("api-artifact-content", args=[artifact.pk])


class StepResultOutputSerializer(serializers.ModelSerializer):
    status = EnumChoiceField(StepStatus.choices, enum_name="StepStatus")
    target = serializers.JSONField(help_text="The step's target as defined (locators), secrets masked.")
    console_errors = serializers.JSONField()
    failed_requests = serializers.JSONField()
    extracted = serializers.JSONField()
    fingerprint = serializers.JSONField(allow_null=True)
    healing = serializers.JSONField(
        allow_null=True, help_text="When the step's locators broke: status (healed, failed, refused), source "
                                   "(pattern, healer), original_text → selector, confidence, runner_up, reasons, "
                                   "reason, duration_ms and the outlined screenshot's artifact id; null otherwise.")
    screenshot_url = serializers.SerializerMethodField()

    class Meta:
        model = StepResult
        ref_name = "StepResult"
        fields = ["id", "attempt", "index", "action", "description", "target", "resolved_locator", "status",
                  "started_at", "duration_ms", "page_url", "error", "screenshot", "screenshot_url", "console_errors",
                  "failed_requests", "extracted", "fingerprint", "healing"]

    def get_screenshot_url(self, step) -> str | None:
        return reverse("api-artifact-content", args=[step.screenshot_id]) if step.screenshot_id else None


class TestResultOutputSerializer(serializers.ModelSerializer):
    status = EnumChoiceField(ResultStatus.choices, enum_name="ResultStatus")

    class Meta:
        model = TestResult
        ref_name = "TestResult"
        fields = ["id", "run", "test", "test_version", "name", "classname", "device", "position", "status", "attempt",
                  "started_at", "finished_at", "duration_ms", "error_type", "error_message"]


class TestResultDetailOutputSerializer(TestResultOutputSerializer):
    steps = StepResultOutputSerializer(many=True, source="ordered_steps")
    artifacts = ArtifactOutputSerializer(many=True, source="artifact_rows")

    class Meta(TestResultOutputSerializer.Meta):
        ref_name = "TestResultDetail"
        fields = [*TestResultOutputSerializer.Meta.fields, "output", "worker", "steps", "artifacts"]


class ResultFilter(django_filters.FilterSet):
    device = django_filters.ChoiceFilter(choices=DEVICE_CHOICES)
    status = django_filters.ChoiceFilter(choices=ResultStatus.choices)

    class Meta:
        model = TestResult
        fields = ["device", "status"]


class PositionCursorPagination(CursorPagination):
    """Results in run order (each test's devices together)."""

    ordering = ("position", "device")
    page_size_query_param = "page_size"
    max_page_size = 200


class StepCursorPagination(CursorPagination):
    ordering = ("attempt", "index")
    page_size_query_param = "page_size"
    page_size = 200
    max_page_size = 500


class RunResultListApi(RunObjectMixin, OrganizationAPIView):
    filterset_class = ResultFilter
    ordering_fields = ["position", "created_at"]
    pagination_class = PositionCursorPagination

    def get_queryset(self):
        return result_list()

    @extend_schema(operation_id="runs_results_list", responses={200: TestResultOutputSerializer(many=True),
                                                                **error_responses(400, 401, 404)}, tags=["runs"])
    def get(self, request, run_id):
        queryset = self.filter_queryset(result_list(run=self.get_run()))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(TestResultOutputSerializer(page, many=True).data)


class ResultObjectMixin:
    def get_result(self) -> TestResult:
        return get_object_or_404(result_list(), pk=self.kwargs["result_id"])


class ResultDetailApi(ResultObjectMixin, OrganizationAPIView):
    @extend_schema(operation_id="results_retrieve", responses={200: TestResultDetailOutputSerializer,
                                                               **error_responses(401, 404)}, tags=["runs"],
                   description="One test on one device, with its trace steps (every attempt) and files.")
    def get(self, request, result_id):
        result = self.get_result()
        result.ordered_steps = list(step_list(result=result))
        result.artifact_rows = list(artifact_list().filter(result=result))
        return Response(TestResultDetailOutputSerializer(result).data)


class ResultStepListApi(ResultObjectMixin, OrganizationAPIView):
    pagination_class = StepCursorPagination
    filter_backends = []

    @extend_schema(operation_id="results_steps_list", responses={200: StepResultOutputSerializer(many=True),
                                                                 **error_responses(401, 404)}, tags=["runs"])
    def get(self, request, result_id):
        page = self.paginate_queryset(step_list(result=self.get_result()))
        return self.get_paginated_response(StepResultOutputSerializer(page, many=True).data)


# ------------------------------------------------------------------------------- artifacts and logs


class ArtifactFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ArtifactKind.choices)
    result = django_filters.UUIDFilter(field_name="result_id")

    class Meta:
        model = Artifact
        fields = ["kind", "result"]


class RunArtifactListApi(RunObjectMixin, OrganizationAPIView):
    filterset_class = ArtifactFilter
    ordering_fields = ["created_at", "size"]

    def get_queryset(self):
        return artifact_list()

    @extend_schema(operation_id="runs_artifacts_list", responses={200: ArtifactOutputSerializer(many=True),
                                                                  **error_responses(400, 401, 404)}, tags=["runs"])
    def get(self, request, run_id):
        page = self.paginate_queryset(self.filter_queryset(artifact_list(run=self.get_run())))
        return self.get_paginated_response(ArtifactOutputSerializer(page, many=True).data)


class ArtifactContentApi(OrganizationAPIView):
    @extend_schema(operation_id="artifacts_content", responses={
        (200, "application/octet-stream"): OpenApiTypes.BINARY, **error_responses(401, 404)}, tags=["runs"],
        description="The file, with its own content type. Images show inline; everything else downloads.")
    def get(self, request, artifact_id):
        # Artifacts are tenant rows: the host's schema already limits this lookup to the organization.
        artifact = get_object_or_404(artifact_list(), pk=artifact_id)
        try:
            handle = artifact.file.storage.open(artifact.file.name, "rb")
        except (FileNotFoundError, OSError) as exc:
            raise ApplicationError("The file of this artifact is no longer stored.", code="artifact_missing",
                                   status_code=status.HTTP_404_NOT_FOUND) from exc
        inline = artifact.content_type in INLINE_CONTENT_TYPES
        response = FileResponse(handle, content_type=artifact.content_type, as_attachment=not inline,
                                filename=artifact.name)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


class RunLogLineOutputSerializer(serializers.ModelSerializer):
    stream = EnumChoiceField(LogStream.choices, enum_name="LogStream")

    class Meta:
        model = RunLogLine
        ref_name = "RunLogLine"
        fields = ["seq", "stream", "text", "created_at"]


class RunLogOutputSerializer(serializers.Serializer):
    results = RunLogLineOutputSerializer(many=True)
    last_seq = serializers.IntegerField(help_text="Pass as `after_seq` to read on from here.")
    has_more = serializers.BooleanField(help_text="More lines are stored after these; read again at once.")
    run_status = EnumChoiceField(RunStatus.choices, enum_name="RunStatus")

    class Meta:
        ref_name = "RunLog"


class RunLogQuerySerializer(serializers.Serializer):
    after_seq = serializers.IntegerField(min_value=0, required=False, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LOG_LINES_PER_READ, required=False,
                                     default=MAX_LOG_LINES_PER_READ)

    class Meta:
        ref_name = "RunLogQuery"


class RunLogApi(RunObjectMixin, OrganizationAPIView):
    pagination_class = None
    filter_backends = []

    @extend_schema(operation_id="runs_logs", parameters=[RunLogQuerySerializer],
                   responses={200: RunLogOutputSerializer, **error_responses(400, 401, 404)}, tags=["runs"],
                   description="The run's log lines numbered above `after_seq`, oldest first.")
    def get(self, request, run_id):
        query = RunLogQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        run = self.get_run()
        after_seq, limit = query.validated_data["after_seq"], query.validated_data["limit"]
        lines = log_lines_after(run=run, after_seq=after_seq, limit=limit + 1)
        data = {"results": lines[:limit], "last_seq": lines[:limit][-1].seq if lines else after_seq,
                "has_more": len(lines) > limit, "run_status": run.status}
        return Response(RunLogOutputSerializer(data).data)


# ------------------------------------------------------------------------------------------ reports


def _report_schema(operation_id: str, media_type: str, what: str):
    return extend_schema(operation_id=operation_id, responses={(200, media_type): OpenApiTypes.STR,
                                                               **error_responses(401, 404)},
                         tags=["runs"], description=f"The run's {what}, as a download.")


class RunHtmlReportApi(RunObjectMixin, OrganizationAPIView):
    @_report_schema("runs_report_html", "text/html", "report (a standalone HTML page)")
    def get(self, request, run_id):
        run = self.get_run()
        return attachment(render_html_report(run), filename=f"run-{run.number}-report.html",
                          content_type="text/html; charset=utf-8")


class RunMarkdownReportApi(RunObjectMixin, OrganizationAPIView):
    @_report_schema("runs_report_md", "text/markdown", "report in Markdown (for pull requests and chat)")
    def get(self, request, run_id):
        run = self.get_run()
        return attachment(render_markdown_report(run), filename=f"run-{run.number}-report.md",
                          content_type="text/markdown; charset=utf-8")


class RunJunitXmlApi(RunObjectMixin, OrganizationAPIView):
    @_report_schema("runs_junit_xml", "application/xml", "results as JUnit XML")
    def get(self, request, run_id):
        run = self.get_run()
        return attachment(render_junit_xml(run), filename=f"run-{run.number}-junit.xml",
                          content_type="application/xml; charset=utf-8")


# ------------------------------------------------------------------------------- command runs, JUnit


class EnvVarsField(serializers.DictField):
    """{NAME: value}; a multipart form sends it as a JSON string."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(allow_blank=True, max_length=10_000), **kwargs)

    def get_value(self, dictionary):
        # DictField reads a form as "env.NAME" keys; this form field carries the object as one JSON string.
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            return dictionary.get(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data or "{}")
            except ValueError as exc:
                raise serializers.ValidationError("Send the variables as a JSON object.") from exc
        return super().to_internal_value(data)


class CommandRunInputSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    command = serializers.CharField(max_length=4000, help_text="The shell command that runs the tests.")
    workspace_path = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="",
                                           help_text="A folder on the worker, inside the allowed workspace paths.")
    env = EnvVarsField(required=False, default=dict, help_text="Extra variables {NAME: value} for the process.")
    junit_path = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="",
                                       help_text="Where the command writes its JUnit report, relative to the "
                                                 "workspace.")
    timeout_seconds = serializers.IntegerField(min_value=1, max_value=settings.ARGUS_COMMAND_TIME_LIMIT,
                                               required=False, help_text="Defaults to the longest allowed.")
    environment = _environment_field(required=False, default="",
                                     help_text="Its URL and variables are given to the process.")

    class Meta:
        ref_name = "CommandRunInput"


class CommandRunUploadInputSerializer(CommandRunInputSerializer):
    workspace = serializers.FileField(required=False, help_text="A .zip or .tar.gz of the workspace.")

    class Meta:
        ref_name = "CommandRunUploadInput"


class CommandRunCreateApi(OrganizationAPIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(operation_id="runs_command_create",
                   request={"application/json": CommandRunInputSerializer,
                            "multipart/form-data": CommandRunUploadInputSerializer},
                   responses={201: RunOutputSerializer, **error_responses(400, 401, 403, 409), **TOO_LARGE_RESPONSE},
                   tags=["runs"],
                   description="Runs any test framework's command in a workspace (a path on the worker, an "
                               "uploaded archive, or else an empty folder) and reads its JUnit report.")
    def post(self, request):
        refuse_oversized_body(request)
        serializer = CommandRunUploadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data.get("workspace")
        if upload is not None and upload.size > settings.ARGUS_UPLOAD_MAX_BYTES:
            raise upload_too_large()
        run = command_run_create(
            project=data["project"], actor=request.user, command=data["command"], env=data["env"],
            junit_path=data["junit_path"], timeout_seconds=data.get("timeout_seconds"),
            workspace_path=data["workspace_path"] or None, workspace_archive=upload,
            environment=data["environment"] or None, trigger=run_trigger(request),
        )
        return Response(RunOutputSerializer(run_list().get(pk=run.pk)).data, status=status.HTTP_201_CREATED)


class XmlBodyParser(BaseParser):
    """A raw JUnit XML body; hands the view the bytes, read up to the upload limit."""

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        data = stream.read(settings.ARGUS_UPLOAD_MAX_BYTES + 1)
        if len(data) > settings.ARGUS_UPLOAD_MAX_BYTES:
            raise upload_too_large()
        return data


class TextXmlBodyParser(XmlBodyParser):
    media_type = "text/xml"


XML_MEDIA_TYPES = (XmlBodyParser.media_type, TextXmlBodyParser.media_type)


class JunitMetadataSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    branch = serializers.CharField(max_length=200, required=False, allow_blank=True)
    commit = serializers.CharField(max_length=100, required=False, allow_blank=True)
    build_url = serializers.URLField(max_length=500, required=False, allow_blank=True)

    class Meta:
        ref_name = "JunitMetadata"


class JunitUploadInputSerializer(JunitMetadataSerializer):
    file = serializers.FileField(help_text="The JUnit XML report.")

    class Meta:
        ref_name = "JunitUploadInput"


class JunitImportApi(OrganizationAPIView):
    parser_classes = [MultiPartParser, FormParser, XmlBodyParser, TextXmlBodyParser]

    @extend_schema(
        operation_id="runs_junit_import",
        request={"multipart/form-data": JunitUploadInputSerializer, "application/xml": OpenApiTypes.BINARY},
        parameters=[OpenApiParameter(name, required=False, description="With a raw XML body: the form field "
                                     f"`{name}`, as a query parameter.")
                    for name in ("project", "name", "branch", "commit", "build_url")],
        responses={201: RunOutputSerializer, **error_responses(400, 401, 403, 409), **TOO_LARGE_RESPONSE},
        tags=["runs"],
        description="A finished run made from a JUnit report of any tool. Malformed XML answers 400 "
                    "`invalid_junit`; nothing is stored then.",
    )
    def post(self, request):
        refuse_oversized_body(request)
        if request.content_type.split(";")[0].strip() in XML_MEDIA_TYPES:
            serializer = JunitMetadataSerializer(data=request.query_params)
            serializer.is_valid(raise_exception=True)
            # An empty body is never parsed (DRF hands over an empty form); it is an empty report.
            xml_bytes = request.data if isinstance(request.data, bytes) else b""
        else:
            serializer = JunitUploadInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            xml_bytes = read_upload(serializer.validated_data["file"])
        metadata = {key: value for key, value in serializer.validated_data.items() if key not in ("project", "file")}
        run = junit_import_run(project=serializer.validated_data["project"], actor=request.user, xml_bytes=xml_bytes,
                               metadata=metadata, trigger=run_trigger(request))
        return Response(RunOutputSerializer(run_list().get(pk=run.pk)).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------- schedules


class ScheduleOutputSerializer(serializers.ModelSerializer):
    environment = serializers.CharField(source="environment.name", allow_null=True, read_only=True)
    devices = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Schedule
        ref_name = "Schedule"
        fields = ["id", "project", "suite", "name", "cron", "timezone", "environment", "devices", "enabled",
                  "next_run_at", "last_run_at", "last_run", "created_at", "updated_at"]


class ScheduleCreateInputSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    suite = serializers.PrimaryKeyRelatedField(queryset=Suite.objects.all())
    name = serializers.CharField(max_length=200)
    cron = serializers.CharField(max_length=100, help_text="Five fields, e.g. `0 3 * * 1-5`.")
    timezone = serializers.CharField(max_length=64, required=False, default="UTC", help_text="An IANA time zone.")
    environment = _environment_field(required=False, default="")
    devices = _devices_field(required=False)
    enabled = serializers.BooleanField(required=False, default=True)

    class Meta:
        ref_name = "ScheduleCreateInput"


class ScheduleUpdateInputSerializer(serializers.Serializer):
    suite = serializers.PrimaryKeyRelatedField(queryset=Suite.objects.all(), required=False)
    name = serializers.CharField(max_length=200, required=False)
    cron = serializers.CharField(max_length=100, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    environment = _environment_field(required=False)
    devices = _devices_field(required=False)
    enabled = serializers.BooleanField(required=False)

    class Meta:
        ref_name = "ScheduleUpdateInput"


class ScheduleFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")
    suite = django_filters.UUIDFilter(field_name="suite_id")
    # A strict choice: an unknown value answers 400 instead of silently listing everything.
    enabled = django_filters.ChoiceFilter(choices=[("true", "Enabled only"), ("false", "Disabled only")],
                                          method="filter_enabled")

    class Meta:
        model = Schedule
        fields = ["project", "suite", "enabled"]

    def filter_enabled(self, queryset, name, value):
        return queryset.filter(enabled=value == "true")


class ScheduleListCreateApi(OrganizationAPIView):
    filterset_class = ScheduleFilter
    ordering_fields = ["created_at", "name"]

    def get_queryset(self):
        return schedule_list()

    @extend_schema(operation_id="schedules_list", responses={200: ScheduleOutputSerializer(many=True),
                                                             **error_responses(400, 401)}, tags=["schedules"])
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ScheduleOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="schedules_create", request=ScheduleCreateInputSerializer,
                   responses={201: ScheduleOutputSerializer, **error_responses(400, 401, 403, 409)},
                   tags=["schedules"], description="`next_run_at` is computed from the cron and time zone.")
    def post(self, request):
        serializer = ScheduleCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["environment"] = data["environment"] or None
        schedule = schedule_create(actor=request.user, **data)
        return Response(ScheduleOutputSerializer(schedule_list().get(pk=schedule.pk)).data,
                        status=status.HTTP_201_CREATED)


class ScheduleDetailApi(OrganizationAPIView):
    def get_schedule(self) -> Schedule:
        return get_object_or_404(schedule_list(), pk=self.kwargs["schedule_id"])

    @extend_schema(operation_id="schedules_retrieve", responses={200: ScheduleOutputSerializer,
                                                                 **error_responses(401, 404)}, tags=["schedules"])
    def get(self, request, schedule_id):
        return Response(ScheduleOutputSerializer(self.get_schedule()).data)

    @extend_schema(operation_id="schedules_update", request=ScheduleUpdateInputSerializer,
                   responses={200: ScheduleOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
                   tags=["schedules"])
    def patch(self, request, schedule_id):
        serializer = ScheduleUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "environment" in data:
            data["environment"] = data["environment"] or None
        schedule_update(schedule=self.get_schedule(), actor=request.user, **data)
        return Response(ScheduleOutputSerializer(self.get_schedule()).data)

    @extend_schema(operation_id="schedules_destroy", responses={204: None, **error_responses(401, 403, 404, 409)},
                   tags=["schedules"])
    def delete(self, request, schedule_id):
        schedule_delete(schedule=self.get_schedule(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------------------------------ devices


class DeviceOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    label = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    pixel_ratio = serializers.FloatField()
    mobile = serializers.BooleanField()
    touch = serializers.BooleanField()
    user_agent = serializers.CharField(help_text="Empty: Chromium's own.")

    class Meta:
        ref_name = "DevicePreset"


class DeviceListApi(OrganizationAPIView):
    pagination_class = None
    filter_backends = []

    @extend_schema(operation_id="devices_list", responses={200: DeviceOutputSerializer(many=True),
                                                           **error_responses(401)}, tags=["runs"],
                   description="The device presets a run can use (all of them, not paginated).")
    def get(self, request):
        return Response(DeviceOutputSerializer([device.as_dict() for device in DEVICES.values()], many=True).data)


# ------------------------------------------------------------------------- task-style (legacy) paths


class JobAcceptedOutputSerializer(serializers.Serializer):
    job_id = serializers.UUIDField(help_text="The run's id.")
    status = EnumChoiceField(RunStatus.choices, enum_name="RunStatus")
    url = serializers.CharField(help_text="Poll this for status and results.")

    class Meta:
        ref_name = "JobAccepted"


class JobResultOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    device = serializers.CharField()
    status = EnumChoiceField(ResultStatus.choices, enum_name="ResultStatus")
    duration_ms = serializers.IntegerField(allow_null=True)
    error_message = serializers.CharField()

    class Meta:
        ref_name = "JobResult"


class JobSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    passed = serializers.IntegerField()
    failed = serializers.IntegerField()
    errored = serializers.IntegerField()
    skipped = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    completed = serializers.IntegerField()
    duration_ms = serializers.IntegerField(allow_null=True)

    class Meta:
        ref_name = "JobSummary"


class JobOutputSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = EnumChoiceField(RunStatus.choices, enum_name="RunStatus")
    finished = serializers.BooleanField()
    error_message = serializers.CharField()
    summary = JobSummarySerializer()
    results = JobResultOutputSerializer(many=True)
    url = serializers.CharField(help_text="The run, with links to its reports.")

    class Meta:
        ref_name = "Job"


class LegacyTestRunApi(OrganizationAPIView):
    @extend_schema(operation_id="tests_run", request=RunCreateInputSerializer,
                   responses={202: JobAcceptedOutputSerializer, **error_responses(400, 401, 403, 409)},
                   tags=["runs"], description="Task-style: starts a run (as POST /runs) and answers its job id.")
    def post(self, request):
        run = _create_browser_run(request)
        data = {"job_id": run.pk, "status": run.status, "url": reverse("api-job-detail", args=[run.pk])}
        return Response(JobAcceptedOutputSerializer(data).data, status=status.HTTP_202_ACCEPTED)


class JobDetailApi(RunObjectMixin, OrganizationAPIView):
    @extend_schema(operation_id="jobs_retrieve", responses={200: JobOutputSerializer, **error_responses(401, 404)},
                   tags=["runs"], description="Task-style: the status and results of a run.")
    def get(self, request, run_id):
        run = self.get_run()
        results = result_list(run=run).order_by("position", "device").values(
            "id", "name", "device", "status", "duration_ms", "error_message")
        data = {"job_id": run.pk, "status": run.status, "finished": run.is_finished,
                "error_message": run.error_message, "summary": run, "results": results,
                "url": reverse("api-run-detail", args=[run.pk])}
        return Response(JobOutputSerializer(data).data)
