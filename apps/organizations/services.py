from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.accounts.services import hash_secret, user_create
from apps.audit.services import audit_record, diff, snapshot
from apps.billing.models import Plan
from apps.core.errors import ApplicationError
from apps.organizations.models import ROLE_RANK, Domain, Invitation, Membership, Organization, Role
from apps.organizations.tasks import schema_pool_fill_task
from apps.organizations.urls_helpers import tenant_host, tenant_url

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
# Host names that the platform uses itself, or that would mislead people if an organization took them.
RESERVED_SLUGS = frozenset({
    "admin", "api", "app", "assets", "auth", "billing", "blog", "cdn", "dashboard", "demo-template",
    "docs", "help", "internal", "login", "logout", "mail", "media", "public", "root", "signup",
    "smtp", "static", "status", "support", "system", "tenant", "test", "www", "argus", "ws",
    "health", "ready", "stripe", "webhooks", "postgres", "redis", "template",
})
DEFAULT_PLAN_CODE = "free"
HANDOFF_TTL_SECONDS = 60


def _slug_error(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_slug", details={"slug": [message]})


def validate_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_PATTERN.match(slug) or "--" in slug:
        raise _slug_error(
            "Use 3 to 40 characters: lower-case letters, digits and single hyphens, "
            "starting with a letter and not ending with a hyphen."
        )
    if slug in RESERVED_SLUGS:
        raise _slug_error(f"“{slug}” is reserved. Please choose another address.")
    if Organization.objects.filter(slug=slug).exists():
        raise _slug_error(f"“{slug}” is already taken. Please choose another address.")
    return slug


def schema_name_for(slug: str) -> str:
    return "org_" + slug.replace("-", "_")


@transaction.atomic
def organization_provision(
    *, name: str, slug: str, owner_email: str, owner_password: str, owner_full_name: str = "",
    plan_code: str = DEFAULT_PLAN_CODE,
) -> tuple[Organization, User]:
    """Signup: the organization, its schema (a renamed spare), its domain and its first admin.

    One transaction: a failure anywhere leaves no user, row or schema behind.
    """
    name = (name or "").strip()
    if not name:
        raise ApplicationError("The organization needs a name.", code="invalid", details={"name": ["Required."]})
    slug = validate_slug(slug)
    owner = _owner_for_signup(email=owner_email, password=owner_password, full_name=owner_full_name)
    plan = Plan.objects.get(code=plan_code)
    organization = Organization(
        name=name, slug=slug, schema_name=schema_name_for(slug), plan=plan,
        ai_daily_budget_usd=plan.default_ai_daily_budget_usd,
        ai_monthly_budget_usd=plan.default_ai_monthly_budget_usd,
    )
    organization.save(verbosity=0)
    Domain.objects.create(domain=tenant_host(slug), tenant=organization, is_primary=True)
    membership = Membership.objects.create(user=owner, organization=organization, role=Role.ADMIN)
    with tenant_context(organization):
        audit_record(actor=owner, action="organization.created", target=organization,
                     changes={"name": name, "slug": slug, "plan": plan.code})
        audit_record(actor=owner, action="membership.created", target=membership, changes={"role": Role.ADMIN})
    transaction.on_commit(_refill_schema_pool)
    return organization, owner


def _refill_schema_pool() -> None:
    schema_pool_fill_task.delay()


def _owner_for_signup(*, email: str, password: str, full_name: str) -> User:
    existing = User.objects.filter(email__iexact=(email or "").strip()).first()
    if existing is None:
        return user_create(email=email, password=password, full_name=full_name)
    # An existing person may start another organization, if they prove who they are.
    if not existing.check_password(password):
        raise ApplicationError(
            "An account with this e-mail address exists. Enter its password to create another organization.",
            code="email_taken", details={"email": ["An account with this e-mail address already exists."]},
        )
    return existing


ORGANIZATION_EDITABLE_FIELDS = ["name", "ai_daily_budget_usd", "ai_monthly_budget_usd", "ai_opt_out"]


@transaction.atomic
def organization_update(*, organization: Organization, actor: User, **fields) -> Organization:
    unknown = set(fields) - set(ORGANIZATION_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(f"These fields cannot be changed: {sorted(unknown)}.", code="invalid")
    before = snapshot(organization, ORGANIZATION_EDITABLE_FIELDS)
    for field, value in fields.items():
        setattr(organization, field, value)
    organization.full_clean(exclude=["schema_name", "plan", "slug"])
    organization.save()
    changes = diff(before, snapshot(organization, ORGANIZATION_EDITABLE_FIELDS))
    if changes:
        audit_record(actor=actor, action="organization.updated", target=organization, changes=changes)
    return organization


def _admin_count(organization: Organization) -> int:
    return Membership.objects.filter(organization=organization, role=Role.ADMIN).count()


def _guard_last_admin(membership: Membership) -> None:
    # Lock the organization's admin rows so two concurrent demotions cannot both pass the check.
    list(Membership.objects.select_for_update().filter(organization=membership.organization, role=Role.ADMIN))
    if membership.role == Role.ADMIN and _admin_count(membership.organization) <= 1:
        raise ApplicationError("An organization needs at least one admin.", code="last_admin",
                               status_code=409)


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor: User) -> Membership:
    if role not in Role.values:
        raise ApplicationError(f"Role must be one of {Role.values}.", code="invalid_role",
                               details={"role": [f"Must be one of {Role.values}."]})
    if membership.role == role:
        return membership
    if ROLE_RANK[Role(role)] < ROLE_RANK[Role(membership.role)]:
        _guard_last_admin(membership)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_record(actor=actor, action="membership.role_changed", target=membership,
                 changes={"role": {"from": before, "to": role}, "user": membership.user.email})
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    _guard_last_admin(membership)
    audit_record(actor=actor, action="membership.removed", target=membership,
                 changes={"user": membership.user.email, "role": membership.role})
    membership.delete()


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def invitation_create(*, organization: Organization, email: str, role: str, actor: User) -> tuple[Invitation, str]:
    """Creates the invitation and e-mails the link once the transaction commits. Returns the raw token."""
    email = User.objects.normalize_email((email or "").strip()).lower()
    if role not in Role.values:
        raise ApplicationError(f"Role must be one of {Role.values}.", code="invalid_role",
                               details={"role": [f"Must be one of {Role.values}."]})
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ApplicationError("This person is already a member.", code="already_member",
                               details={"email": ["This person is already a member."]}, status_code=409)
    # A new invitation replaces a pending one to the same address (a resend with a fresh link).
    Invitation.objects.filter(
        organization=organization, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    token = _invitation_token()
    invitation = Invitation.objects.create(
        organization=organization, email=email, role=role, token_hash=hash_secret(token), invited_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    audit_record(actor=actor, action="invitation.created", target=invitation, changes={"email": email, "role": role})
    accept_url = tenant_url(organization.slug, f"/invitations/accept/{token}/")
    transaction.on_commit(lambda: _send_invitation_email(invitation, accept_url))
    return invitation, token


def _send_invitation_email(invitation: Invitation, accept_url: str) -> None:
    context = {"invitation": invitation, "organization": invitation.organization, "accept_url": accept_url,
               "inviter": invitation.invited_by, "ttl_days": settings.INVITATION_TTL_DAYS}
    send_mail(
        subject=f"You are invited to {invitation.organization.name} on Argus",
        message=render_to_string("emails/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    if invitation.status == "pending":
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        audit_record(actor=actor, action="invitation.revoked", target=invitation)
    return invitation


def invitation_find_pending(*, organization: Organization, token: str, lock: bool = False) -> Invitation:
    invitations = Invitation.objects.select_for_update() if lock else Invitation.objects.all()
    invitation = invitations.filter(organization=organization, token_hash=hash_secret(token or "")).first()
    if invitation is None:
        raise ApplicationError("This invitation link is not valid.", code="invitation_invalid", status_code=404)
    if invitation.status != "pending":
        raise ApplicationError(f"This invitation is {invitation.status}.", code=f"invitation_{invitation.status}",
                               status_code=410)
    return invitation


@transaction.atomic
def invitation_accept(
    *, organization: Organization, token: str, user: User | None = None, password: str = "", full_name: str = ""
) -> Membership:
    """Attaches the signed-in user (whose e-mail must match) or creates the account from the invitation."""
    # Locked before its status is checked, so two concurrent accepts cannot both succeed.
    invitation = invitation_find_pending(organization=organization, token=token, lock=True)
    if user is not None and user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            raise ApplicationError(
                f"This invitation is for {invitation.email}. Sign in with that address to accept it.",
                code="invitation_email_mismatch", status_code=403,
            )
    else:
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is not None:
            raise ApplicationError("An account with this address exists: sign in to accept the invitation.",
                                   code="login_required", status_code=401)
        user = user_create(email=invitation.email, password=password, full_name=full_name)
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    audit_record(actor=user, action="invitation.accepted", target=invitation,
                 changes={"role": membership.role, "new_member": created})
    return membership


def signin_handoff_create(*, user: User, organization: Organization) -> str:
    """A one-time, 60-second token that signs the user in on the organization's own host.

    Sessions are per host, so signup and login on the public site hand the person over this way
    instead of sharing a cookie across every subdomain.
    """
    token = secrets.token_urlsafe(32)
    caches["platform"].set(f"handoff:{hash_secret(token)}", [str(user.pk), organization.pk],
                           timeout=HANDOFF_TTL_SECONDS)
    return token


def signin_handoff_consume(*, token: str, organization: Organization) -> User | None:
    key = f"handoff:{hash_secret(token or '')}"
    cache = caches["platform"]
    value = cache.get(key)
    # Only the request whose delete removed the key may use it: the token works once.
    if not value or not cache.delete(key) or value[1] != organization.pk:
        return None
    user = User.objects.filter(pk=value[0], is_active=True).first()
    if user is None or not Membership.objects.filter(user=user, organization=organization).exists():
        return None
    return user
