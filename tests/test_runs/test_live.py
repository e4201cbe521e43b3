"""Live run sockets through the real ASGI server: authentication, snapshot, then deltas in order.

The server is a uvicorn subprocess on the test database, so these tests commit their rows (no `db`
transaction) and delete them afterwards. Deltas are published from this process exactly as a
worker does, with `apps.test_runs.live.publish` inside the tenant's schema.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_create
from apps.audit.models import AuditEntry
from apps.test_runs import live
from apps.test_runs.models import Artifact, ResultStatus, Run, RunLogLine, RunStatus, StepResult, TestResult
from apps.test_runs.snapshots import LOG_LINES_IN_SNAPSHOT, run_snapshot
from tests.conftest import PASSWORD

RECEIVE_SECONDS = 10


# ---------------------------------------------------------------- helpers shared with test_live_isolation


def open_socket(server, host: str, path: str, *, cookie: str | None = None, key: str | None = None,
                subprotocols: list[str] | None = None, origin: str | None = "same") -> ClientConnection:
    """A WebSocket to the real server for `host` (sent as the Host header; *.localhost does not
    resolve here, so the TCP connection goes to 127.0.0.1)."""
    headers = {}
    if cookie is not None:
        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={cookie}"
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=RECEIVE_SECONDS)
    return connect(f"ws://{host}:{server.port}{path}", sock=sock, proxy=None, additional_headers=headers,
                   subprotocols=subprotocols, origin=f"http://{host}:{server.port}" if origin == "same" else origin,
                   open_timeout=RECEIVE_SECONDS)


def receive(ws: ClientConnection, timeout: float = RECEIVE_SECONDS) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def close_code(ws: ClientConnection) -> int:
    """The code the server closed with, before it sent anything."""
    try:
        message = ws.recv(timeout=RECEIVE_SECONDS)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else -1
    pytest.fail(f"the socket stayed open and sent {message!r}")


def run_path(run_id) -> str:
    return f"/ws/runs/{run_id}/"


@dataclass
class LiveRun:
    org: object
    run: Run
    results: list[TestResult]
    steps: list[StepResult]
    screenshot: Artifact


def make_live_run(org, project, *, log_lines: int = 3) -> LiveRun:
    """A running run with two results, two steps (one with a screenshot) and a few log lines."""
    now = timezone.now()
    run = Run.objects.create(project=project, number=(Run.objects.filter(project=project).count() + 1),
                             devices=["desktop"], total=2, passed=1, status=RunStatus.RUNNING, started_at=now,
                             started_by_label="live test")
    checkout = TestResult.objects.create(run=run, name="Checkout", device="desktop", position=0,
                                         status=ResultStatus.RUNNING, started_at=now)
    login = TestResult.objects.create(run=run, name="Login", device="desktop", position=1,
                                      status=ResultStatus.PASSED, started_at=now, finished_at=now, duration_ms=812)
    screenshot = Artifact.objects.create(run=run, result=checkout, kind="screenshot", name="step-0.jpg",
                                         file=f"{connection.schema_name}/runs/{run.pk}/step-0.jpg")
    steps = [
        StepResult.objects.create(result=checkout, index=0, action="goto", description="Open /cart",
                                  status="passed", started_at=now, duration_ms=120, page_url="http://shop/cart",
                                  screenshot=screenshot, resolved_locator=""),
        StepResult.objects.create(result=checkout, index=1, action="click", description="Click “Pay”",
                                  status="running", started_at=now, resolved_locator="css=#pay"),
    ]
    RunLogLine.objects.bulk_create([RunLogLine(run=run, seq=seq, stream="stdout", text=f"line {seq}")
                                    for seq in range(1, log_lines + 1)])
    return LiveRun(org=org, run=run, results=[checkout, login], steps=steps, screenshot=screenshot)


@pytest.fixture
def live_run(session_orgs, committed_project, django_db_blocker) -> Callable[..., LiveRun]:
    """`live_run(org)`: a committed run in the org's schema (deleted with its project afterwards)."""

    def make(org, **options) -> LiveRun:
        project = committed_project(org)
        with django_db_blocker.unblock(), tenant_context(org.organization):
            return make_live_run(org, project, **options)

    return make


