"""Webhook intake: the endpoints (one per project and source, with a rotatable secret) and the
transport-independent core that turns one HTTP delivery into a stored, redacted WebhookLog row.

Two transports share the core: the raw ASGI fast path (fastpath.py, what the server runs) and the
Django/DRF view (intake_apis.py: the OpenAPI schema, the test client, WSGI deployments). Each looks the
endpoint up its own way, then calls `check_size`, `prepare_delivery` (authenticate, parse, identify,
redact) and stores the result; processing happens later in Celery (processing.py).

An accepted delivery is answered 202 only once its row is committed, so nothing acknowledged is lost.
A repeated delivery id is stored again as a duplicate (never processed): the partial unique constraint
on WebhookLog(endpoint, delivery_id) lets only the first one in, even under concurrent deliveries.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import status

from apps.audit.services import audit_record
from apps.core.errors import ApplicationError
from apps.production_events import signatures
from apps.production_events.models import DeliveryStatus, IntakeEndpoint, Source, WebhookLog

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1024 * 1024
WEBHOOK_PATH_PREFIX = "/api/v1/webhooks/"
SOURCES = frozenset(Source.values)
# Header names that carry credentials or session state; never stored.
_SENSITIVE_HEADER = re.compile(r"auth|cookie|signature|token|secret|password|session|api[-_]?key", re.IGNORECASE)


def max_bytes() -> int:
    return getattr(settings, "ARGUS_WEBHOOK_MAX_BYTES", DEFAULT_MAX_BYTES)


class IntakeRejected(ApplicationError):
    """A delivery refused before anything is stored; `code` is the stable error code."""


def _reject(status_code: int, code: str, message: str) -> IntakeRejected:
    return IntakeRejected(message, code=code, status_code=status_code)


def unknown_source(source: str) -> IntakeRejected:
    return _reject(status.HTTP_404_NOT_FOUND, "unknown_source",
                   f"“{source[:40]}” is not a supported source; use one of {sorted(SOURCES)}.")


def unknown_intake() -> IntakeRejected:
    return _reject(status.HTTP_404_NOT_FOUND, "unknown_intake", "No enabled intake has this URL.")


def payload_too_large() -> IntakeRejected:
    return _reject(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
                   f"The delivery is larger than the {max_bytes()} byte limit.")


def check_size(length: int | None) -> None:
    """Refuse a body over the limit: call with the Content-Length first, then with the bytes read."""
    if length is not None and length > max_bytes():
        raise payload_too_large()


# ---------------------------------------------------------------- endpoints (services)


def _new_key() -> str:
    return secrets.token_urlsafe(18)


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def intake_endpoints_for(project, *, actor=None) -> list[IntakeEndpoint]:
    """The project's endpoints, one per source, creating the missing ones with fresh secrets."""
    existing = {endpoint.source: endpoint for endpoint in IntakeEndpoint.objects.filter(project=project)}
    for source in Source.values:
        if source in existing:
            continue
        with transaction.atomic():
            endpoint, created = IntakeEndpoint.objects.get_or_create(
                project=project, source=source, defaults={"key": _new_key(), "secret": _new_secret()})
            if created:
                audit_record(actor=actor, action="intake_endpoint.created", target=endpoint,
                             changes={"project": str(project.pk), "source": source})
        existing[source] = endpoint
    return [existing[source] for source in Source.values]


@transaction.atomic
def intake_endpoint_rotate(endpoint: IntakeEndpoint, *, actor, grace_hours: float = 24) -> IntakeEndpoint:
    """A new secret; the old one keeps working for `grace_hours` (0: refused at once) so the team can
    update the tracker without losing deliveries. The audit entry records the rotation, not the secrets."""
    if grace_hours < 0:
        raise ApplicationError("The grace period cannot be negative.", code="invalid",
                               details={"grace_hours": ["Use 0 or more hours."]})
    endpoint = IntakeEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    now = timezone.now()
    if grace_hours:
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + timedelta(hours=grace_hours)
    else:
        endpoint.previous_secret = ""
        endpoint.previous_secret_expires_at = None
    endpoint.secret = _new_secret()
    endpoint.rotated_at = now
    endpoint.rotated_by = actor if getattr(actor, "is_authenticated", False) else None
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "rotated_at",
                                 "rotated_by", "updated_at"])
    audit_record(actor=actor, action="intake_endpoint.rotated", target=endpoint,
                 changes={"source": endpoint.source, "grace_hours": grace_hours,
                          "previous_secret_expires_at": endpoint.previous_secret_expires_at})
    return endpoint


