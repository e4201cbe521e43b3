"""Shared helpers for the HTML views: who may see a tenant page, and service errors shown on forms."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from apps.core.errors import ApplicationError
from apps.organizations.models import Organization, Role
from apps.organizations.services import signin_handoff_create
from apps.organizations.urls_helpers import public_url, tenant_url

View = Callable[..., HttpResponse]


def member_required(role: str = Role.VIEWER) -> Callable[[View], View]:
    """Tenant pages: sign-in first, then membership of this host's organization, then the role.

    A signed-in outsider gets 404, not 403: a 403 would confirm the organization has such a page
    or object. A member whose role is too low gets 403 (rendered by handler403).
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if not membership:
                raise Http404
            if not membership.has_role(role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def add_service_errors(
    form: forms.Form, error: ApplicationError | ValidationError, field_map: dict[str, str] | None = None
) -> None:
    """Put a service's refusal on the form: messages next to the fields they name, the rest on top.

    Services name fields after their own arguments (`name`, `password`), which may differ from
    the form's (`organization_name`, `new_password`); `field_map` translates.
    """
    field_map = field_map or {}
    if isinstance(error, ApplicationError):
        details, summary = error.details, [error.message]
    else:
        # Model.full_clean() inside a service raises Django's ValidationError.
        details = error.message_dict if hasattr(error, "error_dict") else {}
        summary = error.messages
    if not details:
        for message in summary:
            form.add_error(None, message)
        return
    placed: list[str] = []
    for field, messages in details.items():
        name = field_map.get(field, field)
        target = name if name in form.fields else None
        for message in messages if isinstance(messages, list | tuple) else [messages]:
            form.add_error(target, str(message))
            placed.append(str(message))
    # Some services explain more in the summary than per field ("enter its password to ..."): keep it.
    if len(summary) == 1 and summary[0] not in placed and summary[0] != " ".join(placed):
        form.add_error(None, summary[0])


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def safe_next_url(request: HttpRequest, fallback: str) -> str:
    """The `next` parameter if it points back at this host; anything else could be an open redirect."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def public_page_url(name: str) -> str:
    """Absolute link from an organization's host to a page of the public site."""
    return public_url(reverse(name, urlconf=settings.PUBLIC_SCHEMA_URLCONF))


def handoff_redirect(request: HttpRequest, user, organization: Organization) -> HttpResponse:
    """Send a person signed in on the public site to their organization's host, signed in there too.

    Sessions are per host, so the public site cannot sign anyone in on `<slug>.<base>` directly.
    (The Content-Security-Policy's form-action lists the organization hosts: browsers apply it
    to the redirect that follows a POST.)
    """
    token = signin_handoff_create(user=user, organization=organization)
    url = tenant_url(organization.slug, reverse("handoff", urlconf=settings.ROOT_URLCONF, kwargs={"token": token}))
    return HttpResponseRedirect(url)