@pytest.fixture
def session_cookie(django_db_blocker) -> Iterator[Callable[..., str]]:
    """`session_cookie(user)`: the key of a committed, signed-in session (as the login view makes)."""
    from django.contrib.sessions.models import Session

    made: list[str] = []

    def make(user) -> str:
        client = Client()
        with django_db_blocker.unblock():
            client.force_login(user)
        made.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
        return made[-1]

    yield make
    with django_db_blocker.unblock():
        Session.objects.filter(session_key__in=made).delete()


@pytest.fixture
def committed_key(django_db_blocker) -> Iterator[Callable[..., tuple[ApiKey, str]]]:
    """`committed_key(org, user, scopes=["read"])`: an API key from the real service, committed."""
    made: list[tuple[object, ApiKey]] = []

    def make(org, user, scopes: list[str] | None = None) -> tuple[ApiKey, str]:
        with django_db_blocker.unblock(), tenant_context(org.organization):
            api_key, raw = api_key_create(organization=org.organization, actor=user, name="live socket",
                                          scopes=scopes or ["read"])
        made.append((org, api_key))
        return api_key, raw

    yield make
    with django_db_blocker.unblock():
        for org, api_key in made:
            with tenant_context(org.organization):
                AuditEntry.objects.filter(object_id=str(api_key.pk)).delete()
            ApiKey.objects.filter(pk=api_key.pk).delete()
        connection.set_schema_to_public()


def publish_as_worker(django_db_blocker, org, run_id, event: str, data: dict, *, feed: bool = False) -> None:
    with django_db_blocker.unblock(), tenant_context(org.organization):
        live.publish(run_id, event, data, feed=feed)


# ---------------------------------------------------------------- tests