@transaction.atomic
def intake_endpoint_set_enabled(endpoint: IntakeEndpoint, *, enabled: bool, actor) -> IntakeEndpoint:
    """Turn an intake off (its URL answers 404 unknown_intake) or back on."""
    endpoint = IntakeEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.enabled != enabled:
        endpoint.enabled = enabled
        endpoint.save(update_fields=["enabled", "updated_at"])
        audit_record(actor=actor, action="intake_endpoint.enabled" if enabled else "intake_endpoint.disabled",
                     target=endpoint, changes={"source": endpoint.source})
    return endpoint


def intake_path(endpoint: IntakeEndpoint) -> str:
    return f"{WEBHOOK_PATH_PREFIX}{endpoint.source}/{endpoint.key}"


def intake_url(endpoint: IntakeEndpoint, request_or_host: HttpRequest | str | None = None) -> str:
    """The absolute URL a tracker posts to, on the organization's host (from the request, a host name,
    or the current tenant's public URL)."""
    if isinstance(request_or_host, HttpRequest):
        return request_or_host.build_absolute_uri(intake_path(endpoint))
    from apps.organizations.urls_helpers import tenant_url

    if request_or_host:
        port = f":{settings.ARGUS_PUBLIC_PORT}" if settings.ARGUS_PUBLIC_PORT and ":" not in request_or_host else ""
        return f"{settings.ARGUS_PUBLIC_SCHEME}://{request_or_host}{port}{intake_path(endpoint)}"
    return tenant_url(connection.tenant.slug, intake_path(endpoint))


_EXAMPLE_BODY = ('{"event_id":"demo-1","title":"TypeError: x is undefined","message":"x is undefined",'
                 '"level":"error","url":"https://shop.example.com/cart"}')


def setup_instructions(endpoint: IntakeEndpoint, *, url: str | None = None) -> dict[str, Any]:
    """What to configure in the tracker: URL, headers, the signature scheme and an example curl."""
    url = url or intake_url(endpoint)
    secret = endpoint.secret
    tolerance = signatures.TOLERANCE_SECONDS
    if endpoint.source == Source.SENTRY:
        scheme = {"kind": "hmac-sha256-hex", "headers": ["Sentry-Hook-Signature", "Sentry-App-Signature"],
                  "signed": "the raw request body", "tolerance_seconds": None}
        steps = ["In Sentry: Settings → Developer Settings → New Internal Integration.",
                 f"Webhook URL: {url}", "Enable the Issue and Error webhooks (and alert rule actions).",
                 "Paste this intake's secret as the integration's Client Secret: Sentry signs each delivery "
                 "with it (Sentry-Hook-Signature)."]
        curl = ("BODY='" + _EXAMPLE_BODY + "'\n"
                "SIG=$(printf '%s' \"$BODY\" | openssl dgst -sha256 -hmac \"$SECRET\" -hex | sed 's/^.* //')\n"
                f"curl -X POST '{url}' -H 'Content-Type: application/json' -H 'Sentry-Hook-Resource: error' "
                "-H \"Sentry-Hook-Signature: $SIG\" --data \"$BODY\"")
    elif endpoint.source == Source.FULLSTORY:
        scheme = {"kind": "hmac-sha256-base64", "headers": ["Fullstory-Signature"],
                  "signed": 'body + ":" + org id + ":" + timestamp, sent as "o:<org>,t:<ts>,v:<base64>"',
                  "tolerance_seconds": tolerance}
        steps = ["In FullStory: Settings → Integrations → Webhooks → Add endpoint.", f"URL: {url}",
                 "Use this intake's secret as the endpoint secret; FullStory signs each delivery with it."]
        curl = ("BODY='" + _EXAMPLE_BODY + "'; TS=$(date +%s); ORG=o-EXAMPLE-na1\n"
                "SIG=$(printf '%s:%s:%s' \"$BODY\" \"$ORG\" \"$TS\" | openssl dgst -sha256 -hmac \"$SECRET\" "
                "-binary | base64)\n"
                f"curl -X POST '{url}' -H 'Content-Type: application/json' "
                "-H \"Fullstory-Signature: o:$ORG,t:$TS,v:$SIG\" --data \"$BODY\"")
    elif endpoint.source == Source.GENERIC:
        scheme = {"kind": "hmac-sha256-hex", "headers": ["X-Argus-Timestamp", "X-Argus-Signature"],
                  "signed": '"<timestamp>.<raw body>", sent as X-Argus-Signature: sha256=<hex>',
                  "tolerance_seconds": tolerance}
        steps = [f"POST any JSON error object to {url}.",
                 "Send X-Argus-Timestamp (Unix seconds) and X-Argus-Signature: sha256=<hex HMAC-SHA256 of "
                 f"\"<timestamp>.<body>\" keyed with the secret>; timestamps over {tolerance} s old are refused."]
        curl = ("BODY='" + _EXAMPLE_BODY + "'; TS=$(date +%s)\n"
                "SIG=$(printf '%s.%s' \"$TS\" \"$BODY\" | openssl dgst -sha256 -hmac \"$SECRET\" -hex "
                "| sed 's/^.* //')\n"
                f"curl -X POST '{url}' -H 'Content-Type: application/json' -H \"X-Argus-Timestamp: $TS\" "
                "-H \"X-Argus-Signature: sha256=$SIG\" --data \"$BODY\"")
    else:
        scheme = {"kind": "shared-token",
                  "headers": ["Authorization: Bearer <secret>", "Authorization: Basic <any user>:<secret>",
                              "X-Argus-Token: <secret>"],
                  "query": f"?{signatures.TOKEN_QUERY_PARAMETER}=<secret>", "signed": None, "tolerance_seconds": None}
        label = endpoint.get_source_display()
        if endpoint.source in (Source.DATADOG, Source.NEWRELIC):
            steps = [f"In {label}: add a webhook (Datadog: Integrations → Webhooks; New Relic: Alerts → "
                     f"Destinations → Webhook) with the URL {url}.",
                     "Authenticate with a custom header `Authorization: Bearer <secret>` (or Basic auth with the "
                     "secret as password, or an X-Argus-Token header)."]
        else:
            steps = [f"In {label}: add a webhook with this URL, which carries the secret as its token: "
                     f"{url}?{signatures.TOKEN_QUERY_PARAMETER}=<secret>",
                     "Treat that URL as a secret: rotate the intake if it leaks."]
        curl = (f"curl -X POST '{url}' -H 'Content-Type: application/json' "
                f"-H \"Authorization: Bearer $SECRET\" --data '{_EXAMPLE_BODY}'")
    return {
        "source": endpoint.source,
        "label": endpoint.get_source_display(),
        "url": url,
        "url_with_token": f"{url}?{signatures.TOKEN_QUERY_PARAMETER}={secret}"
        if endpoint.source in signatures.TOKEN_SOURCES else None,
        "method": "POST",
        "content_type": "application/json",
        "signature": scheme,
        "steps": steps,
        "curl": "SECRET='<this intake's secret>'\n" + curl,
        "max_bytes": max_bytes(),
    }


