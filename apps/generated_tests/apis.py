from __future__ import annotations

import json
from typing import Any

import django_filters
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.core.apis import (
    TOO_LARGE_RESPONSE,
    EnumChoiceField,
    OrganizationAPIView,
    attachment,
    error_responses,
    read_upload,
    refuse_oversized_body,
)
from apps.core.errors import ApplicationError
from apps.generated_tests.dsl import validate_definition
from apps.generated_tests.export import export_test_to_pytest
from apps.generated_tests.models import Suite, SuiteTest, Test, TestOrigin, TestStatus, TestVersion
from apps.generated_tests.selectors import suite_list, test_list
from apps.generated_tests.services import (
    suite_create,
    suite_delete,
    suite_update,
    test_create,
    test_delete,
    test_restore_version,
    test_update,
    tests_import,
)
from apps.organizations.models import Role
from apps.projects.models import EnvironmentName, Project
from apps.test_runs.devices import DEVICE_CHOICES
from apps.test_runs.services import resolve_environment

# ---------------------------------------------------------------------------------------------- tests


class TestSummaryOutputSerializer(serializers.ModelSerializer):
    origin = EnumChoiceField(TestOrigin.choices, enum_name="TestOrigin")
    status = EnumChoiceField(TestStatus.choices, enum_name="TestStatus")
    step_count = serializers.IntegerField(read_only=True)
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True)

    class Meta:
        model = Test
        ref_name = "TestSummary"
        fields = ["id", "project", "name", "description", "origin", "status", "tags", "version", "step_count",
                  "created_by", "created_at", "updated_at"]


class TestOutputSerializer(TestSummaryOutputSerializer):
    definition = serializers.JSONField(help_text="The steps document (DSL v1).")

    class Meta(TestSummaryOutputSerializer.Meta):
        ref_name = "Test"
        fields = [*TestSummaryOutputSerializer.Meta.fields, "definition"]


class TestCreateInputSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    origin = EnumChoiceField(TestOrigin.choices, enum_name="TestOrigin", required=False, default=TestOrigin.MANUAL)
    status = EnumChoiceField(TestStatus.choices, enum_name="TestStatus", required=False, default=TestStatus.DRAFT)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)
    definition = serializers.JSONField(help_text="The steps document (DSL v1); see POST /tests/validate.")

    class Meta:
        ref_name = "TestCreateInput"


class TestUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    status = EnumChoiceField(TestStatus.choices, enum_name="TestStatus", required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)
    definition = serializers.JSONField(required=False, help_text="A new definition makes a new version.")
    change_note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    class Meta:
        ref_name = "TestUpdateInput"


class TestVersionOutputSerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True)

    class Meta:
        model = TestVersion
        ref_name = "TestVersion"
        fields = ["number", "name", "definition", "change_note", "created_by", "created_at"]


class TestImportJsonInputSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    document = serializers.JSONField(help_text="One test ({name, steps, ...}), a list of them, or {\"tests\": [...]}.")

    class Meta:
        ref_name = "TestImportInput"


class TestImportFileInputSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    file = serializers.FileField(help_text="A JSON steps file, in any of the shapes `document` accepts.")

    class Meta:
        ref_name = "TestImportFileInput"


class TestImportOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    tests = TestSummaryOutputSerializer(many=True)

    class Meta:
        ref_name = "TestImportResult"


class TestValidateInputSerializer(serializers.Serializer):
    definition = serializers.JSONField()

    class Meta:
        ref_name = "TestValidateInput"


class TestValidationOutputSerializer(serializers.Serializer):
    valid = serializers.BooleanField()

    class Meta:
        ref_name = "TestValidation"


class TestFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")
    status = django_filters.ChoiceFilter(choices=TestStatus.choices)
    origin = django_filters.ChoiceFilter(choices=TestOrigin.choices)
    tag = django_filters.CharFilter(method="filter_tag")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Test
        fields = ["project", "status", "origin", "tag", "search"]

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value.strip().lower()])


class TestListCreateApi(OrganizationAPIView):
    filterset_class = TestFilter
    ordering_fields = ["created_at", "updated_at", "name", "status"]

    def get_queryset(self):
        return test_list().select_related("created_by")

    @extend_schema(operation_id="tests_list", responses={200: TestSummaryOutputSerializer(many=True),
                                                         **error_responses(400, 401)}, tags=["tests"])
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(TestSummaryOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="tests_create", request=TestCreateInputSerializer,
                   responses={201: TestOutputSerializer, **error_responses(400, 401, 403, 409)}, tags=["tests"],
                   description="Invalid steps answer 400 `invalid_steps`, with details keyed `steps[<index>]`.")
    def post(self, request):
        serializer = TestCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        test = test_create(actor=request.user, **serializer.validated_data)
        return Response(TestOutputSerializer(test).data, status=status.HTTP_201_CREATED)


