from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from apps.accounts import lockout
from apps.accounts.models import ApiKey, ApiKeyScope, User
from apps.audit.services import audit_record
from apps.core.errors import ApplicationError

API_KEY_PREFIX = "argus_"
# last_used_at is written at most this often per key, so API traffic does not turn into row writes.
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _validate_password(password: str, user: User | None = None) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError(
            " ".join(exc.messages), code="weak_password", details={"password": exc.messages}
        ) from exc


def user_create(*, email: str, password: str, full_name: str = "") -> User:
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ApplicationError("An account with this e-mail address already exists.", code="email_taken",
                               details={"email": ["An account with this e-mail address already exists."]})
    candidate = User(email=email, full_name=full_name)
    _validate_password(password, candidate)
    return User.objects.create_user(email=email, password=password, full_name=full_name)


def user_authenticate(*, request, email: str, password: str, ip: str | None) -> User:
    """Check credentials with lockout. Raises ApplicationError (locked_out / invalid_credentials)."""
    email = (email or "").strip().lower()
    if lockout.is_locked_out(email, ip):
        raise ApplicationError(
            "Too many failed sign-in attempts. Try again in 15 minutes.",
            code="locked_out", status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    user = authenticate(request, email=email, password=password)
    if user is None:
        lockout.record_failure(email, ip)
        raise ApplicationError("E-mail address or password is incorrect.", code="invalid_credentials",
                               status_code=status.HTTP_401_UNAUTHORIZED)
    lockout.clear_account(email)
    return user


def user_password_change(*, user: User, old_password: str, new_password: str) -> User:
    if not user.check_password(old_password):
        raise ApplicationError("The current password is incorrect.", code="invalid_credentials",
                               details={"old_password": ["The current password is incorrect."]})
    _validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    return user


def _valid_scopes(scopes: list[str]) -> list[str]:
    allowed = set(ApiKeyScope.values)
    unknown = sorted(set(scopes) - allowed)
    if not scopes or unknown:
        raise ApplicationError(
            f"Scopes must be a non-empty subset of {sorted(allowed)}.", code="invalid_scopes",
            details={"scopes": [f"Unknown scope: {scope}" for scope in unknown] or ["At least one scope is required."]},
        )
    return [scope for scope in ApiKeyScope.values if scope in scopes]


@transaction.atomic
def api_key_create(
    *, organization, actor: User, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Returns the key and its secret. The secret is never stored and cannot be shown again."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError("The expiry must be in the future.", code="invalid_expiry",
                               details={"expires_at": ["The expiry must be in the future."]})
    prefix = secrets.token_hex(4)
    raw = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        organization=organization, created_by=actor, name=name.strip(), prefix=prefix,
        key_hash=hash_secret(raw), scopes=_valid_scopes(scopes), expires_at=expires_at,
    )
    audit_record(actor=actor, action="api_key.created", target=api_key,
                 changes={"name": api_key.name, "scopes": api_key.scopes})
    return api_key, raw


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: User) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        audit_record(actor=actor, action="api_key.revoked", target=api_key)
    return api_key


def api_key_find_active(*, raw: str) -> ApiKey | None:
    if not raw.startswith(API_KEY_PREFIX):
        return None
    # Looking up by the hash of a high-entropy secret leaks nothing through timing.
    api_key = (
        ApiKey.objects.select_related("created_by", "organization")
        .filter(key_hash=hash_secret(raw)).first()
    )
    if api_key is None or not api_key.is_active:
        return None
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > API_KEY_TOUCH_INTERVAL:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