def _login_through_page(server, org, user) -> str:
    """Signs in with the real login form of the organization's host; returns the session cookie."""
    host = f"{org.host}:{server.port}"
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=RECEIVE_SECONDS)
    conn.request("GET", "/login/", headers={"Host": host})
    page = conn.getresponse()
    body = page.read().decode()
    assert page.status == 200
    csrf_cookie = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie")).group(1)
    form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    conn.request("POST", "/login/", body=urlencode({"csrfmiddlewaretoken": form_token, "email": user.email,
                                                     "password": PASSWORD}),
                 headers={"Host": host, "Cookie": f"csrftoken={csrf_cookie}",
                          "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    assert response.status == 302, response.status
    cookies = ",".join(value for name, value in response.getheaders() if name.lower() == "set-cookie")
    return re.search(rf"{settings.SESSION_COOKIE_NAME}=([^;]+)", cookies).group(1)


def test_session_from_the_login_page_gets_the_run_snapshot(asgi_server, session_orgs, live_run, django_db_blocker):
    alpha = session_orgs["alpha"]
    made = live_run(alpha)
    cookie = _login_through_page(asgi_server, alpha, alpha.developer)

    with open_socket(asgi_server, alpha.host, run_path(made.run.pk), cookie=cookie) as ws:
        snapshot = receive(ws)

    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 0
    assert snapshot["run"]["id"] == str(made.run.pk)
    assert snapshot["run"]["status"] == "running" and snapshot["run"]["total"] == 2
    assert [result["name"] for result in snapshot["results"]] == ["Checkout", "Login"]
    checkout, login = snapshot["results"]
    assert login["status"] == "passed" and login["duration_ms"] == 812 and login["steps"] == []
    assert [(step["index"], step["action"], step["status"]) for step in checkout["steps"]] == [
        (0, "goto", "passed"), (1, "click", "running")]
    assert checkout["steps"][0]["screenshot"] == str(made.screenshot.pk)
    assert checkout["steps"][0]["page_url"] == "http://shop/cart"
    assert checkout["steps"][1]["resolved_locator"] == "css=#pay"
    assert snapshot["log"] == [{"seq": seq, "stream": "stdout", "text": f"line {seq}"} for seq in (1, 2, 3)]
    with django_db_blocker.unblock():
        from django.contrib.sessions.models import Session

        Session.objects.filter(session_key=cookie).delete()


def test_api_key_header_snapshot_then_deltas_in_order(asgi_server, session_orgs, live_run, committed_key,
                                                      django_db_blocker):
    alpha = session_orgs["alpha"]
    made = live_run(alpha)
    _, key = committed_key(alpha, alpha.developer, ["write"])
    # Two deltas before anyone listens: the snapshot's high-water mark accounts for them.
    for index in (0, 1):
        publish_as_worker(django_db_blocker, alpha, made.run.pk, "step.started", {"index": index})

    with open_socket(asgi_server, alpha.host, run_path(made.run.pk), key=key) as ws:
        snapshot = receive(ws)
        assert snapshot["type"] == "snapshot" and snapshot["seq"] == 2
        sent = [{"result": str(made.results[0].pk), "attempt": 0, "index": index, "action": "click",
                 "status": "passed", "duration_ms": 10 * index} for index in range(2, 7)]
        for data in sent:
            publish_as_worker(django_db_blocker, alpha, made.run.pk, "step.finished", data)
        events = [receive(ws) for _ in sent]

    assert [event["seq"] for event in events] == [3, 4, 5, 6, 7]
    assert [event["data"] for event in events] == sent
    assert {(event["type"], event["event"], event["run_id"]) for event in events} == {
        ("event", "step.finished", str(made.run.pk))}
    assert all(event["at"] for event in events)


def test_api_key_as_subprotocol(asgi_server, session_orgs, live_run, committed_key):
    alpha = session_orgs["alpha"]
    made = live_run(alpha)
    _, key = committed_key(alpha, alpha.viewer, ["read"])

    with open_socket(asgi_server, alpha.host, run_path(made.run.pk),
                     subprotocols=["argus.live.v1", f"argus.bearer.{key}"]) as ws:
        assert ws.subprotocol == "argus.live.v1"  # the key is not echoed back
        assert receive(ws)["run"]["id"] == str(made.run.pk)
    # A browser that offers only the bearer subprotocol must get one selected, or its handshake fails.
    with open_socket(asgi_server, alpha.host, run_path(made.run.pk), subprotocols=[f"argus.bearer.{key}"]) as ws:
        assert ws.subprotocol == f"argus.bearer.{key}"
        assert receive(ws)["type"] == "snapshot"


def test_viewer_session_may_watch_and_ping(asgi_server, session_orgs, live_run, session_cookie):
    alpha = session_orgs["alpha"]
    made = live_run(alpha)

    with open_socket(asgi_server, alpha.host, run_path(made.run.pk), cookie=session_cookie(alpha.viewer)) as ws:
        assert receive(ws)["type"] == "snapshot"
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}
        ws.send("not json")
        assert receive(ws)["code"] == "unsupported_message"
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}  # still open after a bad message


def test_run_events_reach_the_run_and_the_feed_with_their_own_seq(asgi_server, session_orgs, live_run,
                                                                  session_cookie, django_db_blocker):
    alpha = session_orgs["alpha"]
    made = live_run(alpha)
    cookie = session_cookie(alpha.admin)

    with open_socket(asgi_server, alpha.host, run_path(made.run.pk), cookie=cookie) as run_ws, \
            open_socket(asgi_server, alpha.host, "/ws/runs/", cookie=cookie) as feed_ws:
        assert receive(run_ws)["seq"] == 0
        feed_snapshot = receive(feed_ws)
        assert feed_snapshot["type"] == "snapshot" and feed_snapshot["seq"] == 0
        assert str(made.run.pk) in [run["id"] for run in feed_snapshot["runs"]]
        publish_as_worker(django_db_blocker, alpha, made.run.pk, "test.started", {"result": "r"})
        publish_as_worker(django_db_blocker, alpha, made.run.pk, "run.progress", {"completed": 2}, feed=True)

        assert [(event["event"], event["seq"]) for event in (receive(run_ws), receive(run_ws))] == [
            ("test.started", 1), ("run.progress", 2)]
        feed_event = receive(feed_ws)
        assert (feed_event["event"], feed_event["seq"], feed_event["data"]) == ("run.progress", 1, {"completed": 2})


