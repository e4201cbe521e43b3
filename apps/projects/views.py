"""Projects: the applications an organization tests."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import ApplicationError
from apps.core.ui import add_service_errors, member_required
from apps.organizations.models import Role
from apps.projects.forms import EnvironmentVariableForm, ProjectForm
from apps.projects.models import EnvironmentVariable, Project
from apps.projects.selectors import project_list
from apps.projects.services import (
    environment_variable_delete,
    environment_variable_set,
    project_archive,
    project_create,
    project_restore,
    project_update,
)


def _project_or_404(project_id) -> Project:
    # Tenant tables: the host's schema already holds this organization's projects only.
    return get_object_or_404(project_list(include_archived=True), pk=project_id)


@require_GET
@member_required()
def project_list_view(request: HttpRequest) -> HttpResponse:
    archived = request.GET.get("archived") == "1"
    projects = project_list(include_archived=True).filter(archived_at__isnull=not archived)
    return render(request, "projects/project_list.html", {
        "section": "projects", "projects": projects, "archived": archived,
        "can_write": request.membership.has_role(Role.DEVELOPER),
    })


@require_http_methods(["GET", "POST"])
@member_required(Role.DEVELOPER)
def project_create_view(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(actor=request.user, **form.service_arguments())
        except (ApplicationError, ValidationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("project_detail", project_id=project.pk)
    return render(request, "projects/project_form.html", {"section": "projects", "form": form},
                  status=400 if form.errors else 200)


def _variable_sections(project: Project, bound: EnvironmentVariableForm | None) -> list[dict]:
    """Per environment: its variables and the form that adds or replaces one (the bound one if it failed)."""
    sections = []
    for environment in project.environments.prefetch_related("variables"):
        form = bound if bound is not None and bound.data.get("environment") == environment.name else None
        sections.append({"environment": environment, "variables": list(environment.variables.all()),
                         "form": form or EnvironmentVariableForm(initial={"environment": environment.name})})
    return sections


def _project_page(request: HttpRequest, project: Project, variable_form: EnvironmentVariableForm | None = None,
                  status: int = 200) -> HttpResponse:
    sections = _variable_sections(project, variable_form)
    # A refused form for an environment the page has no section for still says why.
    unplaced = variable_form is not None and all(section["form"] is not variable_form for section in sections)
    return render(request, "projects/project_detail.html", {
        "section": "projects", "project": project,
        "can_write": request.membership.has_role(Role.DEVELOPER),
        "is_admin": request.membership.has_role(Role.ADMIN),
        "variable_sections": sections,
        "variable_errors": [error for errors in variable_form.errors.values() for error in errors] if unplaced else [],
    }, status=status)


@require_GET
@member_required()
def project_detail(request: HttpRequest, project_id) -> HttpResponse:
    return _project_page(request, _project_or_404(project_id))


@require_POST
@member_required(Role.DEVELOPER)
def variable_set_view(request: HttpRequest, project_id) -> HttpResponse:
    project = _project_or_404(project_id)
    form = EnvironmentVariableForm(request.POST)
    if form.is_valid():
        environment = project.environments.filter(name=form.cleaned_data["environment"]).first()
        if environment is None:
            form.add_error(None, "The project has no such environment.")
        else:
            try:
                variable = environment_variable_set(
                    environment=environment, actor=request.user, name=form.cleaned_data["name"],
                    value=form.cleaned_data["value"], is_secret=form.cleaned_data["is_secret"])
            except (ApplicationError, ValidationError) as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{variable.name} saved in {environment.get_name_display()}.")
                return redirect(f"{reverse('project_detail', kwargs={'project_id': project.pk})}#variables")
    return _project_page(request, project, form, status=409 if project.is_archived else 400)


@require_POST
@member_required(Role.DEVELOPER)
def variable_delete_view(request: HttpRequest, project_id, variable_id) -> HttpResponse:
    project = _project_or_404(project_id)
    variable = get_object_or_404(EnvironmentVariable.objects.select_related("environment__project"),
                                 pk=variable_id, environment__project=project)
    try:
        environment_variable_delete(variable=variable, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{variable.name} deleted from {variable.environment.get_name_display()}.")
    return redirect(f"{reverse('project_detail', kwargs={'project_id': project.pk})}#variables")


@require_http_methods(["GET", "POST"])
@member_required(Role.DEVELOPER)
def project_update_view(request: HttpRequest, project_id) -> HttpResponse:
    project = _project_or_404(project_id)
    if project.is_archived:
        messages.error(request, "Archived projects are read-only. Restore it first.")
        return redirect("project_detail", project_id=project.pk)
    form = ProjectForm(request.POST or None, initial=ProjectForm.initial_for(project))
    if request.method == "POST" and form.is_valid():
        try:
            project_update(project=project, actor=request.user, **form.service_arguments())
        except (ApplicationError, ValidationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Project saved.")
            return redirect("project_detail", project_id=project.pk)
    return render(request, "projects/project_form.html", {"section": "projects", "form": form, "project": project},
                  status=400 if form.errors else 200)


@require_POST
@member_required(Role.DEVELOPER)
def project_archive_view(request: HttpRequest, project_id) -> HttpResponse:
    project = project_archive(project=_project_or_404(project_id), actor=request.user)
    messages.success(request, f"Project “{project.name}” archived. It is read-only until restored.")
    return redirect("project_detail", project_id=project.pk)


@require_POST
@member_required(Role.DEVELOPER)
def project_restore_view(request: HttpRequest, project_id) -> HttpResponse:
    project = project_restore(project=_project_or_404(project_id), actor=request.user)
    messages.success(request, f"Project “{project.name}” restored.")
    return redirect("project_detail", project_id=project.pk)
