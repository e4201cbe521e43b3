"""Projects: the applications an organization tests."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import ApplicationError
from apps.core.ui import add_service_errors, member_required
from apps.organizations.models import Role
from apps.projects.forms import ProjectForm
from apps.projects.models import Project
from apps.projects.selectors import project_list
from apps.projects.services import project_archive, project_create, project_restore, project_update


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


@require_GET
@member_required()
def project_detail(request: HttpRequest, project_id) -> HttpResponse:
    return render(request, "projects/project_detail.html", {
        "section": "projects", "project": _project_or_404(project_id),
        "can_write": request.membership.has_role(Role.DEVELOPER),
        "is_admin": request.membership.has_role(Role.ADMIN),
    })


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
