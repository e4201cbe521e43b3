"""Sign-in on both kinds of host, the hand-off between them, password change and API keys."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.forms import ApiKeyCreateForm, LoginForm, PasswordChangeForm
from apps.accounts.models import ApiKey, User
from apps.accounts.services import api_key_create, api_key_revoke, user_authenticate, user_password_change
from apps.core.errors import ApplicationError
from apps.core.middleware import client_ip
from apps.core.ui import add_service_errors, handoff_redirect, member_required, public_page_url, safe_next_url
from apps.organizations.models import Membership, Role
from apps.organizations.services import invitation_find_pending, signin_handoff_consume

# The hand-off token proves the user; the password was checked on the public site.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _authenticate(request: HttpRequest, form: LoginForm) -> tuple[User | None, int]:
    """Checks the credentials through the lockout service; puts its refusal on the form."""
    try:
        user = user_authenticate(request=request, email=form.cleaned_data["email"],
                                 password=form.cleaned_data["password"], ip=client_ip(request))
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return None, exc.status_code
    return user, 200


@require_http_methods(["GET", "POST"])
def public_login(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.user.is_authenticated:
        return redirect("organization_choose")
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            user, status = _authenticate(request, form)
            if user is not None:
                # Signed in here too, so that a person with several organizations can pick one.
                login(request, user)
                memberships = list(Membership.objects.filter(user=user).select_related("organization")[:2])
                if len(memberships) == 1:
                    return handoff_redirect(request, user, memberships[0].organization)
                return redirect("organization_choose")
    context = {"form": form, "password_reset_url": reverse("password_reset"), "signup_url": reverse("signup")}
    return render(request, "accounts/login.html", context, status=status)


def _next_is_invitation_for(request: HttpRequest, user: User) -> bool:
    """An invited person with an existing account signs in here before being a member, to accept."""
    next_url = safe_next_url(request, "")
    if not next_url:
        return False
    try:
        match = resolve(urlsplit(next_url).path)
    except Resolver404:
        return False
    if match.url_name != "invitation_accept":
        return False
    try:
        invitation = invitation_find_pending(organization=request.tenant, token=match.kwargs["token"])
    except ApplicationError:
        return False
    return invitation.email.lower() == user.email.lower()


@require_http_methods(["GET", "POST"])
def tenant_login(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.user.is_authenticated and request.membership:
        return redirect(safe_next_url(request, reverse("dashboard")))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            user, status = _authenticate(request, form)
            if user is not None:
                is_member = Membership.objects.filter(user=user, organization_id=request.tenant.pk).exists()
                if is_member or _next_is_invitation_for(request, user):
                    login(request, user)
                    return redirect(safe_next_url(request, reverse("dashboard")))
                form.add_error(None, "You are not a member of this organization.")
                status = 403
    context = {"form": form, "next": safe_next_url(request, ""),
               "password_reset_url": public_page_url("password_reset")}
    return render(request, "accounts/login.html", context, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next_url(request, reverse("login"))
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect(next_url)


@require_GET
def handoff(request: HttpRequest, token: str) -> HttpResponse:
    user = signin_handoff_consume(token=token, organization=request.tenant)
    if user is None:
        messages.error(request, "This sign-in link has expired or was already used. Please sign in.")
        return redirect("login")
    login(request, user, backend=MODEL_BACKEND)
    return redirect("dashboard")


@require_http_methods(["GET", "POST"])
@member_required()
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_password_change(user=request.user, old_password=form.cleaned_data["old_password"],
                                 new_password=form.cleaned_data["new_password"])
        except ApplicationError as exc:
            add_service_errors(form, exc, field_map={"password": "new_password"})
        else:
            # The session hash derives from the password: refresh it so this session stays signed in.
            update_session_auth_hash(request, request.user)
            messages.success(request, "Your password has been changed.")
            return redirect("dashboard")
    return render(request, "accounts/password_change.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
@member_required(Role.ADMIN)
def api_key_list(request: HttpRequest) -> HttpResponse:
    api_keys = ApiKey.objects.filter(organization_id=request.tenant.pk).select_related("created_by")
    return render(request, "accounts/api_keys.html", {"api_keys": api_keys, "section": "api_keys"})


@require_http_methods(["GET", "POST"])
@member_required(Role.ADMIN)
def api_key_create_view(request: HttpRequest) -> HttpResponse:
    form = ApiKeyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            api_key, raw_key = api_key_create(
                organization=request.tenant, actor=request.user, name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"], expires_at=form.expires_at(),
            )
        except ApplicationError as exc:
            add_service_errors(form, exc, field_map={"expires_at": "expires_on"})
        else:
            # Rendered, not redirected: the secret is never stored, not even in the session.
            response = render(request, "accounts/api_key_created.html", {
                "api_key": api_key, "raw_key": raw_key, "section": "api_keys",
                "example_url": request.build_absolute_uri("/api/v1/me"),
            })
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "accounts/api_key_form.html", {"form": form, "section": "api_keys"},
                  status=400 if form.errors else 200)


@require_POST
@member_required(Role.ADMIN)
def api_key_revoke_view(request: HttpRequest, key_id) -> HttpResponse:
    api_key = get_object_or_404(ApiKey, organization_id=request.tenant.pk, pk=key_id)
    api_key_revoke(api_key=api_key, actor=request.user)
    messages.success(request, f"API key “{api_key.name}” is revoked. It no longer works.")
    return redirect("api_keys")