def test_a_socket_idle_longer_than_the_layers_blocking_pop_stays_open(asgi_server, session_orgs, live_run,
                                                                      committed_key, django_db_blocker):
    """The channel layer waits for messages with a 5 s blocking pop; a run page often sits quiet for
    longer (a slow step). The wait must not time out under it and take the socket down."""
    alpha = session_orgs["alpha"]
    made = live_run(alpha)
    _, key = committed_key(alpha, alpha.viewer)

    with open_socket(asgi_server, alpha.host, run_path(made.run.pk), key=key) as ws:
        receive(ws)
        time.sleep(7)
        publish_as_worker(django_db_blocker, alpha, made.run.pk, "test.finished", {"after": "idle"})
        assert receive(ws)["data"] == {"after": "idle"}


def test_feed_carries_only_its_own_organization(asgi_server, session_orgs, live_run, session_cookie,
                                                django_db_blocker):
    alpha, bravo = session_orgs["alpha"], session_orgs["bravo"]
    alpha_run, bravo_run = live_run(alpha).run, live_run(bravo).run

    with open_socket(asgi_server, alpha.host, "/ws/runs/", cookie=session_cookie(alpha.viewer)) as alpha_feed, \
            open_socket(asgi_server, bravo.host, "/ws/runs/", cookie=session_cookie(bravo.viewer)) as bravo_feed:
        alpha_snapshot, bravo_snapshot = receive(alpha_feed), receive(bravo_feed)
        alpha_listed = [run["id"] for run in alpha_snapshot["runs"]]
        bravo_listed = [run["id"] for run in bravo_snapshot["runs"]]
        assert str(alpha_run.pk) in alpha_listed and str(bravo_run.pk) not in alpha_listed
        assert str(bravo_run.pk) in bravo_listed and str(alpha_run.pk) not in bravo_listed

        # Bravo's delta goes first: had it leaked, it would be the first thing alpha's feed reads.
        publish_as_worker(django_db_blocker, bravo, bravo_run.pk, "run.finished", {"org": "bravo"}, feed=True)
        publish_as_worker(django_db_blocker, alpha, alpha_run.pk, "run.finished", {"org": "alpha"}, feed=True)

        assert receive(alpha_feed)["data"] == {"org": "alpha"}
        assert receive(bravo_feed)["data"] == {"org": "bravo"}
        with pytest.raises(TimeoutError):
            alpha_feed.recv(timeout=0.5)


