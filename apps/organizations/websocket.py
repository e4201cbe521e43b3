"""WebSockets on an organization's host: the tenant, the user and their membership, before any consumer runs.

WebSockets do not pass through Django's middleware, so this resolves what `TenantHostMiddleware`,
the session and the API key authentication do for HTTP, with the same rules:

- The Host header names the organization (`<slug>.<base domain>`); an unknown host or the public
  site closes with 4404.
- Credentials, in this order: an API key as `Authorization: Bearer argus_...`, or as the offered
  subprotocol `argus.bearer.<key>` (browsers cannot set headers on a WebSocket); else the session
  cookie of this host. A key works only on its own organization's host and never exceeds its
  creator's current role. No or bad credentials close with 4401.
- Session cookies are honoured only when the page that opens the socket is on this very host (its
  Origin), since a browser sends the cookie whichever sibling subdomain's page asks: 4403 otherwise.
- The user must be an active member of the organization: 4403 otherwise.

The consumer then finds `scope["tenant"]`, `["schema_name"]`, `["user"]`, `["membership"]`,
`["role"]` and `["api_key"]` (or None). A refused socket is accepted only to be closed at once with
its code (a close before accept becomes a bare HTTP 403 under ASGI, which browsers report as 1006):
no consumer runs, no group is joined and nothing is sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import import_module
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils.crypto import constant_time_compare
from django_tenants.utils import get_public_schema_name, remove_www, schema_context

from apps.accounts.authentication import SCOPE_ROLE
from apps.accounts.models import ApiKey, ApiKeyScope, User
from apps.accounts.services import api_key_find_active, api_key_touch
from apps.organizations.models import ROLE_RANK, Domain, Membership, Organization, Role

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404

BEARER_SUBPROTOCOL_PREFIX = "argus.bearer."
# Offer this next to the bearer subprotocol and the server selects it, so the key is not echoed back.
LIVE_SUBPROTOCOL = "argus.live.v1"


class WebSocketRefused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class WebSocketAccess:
    tenant: Organization
    user: User
    membership: Membership
    role: str
    api_key: ApiKey | None = None


def scope_header(scope, name: str) -> str | None:
    wanted = name.lower().encode("latin-1")
    for header_name, value in scope.get("headers", []):
        if header_name.lower() == wanted:
            return value.decode("latin-1")
    return None


def choose_subprotocol(offered: list[str]) -> str | None:
    """The subprotocol to accept with. A browser that offered some fails the handshake unless one
    is selected, so a bearer-only client gets its own (it already holds the key)."""
    if LIVE_SUBPROTOCOL in offered:
        return LIVE_SUBPROTOCOL
    return next((protocol for protocol in offered if protocol.startswith(BEARER_SUBPROTOCOL_PREFIX)), None)


def _hostname(host: str | None) -> str | None:
    domain, _port = split_domain_port(host or "")
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return remove_www(domain)


def _tenant_for_host(host: str | None) -> Organization:
    hostname = _hostname(host)
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first() if hostname else None
    if domain is None or domain.tenant.schema_name == get_public_schema_name():
        raise WebSocketRefused(CLOSE_NOT_FOUND, "No organization lives at this host.")
    return domain.tenant


def _bearer_key(scope) -> str | None:
    header = scope_header(scope, "authorization")
    if header is not None:
        parts = header.split()
        if len(parts) != 2 or parts[0] != "Bearer":
            raise WebSocketRefused(CLOSE_UNAUTHENTICATED, "Use the header `Authorization: Bearer <API key>`.")
        return parts[1]
    offered = scope.get("subprotocols") or []
    return next((protocol[len(BEARER_SUBPROTOCOL_PREFIX):] for protocol in offered
                 if protocol.startswith(BEARER_SUBPROTOCOL_PREFIX)), None)


def _key_access(raw_key: str, tenant: Organization) -> WebSocketAccess:
    api_key = api_key_find_active(raw=raw_key)
    # A key works on its own organization's host only; anywhere else it is simply invalid.
    if api_key is None or api_key.organization_id != tenant.pk:
        raise WebSocketRefused(CLOSE_UNAUTHENTICATED, "Invalid, expired or revoked API key.")
    creator = api_key.created_by
    membership = Membership.objects.filter(user=creator, organization_id=tenant.pk).first()
    if membership is None or not creator.is_active:
        raise WebSocketRefused(CLOSE_UNAUTHENTICATED, "The API key's creator is no longer a member.")
    key_role = max((SCOPE_ROLE[ApiKeyScope(scope)] for scope in api_key.scopes), key=ROLE_RANK.__getitem__)
    role = min(key_role, Role(membership.role), key=ROLE_RANK.__getitem__)
    api_key_touch(api_key=api_key)
    return WebSocketAccess(tenant=tenant, user=creator, membership=membership, role=role, api_key=api_key)


def _session_user(session_key: str) -> User | None:
    """The user of a session, verified as `django.contrib.auth.get_user` does, but read-only: a
    socket cannot hand a rotated session key back to the browser."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = load_backend(backend_path).get_user(user_id)  # None for inactive users
    if user is None:
        return None
    session_hash = session.get(HASH_SESSION_KEY) or ""
    valid_hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(session_hash, valid) for valid in valid_hashes):
        return None  # the password changed since this session signed in
    return user


