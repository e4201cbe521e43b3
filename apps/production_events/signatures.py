"""How each tracker proves a delivery is from it, checked exactly as the vendor signs it.

Pure functions (no database, no Django), shared by the Django view and the raw ASGI fast path.
`headers` are lower-cased names; `query` the URL's query parameters; `secrets` the endpoint's current
secret, then its previous one while that is still in its grace period.

- Sentry: `Sentry-Hook-Signature` (or the older `Sentry-App-Signature`) = hex HMAC-SHA256(secret, raw
  body). Sentry does not sign its timestamp, so there is no window: replays are caught as duplicates.
- FullStory: `Fullstory-Signature: o:<org>,t:<ts>,v:<base64>` = base64 HMAC-SHA256(secret,
  body + ":" + org + ":" + ts); the timestamp must be within TOLERANCE_SECONDS of now.
- Generic (any JSON): `X-Argus-Timestamp: <unix seconds>` and `X-Argus-Signature: sha256=<hex>` =
  hex HMAC-SHA256(secret, "<timestamp>.<body>"); the same window.
- Datadog, New Relic, Bugsnag, Rollbar, LogRocket sign nothing: the secret is a shared token, sent as
  `Authorization: Bearer <secret>`, Basic auth (any user name, the secret as password), an
  `X-Argus-Token` header, or `?token=<secret>` in the URL (for trackers that only take a URL).

Every comparison is constant-time (hmac.compare_digest), and every secret is tried, so the time taken
says nothing about which one nearly matched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence

TOLERANCE_SECONDS = 300

SENTRY_HEADERS = ("sentry-hook-signature", "sentry-app-signature")
FULLSTORY_HEADER = "fullstory-signature"
GENERIC_SIGNATURE_HEADER = "x-argus-signature"
GENERIC_TIMESTAMP_HEADER = "x-argus-timestamp"
TOKEN_HEADER = "x-argus-token"  # noqa: S105 - a header name
TOKEN_QUERY_PARAMETER = "token"  # noqa: S105 - a parameter name

HMAC_SOURCES = frozenset({"sentry", "fullstory", "generic"})
TOKEN_SOURCES = frozenset({"datadog", "newrelic", "bugsnag", "rollbar", "logrocket"})


class SignatureError(Exception):
    """The delivery is not authenticated. `code` is missing_signature, invalid_signature or
    expired_signature; the message never contains a secret or the body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _matches_any(candidate: bytes, expected: Sequence[bytes]) -> bool:
    """Constant-time against every expected value (no early exit on the first match)."""
    matched = False
    for value in expected:
        matched |= hmac.compare_digest(candidate, value)
    return matched


def _within_window(timestamp: str, now: float) -> bool:
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    # Trackers that stamp milliseconds are accepted as such.
    if sent > 1e11:
        sent /= 1000
    return abs(now - sent) <= TOLERANCE_SECONDS


def verify_sentry(secrets: Sequence[str], headers: Mapping[str, str], body: bytes) -> None:
    signature = next((headers[name] for name in SENTRY_HEADERS if headers.get(name)), None)
    if signature is None:
        raise SignatureError("missing_signature", "The Sentry-Hook-Signature header is missing.")
    expected = [_hmac_sha256(secret, body).hex().encode() for secret in secrets]
    if not _matches_any(signature.strip().lower().encode(), expected):
        raise SignatureError("invalid_signature", "The Sentry-Hook-Signature does not match the body.")


def _fullstory_parts(value: str) -> dict[str, str]:
    parts = {}
    for item in value.split(","):
        name, _, part = item.strip().partition(":")
        parts[name] = part
    return parts


