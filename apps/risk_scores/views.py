"""Risk pages: the dashboard (entities by risk, score history and daily errors charts) and the coverage gaps."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.ui import is_htmx, member_required
from apps.organizations.models import Role
from apps.projects.models import Project
from apps.projects.selectors import project_list
from apps.risk_scores.models import EntityType, RiskScore, RiskTrend
from apps.risk_scores.selectors import coverage_gaps, dashboard_chart_data, risk_score_list
from apps.risk_scores.services import recalculate_project_risk

PAGE_SIZE = 25


def _chosen_project(request: HttpRequest, wanted: str = "") -> tuple[Project | None, list[Project]]:
    """The project named by ?project=, else the first project that has scores, else the first project.

    A malformed or foreign id is a 404: this host's schema holds only its organization's projects."""
    projects = list(project_list().order_by("name"))
    wanted = wanted or request.GET.get("project", "")
    if wanted:
        chosen = next((project for project in projects if str(project.pk) == wanted), None)
        if chosen is None:
            raise Http404
        return chosen, projects
    scored = set(RiskScore.objects.values_list("project_id", flat=True).distinct())
    return next((project for project in projects if project.pk in scored), projects[0] if projects else None), projects


def _bars(score: RiskScore) -> list[dict]:
    """Each factor with its share of its own weight, for the SVG bars (no style attributes under the CSP)."""
    return [{**factor, "percent": round(100 * factor["contribution"] / factor["weight"], 1) if factor["weight"] else 0}
            for factor in score.factors]


def _level(score: float) -> str:
    return "high" if score >= 60 else "medium" if score >= 30 else "low"


def _rows(scores) -> list[dict]:
    return [{"score": score, "bars": _bars(score), "level": _level(score.score)} for score in scores]


def _dashboard_context(request: HttpRequest, project_id: str = "") -> dict:
    project, projects = _chosen_project(request, project_id)
    entity_type = request.GET.get("entity_type", "")
    if entity_type not in EntityType.values:
        entity_type = ""
    context = {"section": "risk", "projects": projects, "project": project, "entity_type": entity_type,
               "entity_types": EntityType.choices, "can_write": request.membership.has_role(Role.DEVELOPER)}
    if project is None:
        return context
    scores = risk_score_list(project=project)
    page = Paginator(scores.filter(entity_type=entity_type) if entity_type else scores, PAGE_SIZE).get_page(
        request.GET.get("page"))
    all_scores = list(scores.values_list("score", "trend", "has_approved_test"))
    context.update({
        "page": page,
        "rows": _rows(page.object_list),
        "stats": {
            "entities": len(all_scores),
            "highest": max((value for value, _trend, _covered in all_scores), default=None),
            "degrading": sum(1 for _value, trend, _covered in all_scores if trend == RiskTrend.DEGRADING),
            "gaps": coverage_gaps(project=project).count(),
        },
        "calculated_at": scores.values_list("calculated_at", flat=True).first(),
        "chart_data": dashboard_chart_data(project),
    })
    return context


@require_GET
@member_required()
def risk_dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "risk_scores/dashboard.html", _dashboard_context(request))


@require_POST
@member_required(Role.DEVELOPER)
def risk_recalculate(request: HttpRequest) -> HttpResponse:
    try:
        project_id = uuid.UUID(request.POST.get("project", ""))
    except ValueError:
        raise Http404 from None
    project = get_object_or_404(project_list(), pk=project_id)
    scores = recalculate_project_risk(project, actor=request.user)
    notice = f"Risk recalculated: {len(scores)} entit{'y' if len(scores) == 1 else 'ies'} scored."
    if is_htmx(request):
        context = _dashboard_context(request, str(project.pk))
        return render(request, "risk_scores/_panel.html", {**context, "notice": notice})
    messages.success(request, notice)
    return redirect(f"{reverse('risk_dashboard')}?project={project.pk}")


@require_GET
@member_required()
def risk_coverage_gaps(request: HttpRequest) -> HttpResponse:
    project, projects = _chosen_project(request)
    page = Paginator(coverage_gaps(project=project) if project else RiskScore.objects.none(), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "risk_scores/coverage_gaps.html", {
        "section": "risk", "projects": projects, "project": project, "page": page, "rows": _rows(page.object_list),
        "can_write": request.membership.has_role(Role.DEVELOPER),
    })