def test_deltas_racing_the_snapshot_are_neither_lost_nor_doubled(asgi_server, session_orgs, live_run,
                                                                  committed_key, django_db_blocker):
    """A worker writes and publishes log lines while clients keep connecting: every client ends
    up with every line exactly once, from its snapshot or from a delta."""
    alpha = session_orgs["alpha"]
    made = live_run(alpha, log_lines=0)
    _, key = committed_key(alpha, alpha.viewer)
    total = 250

    def worker() -> None:
        try:
            with tenant_context(alpha.organization):
                for seq in range(1, total + 1):
                    line = RunLogLine.objects.create(run_id=made.run.pk, seq=seq, stream="stdout", text=f"l{seq}")
                    live.publish(made.run.pk, "log", {"seq": line.seq, "stream": line.stream, "text": line.text})
                    time.sleep(0.003)
        finally:
            connection.close()

    clients: list[tuple[ClientConnection, dict]] = []
    with ExitStack() as sockets:
        with django_db_blocker.unblock(), ThreadPoolExecutor(max_workers=1) as pool:
            writing = pool.submit(worker)
            while not writing.done():
                ws = sockets.enter_context(open_socket(asgi_server, alpha.host, run_path(made.run.pk), key=key))
                clients.append((ws, receive(ws)))
                time.sleep(0.05)
            writing.result()

        mid_stream = 0
        for ws, snapshot in clients:
            from_snapshot = [line["seq"] for line in snapshot["log"]]
            mid_stream += 0 < len(from_snapshot) < total
            deltas = []
            while len(from_snapshot) + len(deltas) < total:
                try:
                    event = receive(ws, timeout=3)
                except TimeoutError:
                    missing = sorted(set(range(1, total + 1)) - set(from_snapshot) - set(deltas))
                    pytest.fail(f"lines neither in the snapshot (seq {snapshot['seq']}) nor sent after: {missing}")
                assert event["seq"] > snapshot["seq"]
                deltas.append(event["data"]["seq"])
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0.2)  # and nothing more
            assert sorted(from_snapshot + deltas) == list(range(1, total + 1))
            assert deltas == sorted(deltas)
    assert mid_stream >= 3, "the clients should have connected while the lines were being written"


def test_a_delta_inside_a_transaction_waits_for_the_commit(asgi_server, session_orgs, live_run, committed_key,
                                                           django_db_blocker):
    from django.db import transaction

    alpha = session_orgs["alpha"]
    made = live_run(alpha)
    _, key = committed_key(alpha, alpha.viewer)

    with open_socket(asgi_server, alpha.host, run_path(made.run.pk), key=key) as ws:
        receive(ws)
        with django_db_blocker.unblock(), tenant_context(alpha.organization):
            with transaction.atomic():
                live.publish(made.run.pk, "test.finished", {"rolled": "back"})
                transaction.set_rollback(True)
            with transaction.atomic():
                live.publish(made.run.pk, "test.finished", {"committed": True})
                with pytest.raises(TimeoutError):
                    ws.recv(timeout=0.3)  # not before the commit
        event = receive(ws)
        assert (event["data"], event["seq"]) == ({"committed": True}, 1)


def test_publish_never_raises_when_redis_is_unreachable(session_orgs, django_db_blocker, caplog):
    live._redis.cache_clear()
    try:
        with override_settings(REDIS_URL="redis://127.0.0.1:9/0"):  # nothing listens on the discard port
            started = time.monotonic()
            publish_as_worker(django_db_blocker, session_orgs["alpha"], uuid.uuid4(), "log", {"seq": 1}, feed=True)
            assert time.monotonic() - started < live.SEND_TIMEOUT_SECONDS * 2
    finally:
        live._redis.cache_clear()
    assert "was not delivered" in caplog.text


def test_run_snapshot_holds_the_last_log_lines_in_constant_queries(alpha):
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ProjectFactory

    with tenant_context(alpha.organization):
        made = make_live_run(alpha, ProjectFactory(), log_lines=LOG_LINES_IN_SNAPSHOT + 10)
        TestResult.objects.bulk_create([TestResult(run=made.run, name=f"More {n}", position=2 + n) for n in range(5)])
        with CaptureQueriesContext(connection) as queries:
            snapshot = run_snapshot(made.run)
    # Results, steps, log lines (not counting django-tenants' `SET search_path`).
    assert len([query for query in queries if not query["sql"].startswith("SET search_path")]) == 3

    assert len(snapshot["results"]) == 7
    assert [line["seq"] for line in snapshot["log"]] == list(range(11, LOG_LINES_IN_SNAPSHOT + 11))
    assert snapshot["log_truncated"] is True
    json.dumps(snapshot)  # ready for the socket as it is
