"""`/ws/events/`: an organization's domain events, live, to its members only."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import tenant_context

from apps.integrations.consumers import type_filters
from apps.integrations.dispatch import realtime_subscriber
from apps.integrations.events import emit
from apps.integrations.models import OutboxEvent
from tests.test_runs import test_live as support
from tests.test_runs.test_live import close_code, open_socket, receive

session_cookie = support.session_cookie
committed_key = support.committed_key

PATH = "/ws/events/"


def publish(org, event_type: str, payload: dict) -> str:
    """What the outbox dispatcher does for a committed event (the whole chain: tests/integrations/test_outbox)."""
    event = OutboxEvent(event_id=uuid.uuid4(), event_type=event_type, payload=payload, source="tests",
                        tenant=org.organization.schema_name)
    realtime_subscriber(event)
    return str(event.event_id)


def test_a_member_gets_the_organizations_events_as_they_are_dispatched(asgi_server, session_orgs, committed_key):
    alpha = session_orgs["alpha"]
    _, key = committed_key(alpha, alpha.developer)
    with open_socket(asgi_server, alpha.host, PATH, key=key) as ws:
        assert receive(ws) == {"type": "ready", "types": []}
        event_id = publish(alpha, "production_event.received", {"title": "TypeError in cart"})
        assert receive(ws) == {"type": "event", "event_type": "production_event.received", "event_id": event_id,
                               "payload": {"title": "TypeError in cart"}}
        ws.send('{"type": "ping"}')
        assert receive(ws) == {"type": "pong"}
        ws.send("hello")
        assert receive(ws)["code"] == "unsupported_message"


def test_types_narrow_the_feed_by_prefix(asgi_server, session_orgs, session_cookie):
    alpha = session_orgs["alpha"]
    path = f"{PATH}?types=production_event.,run.finished"
    with open_socket(asgi_server, alpha.host, path, cookie=session_cookie(alpha.viewer)) as ws:
        assert receive(ws) == {"type": "ready", "types": ["production_event.", "run.finished"]}
        publish(alpha, "test.executed", {"skipped": True})
        publish(alpha, "healing.completed", {"skipped": True})
        finished = publish(alpha, "run.finished", {})
        received = publish(alpha, "production_event.received", {})
        assert [receive(ws)["event_id"], receive(ws)["event_id"]] == [finished, received]
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)


def test_another_organizations_events_never_arrive(asgi_server, session_orgs, session_cookie):
    alpha, bravo = session_orgs["alpha"], session_orgs["bravo"]
    with open_socket(asgi_server, alpha.host, PATH, cookie=session_cookie(alpha.viewer)) as alpha_ws, \
            open_socket(asgi_server, bravo.host, PATH, cookie=session_cookie(bravo.viewer)) as bravo_ws:
        receive(alpha_ws), receive(bravo_ws)
        # Bravo's event goes first: had it leaked, it would be the first thing alpha's socket reads.
        bravo_event = publish(bravo, "production_event.received", {"org": "bravo"})
        alpha_event = publish(alpha, "production_event.received", {"org": "alpha"})
        assert receive(alpha_ws)["event_id"] == alpha_event
        assert receive(bravo_ws)["event_id"] == bravo_event
        with pytest.raises(TimeoutError):
            alpha_ws.recv(timeout=0.5)


def test_strangers_are_refused_with_the_live_close_codes(asgi_server, session_orgs, session_cookie, committed_key):
    alpha, bravo = session_orgs["alpha"], session_orgs["bravo"]
    _, bravo_key = committed_key(bravo, bravo.admin, ["admin"])
    with open_socket(asgi_server, alpha.host, PATH) as ws:
        assert close_code(ws) == 4401
    with open_socket(asgi_server, alpha.host, PATH, cookie=session_cookie(bravo.admin)) as ws:
        assert close_code(ws) == 4403
    with open_socket(asgi_server, alpha.host, PATH, key=bravo_key) as ws:
        assert close_code(ws) == 4401
    with open_socket(asgi_server, alpha.host, "/ws/elsewhere/", key=bravo_key) as ws:
        assert close_code(ws) in (4401, 4404)


def test_type_filters_are_trimmed_deduplicated_and_bounded():
    assert type_filters(b"types=run.,%20run.,&types=heal") == ("run.", "heal")
    assert type_filters(b"") == ()
    assert len(type_filters(("types=" + ",".join(f"t{n}" for n in range(50))).encode())) == 20


def test_the_outbox_event_of_an_organization_names_its_schema(alpha):
    with tenant_context(alpha.organization):
        event = emit("codebase.ingested", {"files": 1}, source="tests")
    assert event.tenant == alpha.organization.schema_name
