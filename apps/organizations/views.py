"""The public site (landing, signup, choosing an organization) and an organization's own pages
(dashboard, members and invitations, settings)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import User
from apps.audit.models import AuditEntry
from apps.core.errors import ApplicationError
from apps.core.ui import add_service_errors, handoff_redirect, is_htmx, member_required
from apps.organizations.forms import (
    InvitationAcceptForm,
    InvitationCreateForm,
    MembershipRoleForm,
    OrganizationSettingsForm,
    SignupForm,
)
from apps.organizations.models import Invitation, Membership, Organization, Role
from apps.organizations.services import (
    invitation_accept,
    invitation_create,
    invitation_find_pending,
    invitation_revoke,
    membership_change_role,
    membership_remove,
    organization_provision,
    organization_update,
)
from apps.organizations.urls_helpers import tenant_url
from apps.projects.models import Project

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Placeholder the signup page's script swaps for the slug being typed, to preview the address.
SLUG_PLACEHOLDER = "__slug__"
RECENT_AUDIT_ENTRIES = 8


# Public site


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "organizations/landing.html")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            organization, owner = organization_provision(
                name=data["organization_name"], slug=data["slug"], owner_email=data["email"],
                owner_password=data["password"], owner_full_name=data["full_name"],
            )
        except ApplicationError as exc:
            add_service_errors(form, exc, field_map={"name": "organization_name"})
        else:
            return handoff_redirect(request, owner, organization)
    context = {
        "form": form,
        "address_template": tenant_url(SLUG_PLACEHOLDER),
        "address_preview": tenant_url(form["slug"].value() or "your-team"),
    }
    return render(request, "organizations/signup.html", context, status=400 if form.errors else 200)


@require_GET
@login_required
def organization_choose(request: HttpRequest) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user=request.user).select_related("organization").order_by("organization__name")
    )
    choices = [{"membership": m, "address": tenant_url(m.organization.slug)} for m in memberships]
    return render(request, "organizations/choose.html", {"choices": choices})


@require_POST
@login_required
def organization_open(request: HttpRequest, slug: str) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("organization"),
                                   user=request.user, organization__slug=slug)
    return handoff_redirect(request, request.user, membership.organization)


# Organization host


@require_GET
@member_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    organization: Organization = request.tenant
    is_admin = request.membership.has_role(Role.ADMIN)
    context = {
        "section": "dashboard",
        "is_admin": is_admin,
        "can_write": request.membership.has_role(Role.DEVELOPER),
        "active_projects": Project.objects.filter(archived_at__isnull=True).count(),
        "member_count": Membership.objects.filter(organization_id=organization.pk).count(),
        "pending_invitations": _pending_invitations(organization).count(),
        "recent_entries": AuditEntry.objects.all()[:RECENT_AUDIT_ENTRIES] if is_admin else [],
    }
    return render(request, "organizations/dashboard.html", context)


def _pending_invitations(organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization_id=organization.pk, accepted_at__isnull=True, revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    )


def _members_page(request: HttpRequest, invite_form: InvitationCreateForm | None = None,
                  status: int = 200) -> HttpResponse:
    organization = request.tenant
    is_admin = request.membership.has_role(Role.ADMIN)
    context = {
        "section": "members",
        "is_admin": is_admin,
        "members": Membership.objects.filter(organization_id=organization.pk).select_related("user"),
        "roles": Role.choices,
    }
    if is_admin:
        context["invitations"] = _pending_invitations(organization).select_related("invited_by")
        context["invite_form"] = invite_form or InvitationCreateForm()
        context["invitation_ttl_days"] = settings.INVITATION_TTL_DAYS
    return render(request, "organizations/members.html", context, status=status)


@require_GET
@member_required()
def members(request: HttpRequest) -> HttpResponse:
    return _members_page(request)


def _membership_or_404(request: HttpRequest, membership_id) -> Membership:
    # Memberships live in the public schema: scope them to this host's organization explicitly.
    return get_object_or_404(Membership.objects.select_related("user"),
                             organization_id=request.tenant.pk, pk=membership_id)


@require_POST
@member_required(Role.ADMIN)
def member_role_change(request: HttpRequest, membership_id) -> HttpResponse:
    member = _membership_or_404(request, membership_id)
    form = MembershipRoleForm(request.POST)
    error, notice, status = "", "", 200
    if not form.is_valid():
        error, status = "Choose one of the roles.", 400
    else:
        try:
            membership_change_role(membership=member, role=form.cleaned_data["role"], actor=request.user)
        except ApplicationError as exc:
            error, status = exc.message, exc.status_code
        else:
            notice = f"{member.user.email} is now {member.get_role_display().lower()}."
    if member.user_id == request.user.pk and not error:
        # Your own role changed: every control on the page may be different now.
        if is_htmx(request):
            return HttpResponse(status=204, headers={"HX-Redirect": reverse("members")})
        messages.success(request, notice)
        return redirect("members")
    if is_htmx(request):
        context = {"member": member, "is_admin": True, "roles": Role.choices, "row_error": error,
                   "row_notice": notice}
        return render(request, "organizations/_member_row.html", context, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect("members")


@require_POST
@member_required(Role.ADMIN)
def member_remove(request: HttpRequest, membership_id) -> HttpResponse:
    member = _membership_or_404(request, membership_id)
    try:
        membership_remove(membership=member, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("members")
    if member.user_id == request.user.pk:
        # You left: nothing on this host is yours to see any more.
        logout(request)
        messages.info(request, f"You left {request.tenant.name}.")
        return redirect("login")
    messages.success(request, f"{member.user.email} was removed from {request.tenant.name}.")
    return redirect("members")


@require_POST
@member_required(Role.ADMIN)
def invitation_create_view(request: HttpRequest) -> HttpResponse:
    form = InvitationCreateForm(request.POST)
    if form.is_valid():
        try:
            invitation, _token = invitation_create(organization=request.tenant, actor=request.user,
                                                   email=form.cleaned_data["email"], role=form.cleaned_data["role"])
        except ApplicationError as exc:
            add_service_errors(form, exc)
            return _members_page(request, invite_form=form, status=exc.status_code)
        messages.success(request, f"Invitation e-mailed to {invitation.email}.")
        return redirect("members")
    return _members_page(request, invite_form=form, status=400)


@require_POST
@member_required(Role.ADMIN)
def invitation_revoke_view(request: HttpRequest, invitation_id) -> HttpResponse:
    invitation = get_object_or_404(Invitation, organization_id=request.tenant.pk, pk=invitation_id)
    invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(request, f"The invitation to {invitation.email} is revoked.")
    return redirect("members")


@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    """Anyone holding the link may look; what they can do depends on who they are signed in as."""
    organization = request.tenant
    try:
        invitation = invitation_find_pending(organization=organization, token=token)
    except ApplicationError as exc:
        return render(request, "organizations/invitation_invalid.html", {"message": exc.message},
                      status=exc.status_code)
    context = {"invitation": invitation, "inviter": invitation.invited_by}
    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            context["state"] = "mismatch"
            return render(request, "organizations/invitation_accept.html", context, status=403)
        context["state"] = "confirm"
        if request.method == "POST":
            try:
                invitation_accept(organization=organization, token=token, user=user)
            except ApplicationError as exc:
                messages.error(request, exc.message)
                return redirect("invitation_accept", token=token)
            messages.success(request, f"Welcome to {organization.name}.")
            return redirect("dashboard")
        return render(request, "organizations/invitation_accept.html", context)

    if User.objects.filter(email__iexact=invitation.email).exists():
        context.update(state="login", login_url=f"{reverse('login')}?{urlencode({'next': request.path})}")
        return render(request, "organizations/invitation_accept.html", context)

    form = InvitationAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = invitation_accept(organization=organization, token=token,
                                           password=form.cleaned_data["password"],
                                           full_name=form.cleaned_data["full_name"])
        except ApplicationError as exc:
            add_service_errors(form, exc)
        else:
            login(request, membership.user, backend=MODEL_BACKEND)
            messages.success(request, f"Welcome to {organization.name}.")
            return redirect("dashboard")
    context.update(state="signup", form=form)
    return render(request, "organizations/invitation_accept.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@member_required()
def organization_settings(request: HttpRequest) -> HttpResponse:
    organization: Organization = request.tenant
    is_admin = request.membership.has_role(Role.ADMIN)
    if request.method == "POST" and not is_admin:
        raise PermissionDenied
    form = None
    if is_admin:
        form = OrganizationSettingsForm(request.POST or None, initial={
            "name": organization.name, "ai_daily_budget_usd": organization.ai_daily_budget_usd,
            "ai_monthly_budget_usd": organization.ai_monthly_budget_usd, "ai_opt_out": organization.ai_opt_out,
        })
        if request.method == "POST" and form.is_valid():
            # A fresh copy: the service sets fields before validating, and request.tenant must stay intact.
            editable = Organization.objects.get(pk=organization.pk)
            try:
                organization_update(organization=editable, actor=request.user, **form.cleaned_data)
            except (ApplicationError, ValidationError) as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Settings saved.")
                return redirect("organization_settings")
    context = {"section": "settings", "is_admin": is_admin, "form": form,
               "address": tenant_url(organization.slug)}
    return render(request, "organizations/settings.html", context, status=400 if form and form.errors else 200)