def _same_host_origin(scope, host: str | None) -> bool:
    origin = scope_header(scope, "origin")
    if not origin:
        return False
    # Cookies are per host name (not per port), so the host name is what must match.
    return (urlsplit(origin).hostname or "") == (split_domain_port(host or "")[0] or "").lower()


def _session_access(scope, tenant: Organization, host: str | None) -> WebSocketAccess:
    session_key = parse_cookie(scope_header(scope, "cookie") or "").get(settings.SESSION_COOKIE_NAME)
    user = _session_user(session_key) if session_key else None
    if user is None:
        raise WebSocketRefused(CLOSE_UNAUTHENTICATED, "Sign in or send an API key.")
    if not _same_host_origin(scope, host):
        raise WebSocketRefused(CLOSE_FORBIDDEN, "A session socket must be opened from a page of this host.")
    membership = Membership.objects.filter(user=user, organization_id=tenant.pk).first()
    if membership is None:
        raise WebSocketRefused(CLOSE_FORBIDDEN, "You are not a member of this organization.")
    return WebSocketAccess(tenant=tenant, user=user, membership=membership, role=membership.role)


@database_sync_to_async
def resolve_access(scope) -> WebSocketAccess:
    """Who is connecting to which organization; raises WebSocketRefused with the close code."""
    host = scope_header(scope, "host")
    # Domains, users, sessions, keys and memberships all live in the public schema.
    with schema_context(get_public_schema_name()):
        tenant = _tenant_for_host(host)
        raw_key = _bearer_key(scope)
        if raw_key is not None:
            return _key_access(raw_key, tenant)
        return _session_access(scope, tenant, host)


async def refuse(scope, receive, send, refusal: WebSocketRefused) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept", "subprotocol": choose_subprotocol(scope.get("subprotocols") or [])})
    await send({"type": "websocket.close", "code": refusal.code, "reason": refusal.reason})


class TenantWebSocketMiddleware:
    """ASGI middleware for the `websocket` protocol: see the module docstring."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        try:
            access = await resolve_access(scope)
        except WebSocketRefused as refusal:
            return await refuse(scope, receive, send, refusal)
        scope = dict(scope, tenant=access.tenant, schema_name=access.tenant.schema_name, user=access.user,
                     membership=access.membership, role=access.role, api_key=access.api_key)
        return await self.inner(scope, receive, send)


class MemberJsonConsumer(AsyncJsonWebsocketConsumer):
    """Base of the read-only sockets behind TenantWebSocketMiddleware: accepts (echoing the key's
    subprotocol), refuses a scope without a member, and answers `{"type": "ping"}` with a pong."""

    async def connect(self) -> None:
        await self.accept(subprotocol=choose_subprotocol(self.scope.get("subprotocols") or []))
        if self.scope.get("membership") is None:  # only reachable without the tenant middleware
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.subscribe(self.scope["schema_name"])

    async def subscribe(self, schema_name: str) -> None:
        raise NotImplementedError

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs) -> None:
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
            return
        await self.send_json({"type": "error", "code": "unsupported_message",
                              "message": 'This socket only reads {"type": "ping"}.'})