class TestObjectMixin:
    def get_test(self) -> Test:
        return get_object_or_404(test_list().select_related("created_by"), pk=self.kwargs["test_id"])


class TestDetailApi(TestObjectMixin, OrganizationAPIView):
    @extend_schema(operation_id="tests_retrieve", responses={200: TestOutputSerializer, **error_responses(401, 404)},
                   tags=["tests"])
    def get(self, request, test_id):
        return Response(TestOutputSerializer(self.get_test()).data)

    @extend_schema(operation_id="tests_update", request=TestUpdateInputSerializer,
                   responses={200: TestOutputSerializer, **error_responses(400, 401, 403, 404, 409)}, tags=["tests"],
                   description="A new `definition` (or name) makes a new version; `change_note` describes it.")
    def patch(self, request, test_id):
        serializer = TestUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        test_update(test=self.get_test(), actor=request.user, **serializer.validated_data)
        return Response(TestOutputSerializer(self.get_test()).data)

    @extend_schema(operation_id="tests_destroy", responses={204: None, **error_responses(401, 403, 404, 409)},
                   tags=["tests"])
    def delete(self, request, test_id):
        test_delete(test=self.get_test(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TestVersionCursorPagination(CursorPagination):
    ordering = "-number"
    page_size_query_param = "page_size"
    max_page_size = 200


class TestVersionListApi(TestObjectMixin, OrganizationAPIView):
    pagination_class = TestVersionCursorPagination
    filter_backends = []

    @extend_schema(operation_id="tests_versions_list", responses={200: TestVersionOutputSerializer(many=True),
                                                                  **error_responses(401, 404)}, tags=["tests"])
    def get(self, request, test_id):
        queryset = TestVersion.objects.filter(test=self.get_test()).select_related("created_by")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(TestVersionOutputSerializer(page, many=True).data)


class TestVersionRestoreApi(TestObjectMixin, OrganizationAPIView):
    @extend_schema(operation_id="tests_versions_restore", request=None,
                   responses={200: TestOutputSerializer, **error_responses(401, 403, 404, 409)}, tags=["tests"],
                   description="Makes the version's definition current again, as a new version.")
    def post(self, request, test_id, number):
        test_restore_version(test=self.get_test(), number=number, actor=request.user)
        return Response(TestOutputSerializer(self.get_test()).data)


class TestExportApi(TestObjectMixin, OrganizationAPIView):
    @extend_schema(
        operation_id="tests_export",
        parameters=[OpenApiParameter("environment", enum=EnvironmentName.values, required=False,
                                     description="Target this environment's URL instead of the project's base URL.")],
        responses={(200, "text/x-python"): OpenApiTypes.STR, **error_responses(400, 401, 404)}, tags=["tests"],
        description="A runnable pytest + Selenium file for the test.",
    )
    def get(self, request, test_id):
        test = self.get_test()
        environment_name = request.query_params.get("environment", "")
        if environment_name and environment_name not in EnvironmentName.values:
            raise ApplicationError("Unknown environment.", code="invalid",
                                   details={"environment": [f"Use one of {EnvironmentName.values}."]})
        environment = resolve_environment(test.project, environment_name)
        base_url = environment.url if environment is not None else test.project.base_url
        code = export_test_to_pytest(test, name=test.name, base_url=base_url)
        filename = f"test_{slugify(test.name).replace('-', '_') or 'exported'}.py"
        return attachment(code, filename=filename, content_type="text/x-python; charset=utf-8")


def _import_document(request) -> tuple[Project, Any]:
    if request.content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        serializer = TestImportFileInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            document = json.loads(read_upload(serializer.validated_data["file"]))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApplicationError("The file is not valid JSON.", code="invalid_import",
                                   details={"file": [str(exc)]}) from exc
        return serializer.validated_data["project"], document
    serializer = TestImportJsonInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["project"], serializer.validated_data["document"]


class TestImportApi(OrganizationAPIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(operation_id="tests_import",
                   request={"application/json": TestImportJsonInputSerializer,
                            "multipart/form-data": TestImportFileInputSerializer},
                   responses={201: TestImportOutputSerializer, **error_responses(400, 401, 403, 409),
                              **TOO_LARGE_RESPONSE},
                   tags=["tests"], description="All or nothing: one bad test refuses the whole file.")
    def post(self, request):
        refuse_oversized_body(request)
        project, document = _import_document(request)
        created = tests_import(project=project, actor=request.user, document=document)
        data = {"created": len(created), "tests": created}
        return Response(TestImportOutputSerializer(data).data, status=status.HTTP_201_CREATED)


class TestValidateApi(OrganizationAPIView):
    # Checking a definition changes nothing, so a viewer may do it too.
    write_role = Role.VIEWER

    @extend_schema(operation_id="tests_validate", request=TestValidateInputSerializer,
                   responses={200: TestValidationOutputSerializer, **error_responses(400, 401)}, tags=["tests"],
                   description="200 `{\"valid\": true}`, or 400 `invalid_steps` with details keyed `steps[<index>]`.")
    def post(self, request):
        serializer = TestValidateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        validate_definition(serializer.validated_data["definition"])
        return Response(TestValidationOutputSerializer({"valid": True}).data)


# --------------------------------------------------------------------------------------------- suites


class SuiteOutputSerializer(serializers.ModelSerializer):
    default_environment = EnumChoiceField(EnvironmentName.choices, enum_name="EnvironmentName", allow_blank=True)
    default_devices = serializers.ListField(child=EnumChoiceField(DEVICE_CHOICES, enum_name="Device"))
    tests = serializers.SerializerMethodField(help_text="Ids of the suite's tests, in run order.")
    test_count = serializers.SerializerMethodField()

    class Meta:
        model = Suite
        ref_name = "Suite"
        fields = ["id", "project", "name", "description", "default_environment", "default_devices", "tests",
                  "test_count", "created_at", "updated_at"]

    def get_tests(self, suite) -> list[str]:
        return [str(entry.test_id) for entry in suite.ordered_entries]

    def get_test_count(self, suite) -> int:
        return len(suite.ordered_entries)


class SuiteCreateInputSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    tests = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=2000,
                                  help_text="Test ids of the same project, in run order.")
    default_environment = EnumChoiceField(
        EnvironmentName.choices, enum_name="EnvironmentName", allow_blank=True, required=False, default="")
    default_devices = serializers.ListField(child=EnumChoiceField(DEVICE_CHOICES, enum_name="Device"),
                                            required=False, max_length=len(DEVICE_CHOICES))

    class Meta:
        ref_name = "SuiteCreateInput"


class SuiteUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    tests = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=2000,
                                  help_text="Replaces the suite's tests, in this order.")
    default_environment = EnumChoiceField(EnvironmentName.choices, enum_name="EnvironmentName", allow_blank=True,
                                          required=False)
    default_devices = serializers.ListField(child=EnumChoiceField(DEVICE_CHOICES, enum_name="Device"),
                                            required=False, max_length=len(DEVICE_CHOICES))

    class Meta:
        ref_name = "SuiteUpdateInput"


class SuiteFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Suite
        fields = ["project", "search"]


def _suites():
    # The ordered test ids of every suite of a page in one query.
    return suite_list().prefetch_related(
        Prefetch("suitetest_set", queryset=SuiteTest.objects.order_by("position"), to_attr="ordered_entries"))


class SuiteListCreateApi(OrganizationAPIView):
    filterset_class = SuiteFilter
    ordering_fields = ["created_at", "updated_at", "name"]

    def get_queryset(self):
        return _suites()

    @extend_schema(operation_id="suites_list", responses={200: SuiteOutputSerializer(many=True),
                                                          **error_responses(400, 401)}, tags=["suites"])
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(SuiteOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="suites_create", request=SuiteCreateInputSerializer,
                   responses={201: SuiteOutputSerializer, **error_responses(400, 401, 403, 409)}, tags=["suites"])
    def post(self, request):
        serializer = SuiteCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        suite = suite_create(actor=request.user, **serializer.validated_data)
        return Response(SuiteOutputSerializer(_suites().get(pk=suite.pk)).data, status=status.HTTP_201_CREATED)


class SuiteDetailApi(OrganizationAPIView):
    def get_suite(self) -> Suite:
        return get_object_or_404(_suites(), pk=self.kwargs["suite_id"])

    @extend_schema(operation_id="suites_retrieve", responses={200: SuiteOutputSerializer,
                                                              **error_responses(401, 404)}, tags=["suites"])
    def get(self, request, suite_id):
        return Response(SuiteOutputSerializer(self.get_suite()).data)

    @extend_schema(operation_id="suites_update", request=SuiteUpdateInputSerializer,
                   responses={200: SuiteOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
                   tags=["suites"])
    def patch(self, request, suite_id):
        serializer = SuiteUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        suite_update(suite=self.get_suite(), actor=request.user, **serializer.validated_data)
        return Response(SuiteOutputSerializer(self.get_suite()).data)

    @extend_schema(operation_id="suites_destroy", responses={204: None, **error_responses(401, 403, 404, 409)},
                   tags=["suites"])
    def delete(self, request, suite_id):
        suite_delete(suite=self.get_suite(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
