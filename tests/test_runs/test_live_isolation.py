"""Live sockets never cross organizations: who may open which socket on which host, and the close
codes of everyone else (4401 no valid credentials, 4403 not a member, 4404 nothing here)."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import tenant_context
from websockets.exceptions import InvalidStatus

from apps.accounts.services import api_key_revoke
from apps.organizations.models import Membership, Role
from tests.conftest import PUBLIC_HOST
from tests.test_runs import test_live as support
from tests.test_runs.test_live import close_code, open_socket, receive, run_path

# The fixtures of test_live, shared here.
live_run = support.live_run
session_cookie = support.session_cookie
committed_key = support.committed_key

FEED = "/ws/runs/"


def test_no_credentials_is_4401(asgi_server, session_orgs, live_run):
    alpha = session_orgs["alpha"]
    made = live_run(alpha)
    for path in (run_path(made.run.pk), FEED):
        with open_socket(asgi_server, alpha.host, path) as ws:
            assert close_code(ws) == 4401
    with open_socket(asgi_server, alpha.host, FEED, cookie="not-a-session") as ws:
        assert close_code(ws) == 4401


def test_malformed_authorization_header_is_4401(asgi_server, session_orgs):
    alpha = session_orgs["alpha"]
    with open_socket(asgi_server, alpha.host, FEED, key="") as ws:  # "Authorization: Bearer " alone
        assert close_code(ws) == 4401


def test_bravo_member_on_alphas_host_is_refused(asgi_server, session_orgs, live_run, session_cookie, committed_key):
    alpha, bravo = session_orgs["alpha"], session_orgs["bravo"]
    made = live_run(alpha)
    _, bravo_key = committed_key(bravo, bravo.admin, ["admin"])
    bravo_cookie = session_cookie(bravo.admin)

    for path in (run_path(made.run.pk), FEED):
        # A valid session of someone who is not a member here.
        with open_socket(asgi_server, alpha.host, path, cookie=bravo_cookie) as ws:
            assert close_code(ws) == 4403
        # Bravo's key is simply invalid on alpha's host, as a header or as a subprotocol.
        with open_socket(asgi_server, alpha.host, path, key=bravo_key) as ws:
            assert close_code(ws) == 4401
        with open_socket(asgi_server, alpha.host, path, subprotocols=[f"argus.bearer.{bravo_key}"]) as ws:
            assert close_code(ws) == 4401


def test_alphas_run_id_on_bravos_host_is_not_found(asgi_server, session_orgs, live_run, session_cookie,
                                                   committed_key):
    alpha, bravo = session_orgs["alpha"], session_orgs["bravo"]
    made = live_run(alpha)
    _, bravo_key = committed_key(bravo, bravo.admin, ["admin"])
    _, alpha_key = committed_key(alpha, alpha.admin, ["admin"])

    with open_socket(asgi_server, bravo.host, run_path(made.run.pk), cookie=session_cookie(bravo.admin)) as ws:
        assert close_code(ws) == 4404
    with open_socket(asgi_server, bravo.host, run_path(made.run.pk), key=bravo_key) as ws:
        assert close_code(ws) == 4404
    # The same answer as for an id that exists nowhere: nothing tells the two apart.
    with open_socket(asgi_server, alpha.host, run_path(uuid.uuid4()), key=alpha_key) as ws:
        assert close_code(ws) == 4404
    # And alpha's own key does see it, so the 4404s above are about the organization.
    with open_socket(asgi_server, alpha.host, run_path(made.run.pk), key=alpha_key) as ws:
        assert receive(ws)["run"]["id"] == str(made.run.pk)


def test_public_and_unknown_hosts_are_not_found(asgi_server, session_orgs, committed_key):
    alpha = session_orgs["alpha"]
    _, key = committed_key(alpha, alpha.admin)
    for host in (PUBLIC_HOST, "nosuchorg.localhost"):
        with open_socket(asgi_server, host, FEED, key=key) as ws:
            assert close_code(ws) == 4404


def test_revoked_key_is_refused(asgi_server, session_orgs, committed_key, django_db_blocker):
    alpha = session_orgs["alpha"]
    api_key, raw = committed_key(alpha, alpha.developer)
    with open_socket(asgi_server, alpha.host, FEED, key=raw) as ws:
        assert receive(ws)["type"] == "snapshot"

    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        api_key_revoke(api_key=api_key, actor=alpha.admin)

    with open_socket(asgi_server, alpha.host, FEED, key=raw) as ws:
        assert close_code(ws) == 4401
    with open_socket(asgi_server, alpha.host, FEED, subprotocols=[f"argus.bearer.{raw}"]) as ws:
        assert close_code(ws) == 4401


def test_key_of_a_creator_who_left_is_refused(asgi_server, session_orgs, committed_key, django_db_blocker):
    alpha = session_orgs["alpha"]
    _, raw = committed_key(alpha, alpha.viewer)
    with django_db_blocker.unblock():
        membership = Membership.objects.get(user=alpha.viewer, organization=alpha.organization)
        membership.delete()
    try:
        with open_socket(asgi_server, alpha.host, FEED, key=raw) as ws:
            assert close_code(ws) == 4401
    finally:
        with django_db_blocker.unblock():
            Membership.objects.create(user=alpha.viewer, organization=alpha.organization, role=Role.VIEWER)


def test_session_socket_from_another_hosts_page_is_refused(asgi_server, session_orgs, session_cookie,
                                                           committed_key):
    """A page on bravo's host must not be able to ride an alpha member's cookie into alpha's feed."""
    alpha, bravo = session_orgs["alpha"], session_orgs["bravo"]
    cookie = session_cookie(alpha.admin)
    with open_socket(asgi_server, alpha.host, FEED, cookie=cookie,
                     origin=f"http://{bravo.host}:{asgi_server.port}") as ws:
        assert close_code(ws) == 4403
    # A key is explicit, so it does not depend on the page it is used from.
    _, key = committed_key(alpha, alpha.admin)
    with open_socket(asgi_server, alpha.host, FEED, key=key, origin=f"http://{bravo.host}:{asgi_server.port}") as ws:
        assert receive(ws)["type"] == "snapshot"


@pytest.mark.parametrize("origin", ["http://evil.example", None])
def test_origin_outside_the_allowed_hosts_is_rejected_at_the_handshake(asgi_server, session_orgs, committed_key,
                                                                       origin):
    alpha = session_orgs["alpha"]
    _, key = committed_key(alpha, alpha.admin)
    with pytest.raises(InvalidStatus) as refused, open_socket(asgi_server, alpha.host, FEED, key=key, origin=origin):
        pass
    assert refused.value.response.status_code == 403


def test_unknown_socket_path_is_not_found(asgi_server, session_orgs, committed_key):
    alpha = session_orgs["alpha"]
    _, key = committed_key(alpha, alpha.admin)
    with open_socket(asgi_server, alpha.host, "/ws/nothing-here/", key=key) as ws:
        assert close_code(ws) == 4404