# ---------------------------------------------------------------- the intake core


@dataclass(frozen=True)
class EndpointCredentials:
    """What the core needs of an endpoint, read by either transport."""

    id: uuid.UUID
    project_id: uuid.UUID
    source: str
    secret: str
    previous_secret: str = ""
    previous_secret_expires_at: datetime | None = None
    enabled: bool = True

    @classmethod
    def of(cls, endpoint: IntakeEndpoint) -> EndpointCredentials:
        return cls(id=endpoint.pk, project_id=endpoint.project_id, source=endpoint.source, secret=endpoint.secret,
                   previous_secret=endpoint.previous_secret,
                   previous_secret_expires_at=endpoint.previous_secret_expires_at, enabled=endpoint.enabled)

    def secrets_at(self, now: datetime) -> tuple[str, ...]:
        """The current secret, then the previous one while its grace period lasts."""
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and now < expires:
            return (self.secret, self.previous_secret)
        return (self.secret,)


@dataclass
class PreparedDelivery:
    """One authenticated delivery, redacted, ready to insert (the columns of WebhookLog)."""

    id: uuid.UUID
    endpoint_id: uuid.UUID
    project_id: uuid.UUID
    source: str
    delivery_id: str
    event_kind: str
    headers: dict[str, str]
    payload: Any
    payload_json: str
    body_sha256: str
    size: int
    received_at: datetime
    status: str = DeliveryStatus.PENDING
    is_duplicate: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def stored_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request headers worth keeping (content type, tracker event kind, ids), without credentials."""
    from apps.production_events.redaction import redact_text

    kept = {name: value[:500] for name, value in headers.items() if not _SENSITIVE_HEADER.search(name)}
    # One scan of all values (a few µs) answers the usual case, nothing to redact; only then value by value.
    joined = "\n".join(kept.values())
    if redact_text(joined) == joined:
        return kept
    return {name: redact_text(value) for name, value in kept.items()}


def log_rejection(schema_name: str, source: str, key: str, reason: str, code: str) -> None:
    # Never the secret, the presented credentials or the body: only where and why.
    logger.warning("webhook rejected schema=%s source=%s key=%s… code=%s reason=%s",
                   schema_name, source[:40], key[:6], code, reason)


def log_not_found(schema_name: str, source: str, key: str, exc: IntakeRejected) -> None:
    """The 404s get their log line too (the 401s are logged where the signature is checked)."""
    if exc.code in ("unknown_source", "unknown_intake"):
        log_rejection(schema_name, source, key, exc.message, exc.code)


def parse_payload(body: bytes) -> Any:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _reject(status.HTTP_400_BAD_REQUEST, "invalid_json", f"The body is not valid JSON: {exc}.") from None
    if not isinstance(payload, dict):
        raise _reject(status.HTTP_400_BAD_REQUEST, "invalid_json", "The body must be a JSON object.")
    return payload


def _json_for_jsonb(payload: Any) -> str:
    # PostgreSQL's jsonb cannot hold NUL characters; they would fail the insert, so they become U+FFFD.
    text = orjson.dumps(payload).decode()
    return text.replace("\\u0000", "\\ufffd") if "\\u0000" in text else text


def prepare_delivery(
    *, schema_name: str, key: str, endpoint: EndpointCredentials, headers: Mapping[str, str], body: bytes,
    query: Mapping[str, str], now: datetime | None = None,
) -> PreparedDelivery:
    """Authenticate, parse, identify and redact one delivery. Raises IntakeRejected (nothing stored);
    a refused signature is logged once, with the reason and without secret or body."""
    from apps.production_events.normalizers import delivery_identity
    from apps.production_events.redaction import redact

    now = now or datetime.now(UTC)
    check_size(len(body))
    try:
        signatures.verify(endpoint.source, endpoint.secrets_at(now), headers, body, query, now.timestamp())
    except signatures.SignatureError as exc:
        log_rejection(schema_name, endpoint.source, key, exc.message, exc.code)
        raise _reject(status.HTTP_401_UNAUTHORIZED, exc.code, exc.message) from None
    payload = parse_payload(body)
    body_sha256 = hashlib.sha256(body).hexdigest()
    event_kind, vendor_id = delivery_identity(endpoint.source, payload, headers)
    redacted = redact(payload)
    return PreparedDelivery(
        id=uuid.uuid4(), endpoint_id=endpoint.id, project_id=endpoint.project_id, source=endpoint.source,
        delivery_id=(vendor_id or body_sha256)[:200], event_kind=(event_kind or "")[:100],
        headers=stored_headers(headers), payload=redacted, payload_json=_json_for_jsonb(redacted),
        body_sha256=body_sha256, size=len(body), received_at=now,
    )


def response_body(delivery: PreparedDelivery) -> dict[str, str]:
    return {"delivery": str(delivery.id), "status": str(delivery.status)}


# ---------------------------------------------------------------- the Django transport


def endpoint_in_schema(source: str, key: str) -> EndpointCredentials:
    """The enabled endpoint of this key and source in the current (host's) schema, else 404: another
    organization's key is simply not in this schema."""
    if source not in SOURCES:
        raise unknown_source(source)
    endpoint = IntakeEndpoint.objects.filter(key=key, source=source, enabled=True).first()
    if endpoint is None:
        raise unknown_intake()
    return EndpointCredentials.of(endpoint)


def _store(delivery: PreparedDelivery) -> PreparedDelivery:
    log = WebhookLog(
        id=delivery.id, endpoint_id=delivery.endpoint_id, project_id=delivery.project_id, source=delivery.source,
        delivery_id=delivery.delivery_id, event_kind=delivery.event_kind, headers=delivery.headers,
        payload=orjson.loads(delivery.payload_json), body_sha256=delivery.body_sha256, size=delivery.size,
        received_at=delivery.received_at, status=DeliveryStatus.PENDING,
    )
    try:
        with transaction.atomic():
            log.save(force_insert=True)
    except IntegrityError:
        # The endpoint already has this delivery id: keep it, as a duplicate that is never processed.
        log.is_duplicate, log.status = True, DeliveryStatus.DUPLICATE
        log.save(force_insert=True)
        delivery.is_duplicate, delivery.status = True, DeliveryStatus.DUPLICATE
    return delivery


def intake_receive(
    *, source: str, key: str, headers: Mapping[str, str], body: bytes, query: Mapping[str, str],
    content_length: int | None = None,
) -> PreparedDelivery:
    """One delivery through the ORM, in the current (host's) schema: stored, committed, and processing
    requested after the commit. Raises IntakeRejected."""
    schema_name = connection.schema_name
    check_size(content_length)
    endpoint = endpoint_in_schema(source, key)
    delivery = prepare_delivery(schema_name=schema_name, key=key, endpoint=endpoint, headers=headers, body=body,
                                query=query)
    with transaction.atomic():
        _store(delivery)
        IntakeEndpoint.objects.filter(pk=endpoint.id).update(last_delivery_at=delivery.received_at)
        if not delivery.is_duplicate:
            transaction.on_commit(lambda: request_processing(schema_name))
    return delivery


def request_processing(schema_name: str) -> None:
    """Ask for the tenant's pending deliveries to be processed (debounced by processing.py)."""
    from apps.production_events.processing import request_processing as request

    try:
        request(schema_name)
    except Exception:  # noqa: BLE001 - the delivery is stored; the periodic sweep picks it up
        logger.exception("could not request processing for %s; the sweep will pick the deliveries up", schema_name)
