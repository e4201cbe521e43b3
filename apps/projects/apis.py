from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.core.apis import OrganizationAPIView, error_responses
from apps.projects.models import Environment, EnvironmentName, EnvironmentVariable, Project
from apps.projects.selectors import project_list
from apps.projects.services import (
    environment_variable_delete,
    environment_variable_set,
    project_archive,
    project_create,
    project_restore,
    project_update,
)


class EnvironmentsField(serializers.DictField):
    """{"dev": url, "staging": url, "production": url}; an empty URL removes that environment."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.URLField(max_length=500, allow_blank=True), **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        unknown = sorted(set(value) - set(EnvironmentName.values))
        if unknown:
            raise serializers.ValidationError(f"Unknown environment(s) {unknown}; use {EnvironmentName.values}.")
        return value


class ProjectOutputSerializer(serializers.ModelSerializer):
    environments = serializers.SerializerMethodField()
    is_archived = serializers.BooleanField(read_only=True)

    class Meta:
        model = Project
        ref_name = "Project"
        fields = ["id", "name", "slug", "base_url", "description", "environments", "is_archived", "archived_at",
                  "created_at", "updated_at"]

    def get_environments(self, project) -> dict[str, str]:
        return {env.name: env.url for env in project.environments.all()}


class ProjectCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    slug = serializers.SlugField(max_length=60, required=False)
    base_url = serializers.URLField(max_length=500)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    environments = EnvironmentsField(required=False)

    class Meta:
        ref_name = "ProjectCreateInput"


class ProjectUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    slug = serializers.SlugField(max_length=60, required=False)
    base_url = serializers.URLField(max_length=500, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    environments = EnvironmentsField(required=False)

    class Meta:
        ref_name = "ProjectUpdateInput"


class ProjectFilter(django_filters.FilterSet):
    # A strict choice: an unknown value answers 400 instead of silently listing everything.
    archived = django_filters.ChoiceFilter(choices=[("true", "Archived only"), ("false", "Active only")],
                                           method="filter_archived")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Project
        fields = ["archived", "search", "slug"]

    def filter_archived(self, queryset, name, value):
        return queryset.filter(archived_at__isnull=value == "false")


class ProjectListCreateApi(OrganizationAPIView):
    filterset_class = ProjectFilter
    ordering_fields = ["created_at", "name", "updated_at"]

    def get_queryset(self):
        return project_list(include_archived=True)

    @extend_schema(operation_id="projects_list", responses={200: ProjectOutputSerializer(many=True),
                                                            **error_responses(400, 401)}, tags=["projects"])
    def get(self, request):
        queryset = self.get_queryset()
        if "archived" not in request.query_params:
            queryset = queryset.filter(archived_at__isnull=True)
        page = self.paginate_queryset(self.filter_queryset(queryset))
        return self.get_paginated_response(ProjectOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="projects_create", request=ProjectCreateInputSerializer,
                   responses={201: ProjectOutputSerializer, **error_responses(400, 401, 403, 409)}, tags=["projects"])
    def post(self, request):
        serializer = ProjectCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = project_create(actor=request.user, **serializer.validated_data)
        return Response(ProjectOutputSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(OrganizationAPIView):
    def get_object(self) -> Project:
        return get_object_or_404(project_list(include_archived=True), pk=self.kwargs["project_id"])

    @extend_schema(operation_id="projects_retrieve", responses={200: ProjectOutputSerializer,
                                                                **error_responses(401, 404)}, tags=["projects"])
    def get(self, request, project_id):
        return Response(ProjectOutputSerializer(self.get_object()).data)

    @extend_schema(operation_id="projects_update", request=ProjectUpdateInputSerializer,
                   responses={200: ProjectOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
                   tags=["projects"])
    def patch(self, request, project_id):
        serializer = ProjectUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = project_update(project=self.get_object(), actor=request.user, **serializer.validated_data)
        return Response(ProjectOutputSerializer(project_list(include_archived=True).get(pk=project.pk)).data)


class ProjectArchiveApi(OrganizationAPIView):
    @extend_schema(operation_id="projects_archive", request=None, responses={200: ProjectOutputSerializer,
                                                                             **error_responses(401, 403, 404)},
                   tags=["projects"], description="Archives the project: hidden from lists and read-only.")
    def post(self, request, project_id):
        project = get_object_or_404(Project, pk=project_id)
        return Response(ProjectOutputSerializer(project_archive(project=project, actor=request.user)).data)


class ProjectRestoreApi(OrganizationAPIView):
    @extend_schema(operation_id="projects_restore", request=None, responses={200: ProjectOutputSerializer,
                                                                             **error_responses(401, 403, 404)},
                   tags=["projects"])
    def post(self, request, project_id):
        project = get_object_or_404(Project, pk=project_id)
        return Response(ProjectOutputSerializer(project_restore(project=project, actor=request.user)).data)


class EnvironmentVariableOutputSerializer(serializers.ModelSerializer):
    value = serializers.SerializerMethodField(help_text="null for secrets: their values are never returned.")

    class Meta:
        model = EnvironmentVariable
        ref_name = "EnvironmentVariable"
        fields = ["id", "name", "value", "is_secret", "created_at", "updated_at"]

    def get_value(self, variable) -> str | None:
        return None if variable.is_secret else variable.value


class EnvironmentVariableInputSerializer(serializers.Serializer):
    name = serializers.RegexField(r"^[A-Z_][A-Z0-9_]*$", max_length=64, error_messages={
        "invalid": "Use upper-case letters, digits and underscores, not starting with a digit."})
    value = serializers.CharField(allow_blank=True, max_length=10_000, trim_whitespace=False)
    is_secret = serializers.BooleanField(required=False, default=False)

    class Meta:
        ref_name = "EnvironmentVariableInput"


class EnvironmentObjectMixin:
    def get_environment(self) -> Environment:
        return get_object_or_404(Environment.objects.select_related("project"), project_id=self.kwargs["project_id"],
                                 name=self.kwargs["environment_name"])


class EnvironmentVariableListSetApi(EnvironmentObjectMixin, OrganizationAPIView):
    # An environment holds a handful of variables: the list is whole, not paginated.
    pagination_class = None
    filter_backends = []

    @extend_schema(operation_id="projects_variables_list",
                   responses={200: EnvironmentVariableOutputSerializer(many=True), **error_responses(401, 404)},
                   tags=["projects"], description="The environment's variables; secrets with `value` null.")
    def get(self, request, project_id, environment_name):
        variables = EnvironmentVariable.objects.filter(environment=self.get_environment())
        return Response(EnvironmentVariableOutputSerializer(variables, many=True).data)

    @extend_schema(operation_id="projects_variables_set", request=EnvironmentVariableInputSerializer,
                   responses={200: EnvironmentVariableOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
                   tags=["projects"], description="Creates or replaces one variable. Tests read it as "
                                                  "`{{ env.NAME }}`; secret values are masked everywhere.")
    def put(self, request, project_id, environment_name):
        serializer = EnvironmentVariableInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        variable = environment_variable_set(environment=self.get_environment(), actor=request.user,
                                            **serializer.validated_data)
        return Response(EnvironmentVariableOutputSerializer(variable).data)


class EnvironmentVariableDetailApi(EnvironmentObjectMixin, OrganizationAPIView):
    @extend_schema(operation_id="projects_variables_destroy", responses={204: None,
                                                                         **error_responses(401, 403, 404, 409)},
                   tags=["projects"])
    def delete(self, request, project_id, environment_name, variable_name):
        variable = get_object_or_404(EnvironmentVariable.objects.select_related("environment__project"),
                                     environment=self.get_environment(), name=variable_name)
        environment_variable_delete(variable=variable, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