def verify_fullstory(secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> None:
    value = headers.get(FULLSTORY_HEADER)
    if not value:
        raise SignatureError("missing_signature", "The Fullstory-Signature header is missing.")
    parts = _fullstory_parts(value)
    org, timestamp, signature = parts.get("o", ""), parts.get("t", ""), parts.get("v", "")
    if not (org and timestamp and signature):
        raise SignatureError("invalid_signature", "The Fullstory-Signature header is not o:<org>,t:<ts>,v:<sig>.")
    try:
        given = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        given = b""
    message = body + f":{org}:{timestamp}".encode()
    if not _matches_any(given, [_hmac_sha256(secret, message) for secret in secrets]):
        raise SignatureError("invalid_signature", "The Fullstory-Signature does not match the body.")
    if not _within_window(timestamp, now):
        raise SignatureError("expired_signature", f"The signed timestamp is more than {TOLERANCE_SECONDS} s "
                                                  "away from now (a replay, or a wrong clock).")


def verify_generic(secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> None:
    signature, timestamp = headers.get(GENERIC_SIGNATURE_HEADER), headers.get(GENERIC_TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise SignatureError("missing_signature", "The X-Argus-Signature and X-Argus-Timestamp headers are "
                                                  "required.")
    given = signature.strip().lower().removeprefix("sha256=").encode()
    message = timestamp.strip().encode() + b"." + body
    if not _matches_any(given, [_hmac_sha256(secret, message).hex().encode() for secret in secrets]):
        raise SignatureError("invalid_signature", "The X-Argus-Signature does not match the timestamp and body.")
    if not _within_window(timestamp.strip(), now):
        raise SignatureError("expired_signature", f"X-Argus-Timestamp is more than {TOLERANCE_SECONDS} s away "
                                                  "from now (a replay, or a wrong clock).")


def presented_token(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The shared secret as the tracker sent it: bearer, basic-auth password, header or URL token."""
    authorization = headers.get("authorization", "").strip()
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if scheme.lower() == "basic" and credentials.strip():
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    if headers.get(TOKEN_HEADER):
        return headers[TOKEN_HEADER].strip()
    if query.get(TOKEN_QUERY_PARAMETER):
        return query[TOKEN_QUERY_PARAMETER]
    return None


def verify_token(secrets: Sequence[str], headers: Mapping[str, str], query: Mapping[str, str]) -> None:
    token = presented_token(headers, query)
    if token is None:
        raise SignatureError("missing_signature", "No credentials: send the secret as a bearer token, basic-auth "
                                                  "password, X-Argus-Token header or ?token= parameter.")
    if not _matches_any(token.encode(), [secret.encode() for secret in secrets]):
        raise SignatureError("invalid_signature", "The token does not match this intake's secret.")


def verify(source: str, secrets: Sequence[str], headers: Mapping[str, str], body: bytes,
           query: Mapping[str, str], now: float) -> None:
    """Raise SignatureError unless the delivery carries valid credentials for one of `secrets`."""
    if source == "sentry":
        verify_sentry(secrets, headers, body)
    elif source == "fullstory":
        verify_fullstory(secrets, headers, body, now)
    elif source == "generic":
        verify_generic(secrets, headers, body, now)
    else:
        verify_token(secrets, headers, query)


# Signing, as the trackers do it: used by the setup instructions, the tests and bench/ingest.py.


def sentry_headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {"Sentry-Hook-Signature": _hmac_sha256(secret, body).hex(), "Sentry-Hook-Timestamp": str(timestamp)}


def fullstory_headers(secret: str, body: bytes, timestamp: int, org: str = "o-ARGUS-na1") -> dict[str, str]:
    signature = base64.b64encode(_hmac_sha256(secret, body + f":{org}:{timestamp}".encode())).decode()
    return {"Fullstory-Signature": f"o:{org},t:{timestamp},v:{signature}"}


def generic_headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    signature = _hmac_sha256(secret, str(timestamp).encode() + b"." + body).hex()
    return {"X-Argus-Timestamp": str(timestamp), "X-Argus-Signature": f"sha256={signature}"}


def signed_headers(source: str, secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers a tracker of `source` would send (token sources: the bearer header)."""
    if source == "sentry":
        return sentry_headers(secret, body, timestamp)
    if source == "fullstory":
        return fullstory_headers(secret, body, timestamp)
    if source == "generic":
        return generic_headers(secret, body, timestamp)
    return {"Authorization": f"Bearer {secret}"}
