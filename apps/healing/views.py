"""The healing page of a project: recent heals, pending reviews, patterns, settings and accuracy."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import ApplicationError
from apps.core.ui import add_service_errors, is_htmx, member_required
from apps.healing.forms import HealingSettingsForm
from apps.healing.models import Heal
from apps.healing.selectors import accuracy_figures, heal_list, healing_settings_for, pattern_list, pending_heals
from apps.healing.services import heal_accept, heal_reject, healing_settings_update
from apps.organizations.models import Role
from apps.projects.models import Project
from apps.projects.selectors import project_list

RECENT_HEALS = 25
PATTERNS_SHOWN = 25


def _chosen_project(request: HttpRequest, wanted: str = "") -> tuple[Project | None, list[Project]]:
    """The project named by ?project=, else the first one with heals, else the first one.

    A malformed or foreign id is a 404: this host's schema holds only its organization's projects."""
    projects = list(project_list().order_by("name"))
    wanted = wanted or request.GET.get("project", "")
    if wanted:
        chosen = next((project for project in projects if str(project.pk) == wanted), None)
        if chosen is None:
            raise Http404
        return chosen, projects
    healed = set(Heal.objects.values_list("project_id", flat=True).distinct())
    return next((project for project in projects if project.pk in healed), projects[0] if projects else None), projects


def _page(request: HttpRequest, project_id: str = "", settings_form: HealingSettingsForm | None = None,
          status: int = 200) -> HttpResponse:
    project, projects = _chosen_project(request, project_id)
    context = {"section": "healing", "projects": projects, "project": project, "accuracy": accuracy_figures(),
               "can_review": request.membership.has_role(Role.DEVELOPER),
               "is_admin": request.membership.has_role(Role.ADMIN)}
    if project is not None:
        settings_row = healing_settings_for(project)
        context.update({
            "settings": settings_row,
            "settings_form": settings_form or HealingSettingsForm.for_settings(settings_row),
            "pending": list(pending_heals(project=project)[:RECENT_HEALS]),
            "heals": list(heal_list(project=project)[:RECENT_HEALS]),
            "patterns": list(pattern_list(project=project)[:PATTERNS_SHOWN]),
        })
    return render(request, "healing/dashboard.html", context, status=status)


@require_GET
@member_required()
def healing_dashboard(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _review(request: HttpRequest, heal_id, review) -> HttpResponse:
    heal = get_object_or_404(heal_list(), pk=heal_id)
    error = ""
    try:
        heal = review(heal=heal, actor=request.user)
    except ApplicationError as exc:
        error = exc.message
    if is_htmx(request):
        heal = heal_list().get(pk=heal.pk)
        return render(request, "healing/_pending_row.html", {"heal": heal, "error": error, "can_review": True},
                      status=409 if error else 200)
    if error:
        messages.error(request, error)
    elif heal.status == "accepted":
        messages.success(request, f"Heal accepted: the test is now at version {heal.applied_version}.")
    else:
        messages.success(request, "Heal rejected: the test is unchanged.")
    return redirect(f"{reverse('healing_dashboard')}?project={heal.project_id}")


@require_POST
@member_required(Role.DEVELOPER)
def heal_accept_view(request: HttpRequest, heal_id) -> HttpResponse:
    return _review(request, heal_id, heal_accept)


@require_POST
@member_required(Role.DEVELOPER)
def heal_reject_view(request: HttpRequest, heal_id) -> HttpResponse:
    return _review(request, heal_id, heal_reject)


@require_POST
@member_required(Role.ADMIN)
def healing_settings_view(request: HttpRequest, project_id) -> HttpResponse:
    project = get_object_or_404(project_list(), pk=project_id)
    form = HealingSettingsForm(request.POST)
    if form.is_valid():
        try:
            healing_settings_update(project=project, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Healing settings saved.")
            return redirect(f"{reverse('healing_dashboard')}?project={project.pk}")
    return _page(request, str(project.pk), settings_form=form, status=400)
