"""Every tracker payload in the shared fixtures normalized, field by field; variants for what the
fixtures lack (breadcrumbs, trace chains, session trails); malformed shapes fail with NormalizationError."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from apps.production_events import entities
from apps.production_events.normalizers import (
    NORMALIZERS,
    NormalizationError,
    NormalizedEvent,
    delivery_identity,
    normalize,
)
from apps.production_events.redaction import redact

FIXTURES = Path("/work/shared/fixtures/webhooks")
SOURCES = ("sentry", "datadog", "bugsnag", "rollbar", "newrelic", "fullstory", "logrocket")
ALL_FIXTURES = sorted(
    str(path.relative_to(FIXTURES)) for source in SOURCES for path in (FIXTURES / source).glob("*.json"))


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def at(year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def sentry_headers(name: str) -> dict[str, str]:
    resource = Path(name).name.split(".")[0]
    return {"Sentry-Hook-Resource": resource} if resource in ("issue", "error", "event_alert", "metric_alert") else {}


# What each fixture must give. "ignored" fixtures give no event and a reason containing the text.
# Values come from the fixture files (see the payloads in /work/shared/fixtures/webhooks/<source>/).
EXPECTED: dict[str, dict[str, Any]] = {
    "sentry/issue.created.json": {
        "kind": "issue.created", "external_id": "1170820242", "event_type": "issue", "severity": "error",
        "title": "ReferenceError: blooopy is not defined", "exception_type": "ReferenceError",
        "message": "blooopy is not defined", "frames": [], "url": "", "component": "?(runner)",
        "tracker_fingerprint": "sentry:issue:1170820242", "occurrence_count": 1, "affected_users": 1,
        "first_seen": at(2019, 8, 19, 20, 58, 37, 391000), "last_seen": at(2019, 8, 19, 20, 58, 37, 391000),
        "trail": 0,
    },
    "sentry/issue.created.zulip-fixture.json": {
        "kind": "issue.created", "external_id": "1635244907", "event_type": "issue", "severity": "error",
        "title": "Exception: Custom exception!", "exception_type": "Exception", "message": "Custom exception!",
        "frames": [], "component": "__main__ in <module>", "affected_users": 0,
        "first_seen": at(2020, 4, 28, 13, 56, 5, 903736), "trail": 0,
    },
    "sentry/error.created.json": {
        "kind": "error.created", "external_id": "1170820242", "event_type": "error", "severity": "error",
        "title": "ReferenceError: blooopy is not defined", "exception_type": "ReferenceError",
        "frames": [("/runner", False, 3)], "url": "https://null.jsbin.com/runner", "url_path": "/runner",
        "api_endpoint": "", "component": "?(runner)", "tracker_fingerprint": "sentry:issue:1170820242",
        "first_seen": at(2019, 8, 19, 20, 58, 37, 391000), "affected_users": 1, "trail": 0,
        "link": "https://sentry.io/organizations/test-org/issues/1170820242/events/bb78c1407cea4519aa397afc059c793d/",
        "tags": {"browser": "Chrome 75.0.3770", "handled": "no", "mechanism": "onerror"},
    },
    "sentry/event_alert.triggered.json": {
        "kind": "event_alert.triggered", "external_id": "1117540176", "event_type": "event_alert",
        "title": "ReferenceError: heck is not defined", "exception_type": "ReferenceError",
        "frames": [("/js/prod/runner-4.1.7.min.js", False, 1), ("/js/prod/runner-4.1.7.min.js", False, 1),
                   ("<anonymous>", False, 3)],
        "url": "https://null.jsbin.com/runner", "severity": "error",
        "first_seen": at(2019, 8, 19, 21, 6, 17, 677000), "tags": {"alert_rule": "Very Important Alert Rule!"},
    },
    "sentry/metric_alert.resolved.json": {
        "kind": "metric_alert.resolved", "external_id": "metric_alert:7", "event_type": "metric_alert",
        "title": "Too many errors", "status": "resolved", "frames": [],
        "message": "1000 events in the last 10 minutes\nFilter: level:error",
        "link": "https://sentry.io/organizations/baz/alerts/1/", "first_seen": at(2020, 9, 13, 12, 26, 40),
    },
    "sentry/raw_event.python_zero_division.sdk.json": {
        "kind": "event", "external_id": "dd9e1afb828a44d5b4df0183adaee5d8", "event_type": "error",
        "title": "ZeroDivisionError: division by zero", "exception_type": "ZeroDivisionError",
        "message": "division by zero", "severity": "error",
        "frames": [("django/core/handlers/exception.py", True, 34), ("django/core/handlers/base.py", True, 115),
                   ("django/core/handlers/base.py", True, 113), ("django/views/generic/base.py", True, 71),
                   ("django/views/generic/base.py", True, 97), ("errors/views.py", True, 18)],
        "url": "http://localhost:8001/divide-zero/", "url_path": "/divide-zero", "api_endpoint": "GET /divide-zero",
        "component": "/divide-zero/", "tracker_fingerprint": "",
        "first_seen": at(2020, 5, 2, 16, 54, 20, 487733), "trail": 0,
    },
    "sentry/raw_event.small_js_error.sdk.json": {
        "kind": "event", "external_id": "00952c9936084f759aecdb0f195dd82f", "title": "Error: this is an error",
        "exception_type": "Error", "frames": [("http://127.0.0.1:8080/dist/bundle.js", True, 2)] * 3,
        "url": "http://127.0.0.1:8080/", "url_path": "/", "environment": "production", "api_endpoint": "",
        "first_seen": at(2022, 4, 2, 16, 38, 33, 218000),
    },
    "sentry/api_event.python_zero_division.oss_sentry.json": {
        "kind": "event", "external_id": "64", "tracker_fingerprint": "sentry:issue:64",
        "title": "ZeroDivisionError: division by zero", "exception_type": "ZeroDivisionError",
        "frames": [("django/core/handlers/exception.py", False, 34), ("django/core/handlers/base.py", False, 115),
                   ("django/core/handlers/base.py", False, 113), ("django/views/generic/base.py", False, 71),
                   ("django/views/generic/base.py", False, 97), ("errors/views.py", False, 18)],
        "url": "http://localhost:8001/divide-zero/", "api_endpoint": "GET /divide-zero",
        "first_seen": at(2020, 5, 2, 16, 54, 20, 488000), "tags": {"transaction": "/divide-zero/"},
    },
    "datadog/default_payload_template.json": {"kind": "event", "ignored": "unrendered"},
    "datadog/monitor_alert.triggered.default_template.json": {
        "kind": "service_check.triggered", "external_id": "monitor:18692904", "event_type": "service_check",
        "title": "[TEST] Host Cluster Alert", "severity": "error", "frames": [],
        "tracker_fingerprint": "datadog:monitor:18692904", "link": "https://app.datadoghq.com/monitors#18692904?",
        "first_seen": at(2020, 6, 3, 20, 43, 5), "tags": {"transition": "Triggered", "org": "Puppet"},
    },
    "bugsnag/exception.otp-middleware-fixture.json": {
        "kind": "exception", "external_id": "56b9ca7f17025f8756f69054", "event_type": "exception",
        "title": "NoMethodError: Unable to connect to database.", "exception_type": "NoMethodError",
        "severity": "error", "frames": [("controllers/auth/session_controller.rb", True, 1234)],
        "context_line": "raise 'something went wrong'",
        "url": "http://localhost:3000/admin/raise_exception", "url_path": "/admin/raise_exception",
        "component": "auth/session#create", "release": "1.1.3", "environment": "staging", "affected_users": 1,
        "first_seen": at(2015, 11, 27, 15, 26, 11), "trail": 1,
        "link": "https://app.bugsnag.com/my-company/my-test-project/errors/56b9ca7f17025f8756f69054?event_id="
                "56b9ca7f17025f8756f69054",
    },
    "rollbar/deploy.json": {"kind": "deploy", "ignored": "deploy is not an error"},
    "rollbar/new_item.json": {
        "kind": "new_item", "external_id": "272716944", "title": "testing aobg98wrwe", "message": "testing aobg98wrwe",
        "severity": "error", "frames": [], "environment": "production",
        "tracker_fingerprint": "rollbar:c595b2ae0af9b397bb6bdafd57104ac4d5f6b382",
        "first_seen": datetime.fromtimestamp(1382655421, tz=UTC), "occurrence_count": 1,
    },
    "rollbar/new_item.zulip-fixture.json": {
        "kind": "new_item", "external_id": "496445267", "title": "An Error", "severity": "error",
        "first_seen": datetime.fromtimestamp(1515470048, tz=UTC), "frames": [],
    },
    "rollbar/occurrence.json": {
        "kind": "occurrence", "external_id": "402860571", "title": "Exception: test exception",
        "exception_type": "Exception", "message": "test 2", "occurrence_count": 8,
        "frames": [("/Users/rebeccastandig/Desktop/Dev/php-rollbar-app/index.php", True, 27)],
        "first_seen": datetime.fromtimestamp(1471624512, tz=UTC),
        "last_seen": datetime.fromtimestamp(1472226345, tz=UTC),
    },
    "newrelic/workflow.incident_created.default_template.zulip-fixture.json": {
        "kind": "issue.created", "external_id": "208c5e92-f250-40be-b7c2-50508c268c15", "severity": "fatal",
        "title": "MAIN-APP-UBUNTU query result is > 2.0 for 1 minutes on 'High CPU'", "component": "MAIN-APP-UBUNTU",
        "first_seen": datetime.fromtimestamp(1713767789.495, tz=UTC), "status": "",
        "tracker_fingerprint": "newrelic:Golden Signals|High CPU|MAIN-APP-UBUNTU",
    },
    "newrelic/workflow.issue_activated.default_template.zulip-fixture.json": {
        "kind": "issue.activated", "external_id": "c5faa7e6-7b54-402d-af79-f99601e0278c", "severity": "fatal",
        "first_seen": datetime.fromtimestamp(1713755131.352, tz=UTC),
        "last_seen": datetime.fromtimestamp(1713769708.699, tz=UTC), "component": "zulip_app",
    },
    "newrelic/workflow.issue_closed.default_template.zulip-fixture.json": {
        "kind": "issue.closed", "external_id": "95a9344a-2590-48ce-8d83-07e28b6d22c6", "status": "resolved",
        "tracker_fingerprint": "newrelic:Golden Signals|High CPU|main_app-UBUNTU",
        "last_seen": datetime.fromtimestamp(1713766657.383, tz=UTC),
    },
    "newrelic/legacy_channel.incident_opened.zulip-fixture.json": {
        "kind": "incident.open", "external_id": "incident:1234", "event_type": "incident",
        "title": "Server Down: I am a test Violation", "link": "https://alerts.newrelic.com/accounts/2941966/incidents/1234",
        "first_seen": datetime.fromtimestamp(1605133931.151, tz=UTC),
    },
    "fullstory/v1.metric.alert.json": {
        "kind": "metric.alert", "external_id": "metric_alert:gW3nrSpxusut", "event_type": "metric_alert",
        "title": "Uncaught Exceptions Alert", "severity": "error", "component": "Hourly Uncaught Exceptions",
        "first_seen": at(2024, 4, 1, 10, 0, 0),
        "link": "https://app.fullstory.com/ui/1ENq/metrics/details/8N8LHeZAsc1j/alerts/gW3nrSpxusut?triggerId=bg8jnAlS7CN0",
    },
    "fullstory/v1.recording.event.custom.json": {"kind": "recording.event.custom", "ignored": "not an error signal"},
    "fullstory/v2.stream_destination.example.json": {"kind": "stream.Test Event", "ignored": "not an error signal"},
}


def test_every_fixture_has_expectations():
    assert ALL_FIXTURES, "the shared fixtures are missing"
    assert sorted(EXPECTED) == ALL_FIXTURES


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_fixture_normalizes(name: str):
    expected = EXPECTED[name]
    source = name.split("/")[0]
    payload = load(name)
    headers = sentry_headers(name) if source == "sentry" else {}
    kind, delivery_id = delivery_identity(source, payload, headers)
    assert kind == expected["kind"]
    result = normalize(source, payload, headers)
    if "ignored" in expected:
        assert result.events == []
        assert expected["ignored"] in result.ignored_reason
        return
    assert result.ignored_reason == ""
    assert delivery_id, "every error fixture carries a vendor id for its delivery"
    [event] = result.events
    frames = expected.get("frames")
    for field in ("external_id", "event_type", "severity", "title", "message", "exception_type", "url", "url_path",
                  "component", "api_endpoint", "tracker_fingerprint", "occurrence_count", "affected_users",
                  "release", "environment", "link", "status"):
        if field in expected:
            assert getattr(event, field) == expected[field], field
    if frames is not None:
        assert [(frame["filename"], frame["in_app"], frame["lineno"]) for frame in event.stack_trace] == frames
    if "context_line" in expected:
        assert event.stack_trace[-1]["context_line"] == expected["context_line"]
    if "first_seen" in expected:
        assert event.first_seen == expected["first_seen"]
    if "last_seen" in expected:
        assert event.last_seen == expected["last_seen"]
    else:
        assert event.last_seen >= event.first_seen
    if "trail" in expected:
        assert len(event.trail) == expected["trail"]
    for key, value in expected.get("tags", {}).items():
        assert event.tags[key] == value
    assert event.first_seen.tzinfo is not None and event.last_seen.tzinfo is not None


@pytest.mark.parametrize("name", [name for name in ALL_FIXTURES if "ignored" not in EXPECTED[name]])
def test_fixture_survives_redaction(name: str):
    """Intake stores the redacted payload; normalizing it must still give the same error."""
    source = name.split("/")[0]
    payload = load(name)
    headers = sentry_headers(name) if source == "sentry" else {}
    [plain] = normalize(source, payload, headers).events
    [redacted] = normalize(source, redact(payload), headers).events
    assert (redacted.external_id, redacted.title, len(redacted.stack_trace)) == (
        plain.external_id, plain.title, len(plain.stack_trace))


def test_sentry_resource_is_detected_without_the_header():
    for name in ("sentry/issue.created.json", "sentry/error.created.json", "sentry/event_alert.triggered.json"):
        with_header = normalize("sentry", load(name), sentry_headers(name)).events[0]
        without = normalize("sentry", load(name), {}).events[0]
        assert (without.external_id, without.event_type, without.title) == (
            with_header.external_id, with_header.event_type, with_header.title)


def test_sentry_issue_and_error_webhooks_update_one_event():
    issue = normalize("sentry", load("sentry/issue.created.json"), {}).events[0]
    error = normalize("sentry", load("sentry/error.created.json"), {}).events[0]
    assert issue.external_id == error.external_id == "1170820242"
    assert issue.tracker_fingerprint == error.tracker_fingerprint


def test_sentry_issue_updates_are_new_deliveries_but_assignments_are_ignored():
    payload = load("sentry/issue.created.json")
    first = delivery_identity("sentry", payload, {})[1]
    later = copy.deepcopy(payload)
    later["data"]["issue"]["lastSeen"] = "2019-08-20T10:00:00.000000Z"
    assert delivery_identity("sentry", later, {})[1] != first
    resolved = copy.deepcopy(payload)
    resolved["action"] = "resolved"
    assert normalize("sentry", resolved, {"Sentry-Hook-Resource": "issue"}).events[0].status == "resolved"
    assigned = copy.deepcopy(payload)
    assigned["action"] = "assigned"
    result = normalize("sentry", assigned, {"Sentry-Hook-Resource": "issue"})
    assert result.events == [] and "issue.assigned" in result.ignored_reason


def test_sentry_installation_and_comment_are_ignored():
    installation = {"action": "created", "installation": {"uuid": "a8e5"}, "data": {"installation": {}}}
    result = normalize("sentry", installation, {"Sentry-Hook-Resource": "installation"})
    assert result.events == [] and "installation.created" in result.ignored_reason
    assert delivery_identity("sentry", installation, {"Sentry-Hook-Resource": "installation"}) == (
        "installation.created", "installation.created:a8e5")
    comment = {"action": "created", "data": {"comment": "hi", "issue_id": 1}}
    assert normalize("sentry", comment, {}).ignored_reason


def test_sentry_breadcrumbs_become_the_trail_and_a_failed_fetch_the_endpoint():
    payload = load("sentry/raw_event.small_js_error.sdk.json")
    payload["breadcrumbs"] = {"values": [
        {"timestamp": 1648917500.1, "category": "navigation", "data": {"from": "/", "to": "/orders/42"}},
        {"timestamp": "2022-04-02T16:38:31Z", "category": "ui.click", "message": "button#pay.primary"},
        {"timestamp": 1648917512.0, "category": "fetch", "type": "http",
         "data": {"method": "POST", "url": "https://shop.test/api/orders/42/pay?x=1", "status_code": 502}},
        "not a breadcrumb",
    ]}
    payload["user"] = {"id": "u-1", "email": "ann@example.com"}
    event = normalize("sentry", payload, {}).events[0]
    assert [crumb["category"] for crumb in event.trail] == ["navigation", "ui.click", "fetch"]
    assert event.trail[0]["url"] == "/orders/42"
    assert event.trail[0]["timestamp"] == datetime.fromtimestamp(1648917500.1, tz=UTC).isoformat()
    assert event.trail[1]["selector"] == "button#pay.primary"
    assert event.trail[2]["type"] == "http"
    assert event.api_endpoint == "POST /api/orders/:id/pay"
    assert event.affected_users == 1


def test_sentry_custom_fingerprint_and_chained_exception():
    payload = load("sentry/raw_event.python_zero_division.sdk.json")
    payload["fingerprint"] = ["checkout", "division"]
    payload["exception"]["values"].insert(0, {"type": "KeyError", "value": "'cart'", "stacktrace": {"frames": []}})
    event = normalize("sentry", payload, {}).events[0]
    assert event.tracker_fingerprint == "sentry:fingerprint:checkout|division"
    assert event.exception_type == "ZeroDivisionError", "the last exception of a chain is the one raised"


def test_sentry_metric_alert_critical_is_an_error_event():
    payload = load("sentry/metric_alert.resolved.json")
    payload["action"] = "critical"
    event = normalize("sentry", payload, {"Sentry-Hook-Resource": "metric_alert"}).events[0]
    assert (event.event_type, event.severity, event.status) == ("metric_alert", "error", "")


def test_rollbar_trace_chain_request_person_and_numeric_levels():
    payload = load("rollbar/occurrence.json")
    occurrence = payload["data"]["occurrence"]
    occurrence["body"] = {"trace_chain": [
        {"frames": [{"filename": "/app/vendor/lib.php", "lineno": "3", "method": "call"},
                    {"filename": "/app/src/Cart.php", "lineno": 88, "method": "total", "code": "$x / 0;"}],
         "exception": {"class": "DivisionByZeroError", "message": "Division by zero"}},
        {"frames": [], "exception": {"class": "RuntimeException", "message": "cause"}},
    ]}
    occurrence["request"] = {"url": "https://shop.test/cart/7f3e2a9b1c?tab=1", "method": "post"}
    occurrence["person"] = {"id": "42", "username": "ann"}
    payload["data"]["item"]["level"] = 50
    event = normalize("rollbar", payload, {}).events[0]
    assert event.exception_type == "DivisionByZeroError"
    assert [(f["filename"], f["in_app"], f["lineno"]) for f in event.stack_trace] == [
        ("/app/vendor/lib.php", False, 3), ("/app/src/Cart.php", True, 88)]
    assert event.stack_trace[-1]["context_line"] == "$x / 0;"
    assert event.url_path == "/cart/:id"
    assert event.api_endpoint == "POST /cart/:id"
    assert event.severity == "fatal"
    assert event.affected_users == 1
    payload["data"]["item"]["level"] = 30
    assert normalize("rollbar", payload, {}).events[0].severity == "warning"


def test_rollbar_resolved_and_unknown_events():
    payload = load("rollbar/new_item.json")
    payload["event_name"] = "resolved_item"
    assert normalize("rollbar", payload, {}).events[0].status == "resolved"
    payload["event_name"] = "item_comment"
    result = normalize("rollbar", payload, {})
    assert result.events == [] and "item_comment" in result.ignored_reason


def test_datadog_recovery_warning_and_custom_fields():
    payload = load("datadog/monitor_alert.triggered.default_template.json")
    payload.update({"alert_transition": "Recovered", "alert_id": "777",
                    "tags": "env:prod,service:checkout,version:2.1"})
    event = normalize("datadog", payload, {}).events[0]
    assert (event.status, event.external_id, event.component, event.environment, event.release) == (
        "resolved", "monitor:777", "checkout", "prod", "2.1")
    assert delivery_identity("datadog", payload, {})[0] == "service_check.recovered"
    payload.update({"alert_transition": "Warn", "title": "[Warn] Latency high"})
    event = normalize("datadog", payload, {}).events[0]
    assert (event.severity, event.title, event.status) == ("warning", "Latency high", "")


def test_bugsnag_state_change_comment_and_string_numbers():
    payload = load("bugsnag/exception.otp-middleware-fixture.json")
    payload["error"]["stackTrace"].append({"inProject": False, "lineNumber": "12", "file": "gems/rack.rb",
                                           "method": "call"})
    event = normalize("bugsnag", payload, {}).events[0]
    # Bugsnag lists the throwing frame first; Argus keeps innermost last.
    assert [frame["filename"] for frame in event.stack_trace] == [
        "gems/rack.rb", "controllers/auth/session_controller.rb"]
    assert event.stack_trace[0]["lineno"] == 12
    payload["trigger"] = {"type": "errorStateManualChange", "stateChange": "fixed"}
    assert normalize("bugsnag", payload, {}).events[0].status == "resolved"
    payload["trigger"] = {"type": "comment"}
    assert "comment" in normalize("bugsnag", payload, {}).ignored_reason


def test_newrelic_unknown_state_is_ignored():
    payload = load("newrelic/workflow.issue_closed.default_template.zulip-fixture.json")
    payload["state"] = "MUTED"
    assert "MUTED" in normalize("newrelic", payload, {}).ignored_reason


def test_fullstory_error_signals_become_events_with_the_session():
    payload = load("fullstory/v1.recording.event.custom.json")
    payload["data"]["name"] = "Checkout Failed"
    payload["data"]["properties"]["message_str"] = "Payment declined by gateway"
    event = normalize("fullstory", payload, {}).events[0]
    assert event.title == "Checkout Failed: Payment declined by gateway"
    assert event.severity == "error"
    assert event.session_url == payload["data"]["sessionUrl"]
    assert event.url == "https://www.example.com/product/path" and event.url_path == "/product/path"
    assert event.trail[-1]["type"] == "Checkout Failed" and event.trail[-1]["data"]["sku_str"] == "L-100"
    stream = load("fullstory/v2.stream_destination.example.json")
    stream.update({"name": "Rage Click", "url": "https://shop.test/cart", "session_url": "https://app.fullstory.com/s/1",
                   "events": [{"type": "click", "target": "#pay", "timestamp": "2024-01-02T03:04:00Z"}]})
    event = normalize("fullstory", stream, {}).events[0]
    assert (event.severity, event.event_type, event.session_url) == ("warning", "stream_event",
                                                                     "https://app.fullstory.com/s/1")
    assert [entry["selector"] for entry in event.trail] == ["#pay", ""]
    assert event.affected_users == 1


GENERIC_EXAMPLE = {
    "id": "evt_01", "issue_id": "ISSUE-42", "type": "error", "level": "warn",
    "title": "TypeError: cart is undefined", "message": "cart is undefined",
    "exception": {"type": "TypeError", "value": "cart is undefined", "frames": [
        {"filename": "node_modules/react-dom/index.js", "function": "render", "lineno": 1},
        {"filename": "src/cart.js", "function": "addItem", "lineno": 42, "colno": 7, "in_app": True},
    ]},
    "url": "https://shop.example.com/cart/123/items?step=2", "method": "POST", "component": "CartDrawer",
    "user": {"id": "u_17", "email": "ann@example.com"}, "release": "web@2.4.1", "environment": "production",
    "tags": {"browser": "Chrome 120"}, "fingerprint": ["cart", "undefined"],
    "session_url": "https://app.logrocket.com/org/app/s/abc",
    "trail": [{"timestamp": "2025-01-05T10:00:00Z", "category": "navigation", "url": "https://shop.example.com/cart"},
              {"timestamp": 1736071205000, "category": "ui.click", "type": "rage_click", "selector": "#checkout"}],
    "timestamp": "2025-01-05T10:00:05Z", "first_seen": 1735977600, "count": 12, "users": 3,
}


@pytest.mark.parametrize("source", ["generic", "logrocket"])
def test_generic_shape(source: str):
    event = normalize(source, GENERIC_EXAMPLE, {}).events[0]
    assert isinstance(event, NormalizedEvent)
    assert (event.external_id, event.severity, event.exception_type) == ("ISSUE-42", "warning", "TypeError")
    assert [(f["filename"], f["in_app"]) for f in event.stack_trace] == [
        ("node_modules/react-dom/index.js", False), ("src/cart.js", True)]
    assert (event.url_path, event.api_endpoint, event.component) == (
        "/cart/:id/items", "POST /cart/:id/items", "CartDrawer")
    assert event.tracker_fingerprint == f"{source}:cart|undefined"
    assert (event.occurrence_count, event.affected_users) == (12, 3)
    assert event.first_seen == datetime.fromtimestamp(1735977600, tz=UTC)
    assert event.last_seen == at(2025, 1, 5, 10, 0, 5)
    assert event.trail[1]["timestamp"] == datetime.fromtimestamp(1736071205, tz=UTC).isoformat()
    assert event.trail[1]["type"] == "rage_click" and event.session_url.startswith("https://app.logrocket.com/")
    prefix = "logrocket." if source == "logrocket" else ""
    assert delivery_identity(source, GENERIC_EXAMPLE, {}) == (f"{prefix}error", f"{prefix}error:evt_01")


def test_logrocket_session_object_rage_click_and_stack_string():
    payload = {
        "type": "rageClick", "title": "Rage click on Pay", "sessionURL": "https://app.logrocket.com/o/a/s/9",
        "session": {"events": [{"type": "click", "selector": "#pay", "time": "2025-01-05T10:00:00Z"}]},
        "exception": {"type": "Error", "stack": "Error: boom\n    at pay (https://shop.test/static/app.js:10:5)\n"
                                                  "    at HTMLButtonElement.onclick (https://shop.test/cart:1:1)"},
    }
    event = normalize("logrocket", payload, {}).events[0]
    assert event.severity == "warning"
    assert event.session_url == "https://app.logrocket.com/o/a/s/9"
    assert event.trail[0]["selector"] == "#pay"
    assert [(f["function"], f["lineno"]) for f in event.stack_trace] == [
        ("HTMLButtonElement.onclick", 1), ("pay", 10)]
    assert delivery_identity("logrocket", payload, {}) == ("logrocket.rageClick", None)


def test_python_traceback_string():
    trace = ('Traceback (most recent call last):\n  File "/srv/app/shop/views.py", line 12, in checkout\n'
             "    total = cart.total()\n  File \"/usr/lib/python3.11/site-packages/x.py\", line 3, in total\n"
             "    return 1 / 0\nZeroDivisionError: division by zero")
    event = normalize("generic", {"message": "division by zero", "stack": trace}, {}).events[0]
    assert [(f["function"], f["in_app"], f["context_line"]) for f in event.stack_trace] == [
        ("checkout", True, "total = cart.total()"), ("total", False, "return 1 / 0")]
    assert event.external_id.startswith("content:")


def test_events_fit_the_columns():
    payload = dict(GENERIC_EXAMPLE, title="x" * 1000, component="c" * 500, release="r" * 500)
    event = normalize("generic", payload, {}).events[0]
    assert (len(event.title), len(event.component), len(event.release)) == (300, 200, 200)


MALFORMED = [
    ("sentry", {"action": "created", "data": {"issue": "not an object"}}),
    ("sentry", {"action": "created", "data": {"error": None}}),
    ("sentry", {"action": "triggered", "data": {"event": [], "triggered_rule": "x"}}),
    ("rollbar", {"event_name": "new_item", "data": {"item": "x"}}),
    ("rollbar", {"event_name": "occurrence", "data": []}),
    ("bugsnag", {"trigger": {"type": "exception"}, "error": ["x"]}),
    ("newrelic", {"state": "CREATED"}),
    ("newrelic", {"incident_id": None, "current_state": "open"}),
    ("generic", {"id": "1", "tags": "x"}),
    ("logrocket", {"type": "error"}),
]


@pytest.mark.parametrize(("source", "payload"), MALFORMED)
def test_malformed_shapes_raise_normalization_error(source: str, payload: dict):
    with pytest.raises(NormalizationError) as error:
        normalize(source, payload, {})
    assert str(error.value)
    assert isinstance(error.value, ValueError)


WRONG_TYPES = [
    ("sentry", {"event_id": "e1", "exception": {"values": [{"type": 5, "value": None, "stacktrace": {"frames": "x"}}]},
                "timestamp": "not a date", "tags": 7, "breadcrumbs": {"values": [None, 3]}, "request": "[redacted:x]",
                "message": "boom"}),
    ("rollbar", {"event_name": "occurrence", "data": {"item": {"id": 9, "title": ["x"], "level": "bogus",
                                                               "total_occurrences": "many"},
                                                      "occurrence": {
                                                          "body": {"trace": {"frames": [None, {"lineno": []}]}},
                                                          "request": [], "person": "x"}}}),
    ("bugsnag", {"trigger": {"type": "exception"}, "error": {"errorId": 5, "stackTrace": {"a": 1},
                                                             "receivedAt": 1e30, "user": "x", "app": None}}),
    ("datadog", {"title": 123, "body": ["x"], "date": "yesterday", "tags": {"env": "x"}}),
    ("fullstory", {"eventName": "metric.alert", "data": {"alertConfig": "x", "timestamp": {}}}),
    ("generic", {"title": "x", "exception": "TypeError", "trail": "x", "count": -4, "users": "lots",
                 "timestamp": float("nan")}),
]


@pytest.mark.parametrize(("source", "payload"), WRONG_TYPES)
def test_wrong_types_give_a_sensible_event_or_a_normalization_error(source: str, payload: dict):
    try:
        result = normalize(source, payload, {})
    except NormalizationError:
        return
    for event in result.events:
        assert event.external_id and event.title
        assert event.occurrence_count >= 1 and event.affected_users >= 0
        assert isinstance(event.stack_trace, list) and isinstance(event.trail, list)
        assert abs(event.last_seen - datetime.now(tz=UTC)) < timedelta(days=365 * 100)


@pytest.mark.parametrize("source", sorted(NORMALIZERS))
def test_non_objects_and_empty_objects(source: str):
    with pytest.raises(NormalizationError):
        normalize(source, ["a", "list"], {})
    try:
        result = normalize(source, {}, {})
    except NormalizationError:
        pass
    else:
        assert result.events == [] and result.ignored_reason
    assert delivery_identity(source, "x", {}) == ("unknown", None)
    kind, delivery_id = delivery_identity(source, {}, {})
    assert kind and delivery_id is None


def test_unknown_source():
    with pytest.raises(NormalizationError, match="unknown source"):
        normalize("splunk", {}, {})


@pytest.mark.parametrize(("url", "path"), [
    ("/orders/123/edit?x=1", "/orders/:id/edit"),
    ("https://shop.test/orders/550e8400-e29b-41d4-a716-446655440000/", "/orders/:id"),
    ("https://shop.test/commit/9fceb02d0ae598e95dc970b74767f19372d61af8", "/commit/:id"),
    ("https://shop.test/share/AbCdEfGhIjKlMnOpQrStUv12", "/share/:id"),
    ("https://shop.test/orders/ORD-10293/items", "/orders/:id/items"),
    ("https://shop.test/api/v2/users/{id}", "/api/v2/users/:id"),
    ("https://shop.test/", "/"),
    ("https://shop.test/#/orders/12", "/#/orders/:id"),
    ("https://shop.test/blog/how-to-checkout", "/blog/how-to-checkout"),
    ("https://shop.test/static/app.js", "/static/app.js"),
    ("", ""),
])
def test_page_path(url: str, path: str):
    assert entities.page_path(url) == path
    assert entities.page_path(path) == path, "page_path is idempotent"


@pytest.mark.parametrize(("kwargs", "endpoint"), [
    ({"method": "post", "url": "https://shop.test/api/orders/42?x=1"}, "POST /api/orders/:id"),
    ({"transaction": "GET /api/orders/{order_id}"}, "GET /api/orders/:id"),
    ({"transaction": "/checkout/<int:pk>/", "method": "PUT"}, "PUT /checkout/:id"),
    ({"url": "https://shop.test/api/cart/9"}, "/api/cart/:id"),
    ({"url": "https://shop.test/cart/9"}, ""),
    ({"transaction": "shop.views.checkout"}, ""),
])
def test_api_endpoint_of(kwargs: dict, endpoint: str):
    assert entities.api_endpoint_of(**kwargs) == endpoint
