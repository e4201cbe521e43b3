"""Real tracker deliveries for the intake tests: one fixture body per source (from
/work/shared/fixtures/webhooks/, exact bytes) and the headers each tracker would send with it."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

from apps.production_events import signatures

FIXTURES = Path("/work/shared/fixtures/webhooks")
FIXTURE_FILES = {
    "sentry": "sentry/issue.created.json",
    "fullstory": "fullstory/v1.metric.alert.json",
    "datadog": "datadog/monitor_alert.triggered.default_template.json",
    "newrelic": "newrelic/workflow.incident_created.default_template.zulip-fixture.json",
    "bugsnag": "bugsnag/exception.otp-middleware-fixture.json",
    "rollbar": "rollbar/new_item.json",
}
# LogRocket publishes no webhook format, so it (like the generic source) takes the generic JSON error shape.
GENERIC_ERROR = {
    "event_id": "evt-7f3a",
    "title": "TypeError: Cannot read properties of undefined (reading 'total')",
    "message": "Cannot read properties of undefined (reading 'total')",
    "exception_type": "TypeError",
    "level": "error",
    "url": "https://shop.example.com/cart/42",
    "timestamp": "2026-11-20T10:00:00Z",
}
SOURCES = ["sentry", "fullstory", "generic", "datadog", "newrelic", "bugsnag", "rollbar", "logrocket"]
HMAC_SOURCES = sorted(signatures.HMAC_SOURCES)
TOKEN_SOURCES = sorted(signatures.TOKEN_SOURCES)


def fixture_body(source: str) -> bytes:
    if source in FIXTURE_FILES:
        return (FIXTURES / FIXTURE_FILES[source]).read_bytes()
    return json.dumps({**GENERIC_ERROR, "source_hint": source}).encode()


def signed(source: str, secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers the tracker sends: its signature (or bearer token), content type, Sentry's resource."""
    headers = {"Content-Type": "application/json"}
    if source == "sentry":
        headers["Sentry-Hook-Resource"] = "issue"
    headers.update(signatures.signed_headers(source, secret, body, timestamp or int(time.time())))
    return headers


def basic_auth(secret: str, user: str = "datadog") -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
