"""Webhook intake through the Django view (the same core the ASGI fast path runs; see test_intake_fastpath.py
for the real server): signatures per source, duplicates, rotation, tenant isolation, limits and what is stored."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.production_events.intake import (
    intake_endpoint_rotate,
    intake_endpoint_set_enabled,
    intake_endpoints_for,
    intake_path,
    intake_url,
    setup_instructions,
)
from apps.production_events.models import DeliveryStatus, IntakeEndpoint, Source, WebhookLog
from apps.production_events.redaction import redact
from apps.projects.services import project_create
from tests.conftest import error_of
from tests.production_events.intake_deliveries import (
    HMAC_SOURCES,
    SOURCES,
    TOKEN_SOURCES,
    basic_auth,
    fixture_body,
    signed,
)


def _meta(headers: dict[str, str]) -> dict[str, str]:
    meta = {}
    for name, value in headers.items():
        if name.lower() == "content-type":
            continue
        meta["HTTP_" + name.upper().replace("-", "_")] = value
    return meta


def deliver(api_client, org, path: str, body: bytes, headers: dict[str, str] | None = None, method: str = "post"):
    client = api_client(org)
    return getattr(client, method)(path, data=body, content_type="application/json", **_meta(headers or {}))


def _endpoints(org, name: str = "Shop") -> dict[str, IntakeEndpoint]:
    with tenant_context(org.organization):
        project = project_create(actor=org.admin, name=name, base_url="https://shop.example.com/")
        return {endpoint.source: endpoint for endpoint in intake_endpoints_for(project, actor=org.admin)}


@pytest.fixture
def alpha_endpoints(alpha) -> dict[str, IntakeEndpoint]:
    return _endpoints(alpha)


@pytest.fixture
def bravo_endpoints(bravo) -> dict[str, IntakeEndpoint]:
    return _endpoints(bravo)


def _logs(org) -> list[WebhookLog]:
    with tenant_context(org.organization):
        return list(WebhookLog.objects.order_by("received_at"))


def test_each_project_gets_one_endpoint_per_source_with_distinct_secrets(alpha, alpha_endpoints):
    assert set(alpha_endpoints) == set(Source.values)
    secrets = {endpoint.secret for endpoint in alpha_endpoints.values()}
    keys = {endpoint.key for endpoint in alpha_endpoints.values()}
    assert len(secrets) == len(keys) == len(Source.values)
    assert all(len(secret) >= 40 for secret in secrets)
    with tenant_context(alpha.organization):
        project = alpha_endpoints["sentry"].project
        again = intake_endpoints_for(project)
        assert {endpoint.pk for endpoint in again} == {endpoint.pk for endpoint in alpha_endpoints.values()}
        assert AuditEntry.objects.filter(action="intake_endpoint.created").count() == len(Source.values)


@pytest.mark.parametrize("source", SOURCES)
def test_a_signed_fixture_delivery_is_stored_pending_and_redacted(source, alpha, alpha_endpoints, api_client,
                                                                  django_capture_on_commit_callbacks):
    endpoint = alpha_endpoints[source]
    body = fixture_body(source)
    with django_capture_on_commit_callbacks() as callbacks:
        response = deliver(api_client, alpha, intake_path(endpoint), body, signed(source, endpoint.secret, body))

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    [log] = _logs(alpha)
    assert str(log.pk) == response.json()["delivery"]
    assert (log.endpoint_id, log.project_id, log.source) == (endpoint.pk, endpoint.project_id, source)
    assert log.status == DeliveryStatus.PENDING and not log.is_duplicate
    assert log.payload == redact(json.loads(body))
    assert log.size == len(body) and len(log.body_sha256) == 64 and log.delivery_id
    # Processing is requested once the row is committed.
    assert len(callbacks) == 1


@pytest.mark.parametrize("source", SOURCES)
def test_a_wrong_secret_is_401_logged_and_nothing_stored(source, alpha, alpha_endpoints, api_client, caplog):
    endpoint = alpha_endpoints[source]
    body = fixture_body(source)
    with caplog.at_level(logging.WARNING, logger="apps.production_events.intake"):
        response = deliver(api_client, alpha, intake_path(endpoint), body, signed(source, "not-the-secret", body))

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_signature"
    assert _logs(alpha) == []
    [line] = [record.getMessage() for record in caplog.records if "webhook rejected" in record.getMessage()]
    assert f"source={source}" in line and "code=invalid_signature" in line and "reason=" in line
    assert endpoint.secret not in line and "not-the-secret" not in line and body.decode()[:40] not in line


@pytest.mark.parametrize("source", SOURCES)
def test_no_credentials_is_401_missing_signature(source, alpha, alpha_endpoints, api_client):
    body = fixture_body(source)
    response = deliver(api_client, alpha, intake_path(alpha_endpoints[source]), body)
    assert response.status_code == 401
    assert error_of(response)["code"] == "missing_signature"
    assert _logs(alpha) == []


@pytest.mark.parametrize("way", ["bearer", "basic", "header", "query"])
@pytest.mark.parametrize("source", TOKEN_SOURCES)
def test_token_sources_accept_the_secret_as_bearer_basic_header_or_url_token(source, way, alpha, alpha_endpoints,
                                                                            api_client):
    endpoint = alpha_endpoints[source]
    headers, path = {}, intake_path(endpoint)
    if way == "bearer":
        headers["Authorization"] = f"Bearer {endpoint.secret}"
    elif way == "basic":
        headers["Authorization"] = basic_auth(endpoint.secret)
    elif way == "header":
        headers["X-Argus-Token"] = endpoint.secret
    else:
        path += f"?token={endpoint.secret}"
    response = deliver(api_client, alpha, path, fixture_body(source), headers)
    assert response.status_code == 202, response.content
    [log] = _logs(alpha)
    assert endpoint.secret not in json.dumps(log.headers)


@pytest.mark.parametrize("source", SOURCES)
def test_a_replayed_delivery_is_acknowledged_as_duplicate_and_stored_once_as_pending(
        source, alpha, alpha_endpoints, api_client, django_capture_on_commit_callbacks):
    endpoint = alpha_endpoints[source]
    body = fixture_body(source)
    headers = signed(source, endpoint.secret, body)
    first = deliver(api_client, alpha, intake_path(endpoint), body, headers)
    with django_capture_on_commit_callbacks() as callbacks:
        second = deliver(api_client, alpha, intake_path(endpoint), body, headers)

    assert (first.status_code, second.status_code) == (202, 202)
    assert (first.json()["status"], second.json()["status"]) == ("pending", "duplicate")
    logs = _logs(alpha)
    assert [(log.status, log.is_duplicate) for log in logs] == [("pending", False), ("duplicate", True)]
    assert logs[0].delivery_id == logs[1].delivery_id
    assert callbacks == []  # a duplicate never asks for processing


@pytest.mark.parametrize("source", ["fullstory", "generic"])
def test_a_replayed_signature_outside_the_window_is_expired(source, alpha, alpha_endpoints, api_client):
    endpoint = alpha_endpoints[source]
    body = fixture_body(source)
    stale = signed(source, endpoint.secret, body, timestamp=int(time.time()) - 301)
    response = deliver(api_client, alpha, intake_path(endpoint), body, stale)
    assert response.status_code == 401
    assert error_of(response)["code"] == "expired_signature"
    assert _logs(alpha) == []


@pytest.mark.parametrize("source", ["sentry", "generic", "rollbar"])
def test_rotation_keeps_the_old_secret_during_the_grace_period_only(source, alpha, alpha_endpoints, api_client):
    endpoint = alpha_endpoints[source]
    old_secret = endpoint.secret
    with tenant_context(alpha.organization):
        rotated = intake_endpoint_rotate(endpoint, actor=alpha.admin, grace_hours=24)
        entry = AuditEntry.objects.get(action="intake_endpoint.rotated")
    assert rotated.secret != old_secret and rotated.previous_secret == old_secret
    assert old_secret not in json.dumps(entry.changes) and rotated.secret not in json.dumps(entry.changes)

    def post(secret: str, marker: str):
        body = json.dumps({"event_id": marker, "message": f"rotation {marker}"}).encode()
        return deliver(api_client, alpha, intake_path(endpoint), body, signed(source, secret, body))

    assert post(rotated.secret, "new").status_code == 202
    assert post(old_secret, "old-in-grace").status_code == 202
    with tenant_context(alpha.organization):
        IntakeEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now()
                                                             - timedelta(seconds=1))
    expired = post(old_secret, "old-after-grace")
    assert expired.status_code == 401 and error_of(expired)["code"] == "invalid_signature"
    assert post(rotated.secret, "new-again").status_code == 202
    assert len(_logs(alpha)) == 3


def test_rotation_without_grace_refuses_the_old_secret_at_once(alpha, alpha_endpoints, api_client):
    endpoint = alpha_endpoints["datadog"]
    old_secret = endpoint.secret
    with tenant_context(alpha.organization):
        rotated = intake_endpoint_rotate(endpoint, actor=alpha.admin, grace_hours=0)
    body = fixture_body("datadog")
    assert deliver(api_client, alpha, intake_path(endpoint), body, {"X-Argus-Token": old_secret}).status_code == 401
    assert deliver(api_client, alpha, intake_path(endpoint), body, {"X-Argus-Token": rotated.secret}).status_code == 202


def test_another_orgs_key_is_not_found_and_its_secret_fails_here(alpha, bravo, alpha_endpoints, bravo_endpoints,
                                                                 api_client):
    body = fixture_body("sentry")
    alpha_endpoint, bravo_endpoint = alpha_endpoints["sentry"], bravo_endpoints["sentry"]
    # Alpha's intake URL on bravo's host: the key is not in bravo's schema.
    foreign_key = deliver(api_client, bravo, intake_path(alpha_endpoint), body,
                          signed("sentry", alpha_endpoint.secret, body))
    assert foreign_key.status_code == 404 and error_of(foreign_key)["code"] == "unknown_intake"
    # Bravo's URL signed with alpha's secret.
    foreign_secret = deliver(api_client, bravo, intake_path(bravo_endpoint), body,
                             signed("sentry", alpha_endpoint.secret, body))
    assert foreign_secret.status_code == 401 and error_of(foreign_secret)["code"] == "invalid_signature"
    assert _logs(alpha) == [] and _logs(bravo) == []


def test_unknown_source_unknown_key_and_disabled_intake_are_404(alpha, alpha_endpoints, api_client):
    body = fixture_body("generic")
    endpoint = alpha_endpoints["generic"]
    headers = signed("generic", endpoint.secret, body)
    unknown_source = deliver(api_client, alpha, f"/api/v1/webhooks/splunk/{endpoint.key}", body, headers)
    assert unknown_source.status_code == 404 and error_of(unknown_source)["code"] == "unknown_source"
    unknown_key = deliver(api_client, alpha, "/api/v1/webhooks/generic/no-such-key", body, headers)
    assert unknown_key.status_code == 404 and error_of(unknown_key)["code"] == "unknown_intake"
    # A key used with another source's path is not that source's intake either.
    wrong_source = deliver(api_client, alpha, f"/api/v1/webhooks/sentry/{endpoint.key}", body, headers)
    assert wrong_source.status_code == 404 and error_of(wrong_source)["code"] == "unknown_intake"
    with tenant_context(alpha.organization):
        intake_endpoint_set_enabled(endpoint, enabled=False, actor=alpha.admin)
    disabled = deliver(api_client, alpha, intake_path(endpoint), body, headers)
    assert disabled.status_code == 404 and error_of(disabled)["code"] == "unknown_intake"
    assert _logs(alpha) == []


def test_an_oversized_body_is_413(alpha, alpha_endpoints, api_client, settings):
    settings.ARGUS_WEBHOOK_MAX_BYTES = 1024
    endpoint = alpha_endpoints["generic"]
    body = json.dumps({"message": "x" * 2000}).encode()
    response = deliver(api_client, alpha, intake_path(endpoint), body, signed("generic", endpoint.secret, body))
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert _logs(alpha) == []


@pytest.mark.parametrize("body", [b'{"message": "unterminated', b"[1, 2, 3]", b"", b'"text"'])
def test_malformed_json_or_not_an_object_is_400(body, alpha, alpha_endpoints, api_client):
    endpoint = alpha_endpoints["generic"]
    response = deliver(api_client, alpha, intake_path(endpoint), body, signed("generic", endpoint.secret, body))
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"
    assert _logs(alpha) == []


def test_only_post_is_allowed(alpha, alpha_endpoints, api_client):
    response = api_client(alpha).get(intake_path(alpha_endpoints["generic"]))
    assert response.status_code == 405
    assert _logs(alpha) == []


def test_credentials_are_not_stored_in_headers_and_secrets_not_in_the_payload(alpha, alpha_endpoints, api_client):
    endpoint = alpha_endpoints["sentry"]
    leaked = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
    payload = json.loads(fixture_body("sentry"))
    payload["data"]["issue"]["title"] = f"Stripe call failed with key {leaked}"
    payload["data"]["request"] = {"headers": {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
                                              "Cookie": "sessionid=abc123"}}
    body = json.dumps(payload).encode()
    headers = {**signed("sentry", endpoint.secret, body), "Cookie": "sessionid=tracker", "Request-ID": "req-42"}
    response = deliver(api_client, alpha, intake_path(endpoint), body, headers)
    assert response.status_code == 202, response.content

    [log] = _logs(alpha)
    stored_headers = {name.lower(): value for name, value in log.headers.items()}
    assert stored_headers["sentry-hook-resource"] == "issue" and stored_headers["request-id"] == "req-42"
    assert not {"sentry-hook-signature", "cookie", "authorization"} & set(stored_headers)
    stored = json.dumps(log.payload)
    assert leaked not in stored and "eyJhbGciOiJIUzI1NiJ9" not in stored and "sessionid=abc123" not in stored
    assert "[redacted:" in stored


def test_setup_instructions_give_url_headers_and_a_curl_per_source(alpha, alpha_endpoints):
    with tenant_context(alpha.organization):
        for source, endpoint in alpha_endpoints.items():
            instructions = setup_instructions(endpoint)
            assert instructions["url"] == intake_url(endpoint) and instructions["url"].endswith(intake_path(endpoint))
            assert alpha.host in instructions["url"]
            assert instructions["url"] in instructions["curl"]
            assert instructions["steps"]
            if source in HMAC_SOURCES:
                assert instructions["signature"]["kind"].startswith("hmac-sha256")
                assert instructions["url_with_token"] is None
            else:
                assert instructions["url_with_token"] == f"{instructions['url']}?token={endpoint.secret}"
