"""The intake's ASGI fast path in the real server (uvicorn, `argus.asgi:application`): what a tracker
actually talks to. Rows are committed (the server is another process), so these tests use
`committed_project` and read the database outside any test transaction."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django_tenants.utils import tenant_context

from apps.production_events.intake import (
    intake_endpoint_rotate,
    intake_endpoint_set_enabled,
    intake_endpoints_for,
    intake_path,
    setup_instructions,
)
from apps.production_events.models import DeliveryStatus, IntakeEndpoint, WebhookLog
from apps.production_events.redaction import redact
from tests.production_events.intake_deliveries import fixture_body, signed

pytestmark = pytest.mark.usefixtures("asgi_server")


@pytest.fixture
def orgs(session_orgs):
    return session_orgs["alpha"], session_orgs["bravo"]


@pytest.fixture
def intake(orgs, committed_project, django_db_blocker):
    """Alpha's and bravo's endpoints (committed), by source, and a reader of each org's stored deliveries."""
    alpha, bravo = orgs
    made = {}
    for org in (alpha, bravo):
        project = committed_project(org)
        with django_db_blocker.unblock(), tenant_context(org.organization):
            made[org.slug] = {endpoint.source: endpoint for endpoint in intake_endpoints_for(project)}
    return made


@pytest.fixture
def stored(django_db_blocker):
    def read(org, **filters) -> list[WebhookLog]:
        with django_db_blocker.unblock(), tenant_context(org.organization):
            return list(WebhookLog.objects.filter(**filters).order_by("received_at"))

    return read


def post(server, host: str, path: str, body: bytes, headers: dict[str, str] | None = None,
         method: str = "POST") -> tuple[int, dict, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers={"Host": host, **(headers or {})})
        response = connection.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else {}), dict(response.getheaders())
    finally:
        connection.close()


def test_a_signed_delivery_is_committed_before_the_202(asgi_server, orgs, intake, stored):
    alpha, _bravo = orgs
    endpoint = intake["alpha"]["sentry"]
    body = fixture_body("sentry")
    status, answer, _ = post(asgi_server, alpha.host, intake_path(endpoint), body,
                             signed("sentry", endpoint.secret, body))
    assert status == 202, answer
    # Read at once, from another connection: an acknowledged delivery is already committed.
    [log] = stored(alpha)
    assert str(log.pk) == answer["delivery"] and answer["status"] == "pending"
    assert log.status == DeliveryStatus.PENDING and log.payload == redact(json.loads(body))
    assert "sentry-hook-signature" not in {name.lower() for name in log.headers}
    assert log.headers.get("sentry-hook-resource") == "issue"


def test_concurrent_deliveries_with_replays_are_all_stored_and_each_id_once_pending(asgi_server, orgs, intake,
                                                                                     stored):
    alpha, _bravo = orgs
    endpoint = intake["alpha"]["generic"]
    bodies = [json.dumps({"event_id": f"evt-{index}", "message": f"boom {index}"}).encode() for index in range(40)]
    # Every fourth one is sent twice, concurrently with the rest.
    deliveries = bodies + bodies[::4]

    def send(body: bytes):
        return post(asgi_server, alpha.host, intake_path(endpoint), body, signed("generic", endpoint.secret, body))

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(send, deliveries))

    assert [status for status, _, _ in results] == [202] * len(deliveries)
    answers = [answer["status"] for _, answer, _ in results]
    assert answers.count("duplicate") == len(bodies[::4])
    logs = stored(alpha)
    assert len(logs) == len(deliveries)
    pending = [log for log in logs if log.status == DeliveryStatus.PENDING]
    assert len(pending) == len({log.delivery_id for log in pending}) == len(bodies)
    assert all(log.is_duplicate for log in logs if log.status == DeliveryStatus.DUPLICATE)


def test_wrong_or_foreign_credentials_are_refused_and_nothing_is_stored(asgi_server, orgs, intake, stored):
    alpha, bravo = orgs
    body = fixture_body("rollbar")
    alpha_endpoint, bravo_endpoint = intake["alpha"]["rollbar"], intake["bravo"]["rollbar"]
    cases = [
        (bravo.host, intake_path(alpha_endpoint), {"X-Argus-Token": alpha_endpoint.secret}, 404, "unknown_intake"),
        (bravo.host, intake_path(bravo_endpoint), {"X-Argus-Token": alpha_endpoint.secret}, 401, "invalid_signature"),
        (alpha.host, intake_path(alpha_endpoint), {"X-Argus-Token": "guess"}, 401, "invalid_signature"),
        (alpha.host, intake_path(alpha_endpoint), {}, 401, "missing_signature"),
        (alpha.host, f"{intake_path(alpha_endpoint)}?token=guess", {}, 401, "invalid_signature"),
    ]
    for host, path, headers, expected_status, expected_code in cases:
        status, answer, _ = post(asgi_server, host, path, body, headers)
        assert (status, answer["error"]["code"]) == (expected_status, expected_code), (host, path)
    assert stored(alpha) == [] and stored(bravo) == []
    log = asgi_server.log_path.read_text()
    assert "webhook rejected" in log and "code=invalid_signature" in log and alpha_endpoint.secret not in log


def test_limits_and_malformed_bodies(asgi_server, orgs, intake, stored):
    alpha, _bravo = orgs
    endpoint = intake["alpha"]["generic"]
    huge = json.dumps({"message": "x" * (1024 * 1024)}).encode()
    status, answer, _ = post(asgi_server, alpha.host, intake_path(endpoint), huge, signed("generic", endpoint.secret,
                                                                                         huge))
    assert (status, answer["error"]["code"]) == (413, "payload_too_large")
    broken = b'{"message": '
    status, answer, _ = post(asgi_server, alpha.host, intake_path(endpoint), broken,
                             signed("generic", endpoint.secret, broken))
    assert (status, answer["error"]["code"]) == (400, "invalid_json")
    status, answer, headers = post(asgi_server, alpha.host, intake_path(endpoint), b"", method="GET")
    assert status == 405 and answer["error"]["code"] == "method_not_allowed" and headers.get("allow") == "POST"
    stale = signed("generic", endpoint.secret, b"{}", timestamp=int(time.time()) - 400)
    status, answer, _ = post(asgi_server, alpha.host, intake_path(endpoint), b"{}", stale)
    assert (status, answer["error"]["code"]) == (401, "expired_signature")
    assert stored(alpha) == []


def test_unknown_sources_fall_through_to_django_and_other_paths_are_untouched(asgi_server, orgs, intake):
    alpha, _bravo = orgs
    status, answer, _ = post(asgi_server, alpha.host, "/api/v1/webhooks/splunk/abc", b"{}")
    assert (status, answer["error"]["code"]) == (404, "unknown_source")
    status, answer, _ = post(asgi_server, alpha.host, "/api/v1/me", b"", method="GET")
    assert status in (401, 403) and answer["error"]["code"] in ("not_authenticated", "authentication_failed")
    status, answer, _ = post(asgi_server, "nobody.localhost", intake_path(intake["alpha"]["generic"]), b"{}")
    assert (status, answer["error"]["code"]) == (404, "unknown_intake")


def test_rotation_and_disabling_take_effect_within_the_endpoint_cache_time(asgi_server, orgs, intake, stored,
                                                                          django_db_blocker):
    alpha, _bravo = orgs
    endpoint = intake["alpha"]["datadog"]
    body = fixture_body("datadog")
    old = endpoint.secret
    assert post(asgi_server, alpha.host, intake_path(endpoint), body, {"Authorization": f"Bearer {old}"})[0] == 202
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        rotated = intake_endpoint_rotate(endpoint, actor=alpha.admin, grace_hours=0)
    time.sleep(1.2)
    assert post(asgi_server, alpha.host, intake_path(endpoint), body, {"Authorization": f"Bearer {old}"})[0] == 401
    new = {"Authorization": f"Bearer {rotated.secret}"}
    status, answer, _ = post(asgi_server, alpha.host, intake_path(endpoint), body, new)
    assert (status, answer["status"]) == (202, "duplicate")  # the same Datadog event id as the first delivery
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        intake_endpoint_set_enabled(IntakeEndpoint.objects.get(pk=endpoint.pk), enabled=False, actor=alpha.admin)
    time.sleep(1.2)
    status, answer, _ = post(asgi_server, alpha.host, intake_path(endpoint), body, new)
    assert (status, answer["error"]["code"]) == (404, "unknown_intake")
    assert [log.status for log in stored(alpha)] == ["pending", "duplicate"]


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("openssl")), reason="needs curl and openssl")
@pytest.mark.parametrize("source", ["generic", "sentry", "fullstory", "bugsnag"])
def test_the_documented_curl_example_is_accepted(source, asgi_server, orgs, intake, stored, django_db_blocker):
    alpha, _bravo = orgs
    endpoint = intake["alpha"][source]
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        url = asgi_server.url(alpha.host, intake_path(endpoint))
        script = setup_instructions(endpoint, url=url)["curl"]
    script = script.replace("SECRET='<this intake's secret>'", f"SECRET='{endpoint.secret}'")
    # curl resolves *.localhost to 127.0.0.1 itself; -s -w prints the status code.
    script = script.replace("curl -X POST", "curl -s -o /dev/null -w '%{http_code}' -X POST")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=20)
    assert result.stdout.strip() == "202", (result.stdout, result.stderr)
    assert len(stored(alpha)) == 1
