"""Login lockout: 5 failures lock the account and the client IP for 15 minutes (counters in Redis)."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client

from apps.accounts.services import user_authenticate
from apps.core.errors import ApplicationError
from tests.conftest import PASSWORD
from tests.factories import UserFactory

WRONG = "not-the-password"


def login(email: str, password: str, ip: str | None = "198.51.100.1"):
    return user_authenticate(request=None, email=email, password=password, ip=ip)


def refused_code(email: str, password: str, ip: str | None = "198.51.100.1") -> str:
    with pytest.raises(ApplicationError) as caught:
        login(email, password, ip)
    return caught.value.code


@pytest.fixture
def person(db):
    return UserFactory(email="locked@example.test", password=PASSWORD)


def test_settings_are_five_failures_for_fifteen_minutes():
    assert settings.LOGIN_LOCKOUT_FAILURES == 5
    assert settings.LOGIN_LOCKOUT_SECONDS == 15 * 60


def test_right_password_signs_in(person):
    assert login(person.email, PASSWORD) == person
    assert login(person.email.upper(), PASSWORD) == person


def test_five_failures_lock_the_account_even_for_the_right_password(person):
    for _ in range(4):
        assert refused_code(person.email, WRONG) == "invalid_credentials"
    assert login(person.email, PASSWORD) == person  # four failures are not yet a lock
    for _ in range(5):
        assert refused_code(person.email, WRONG, ip="198.51.100.2") == "invalid_credentials"

    with pytest.raises(ApplicationError) as caught:
        login(person.email, PASSWORD, ip="203.0.113.99")  # another IP: the account itself is locked
    assert caught.value.code == "locked_out"
    assert caught.value.status_code == 429


def test_lock_lasts_fifteen_minutes(person):
    for _ in range(5):
        refused_code(person.email, WRONG)
    account_key = "lockout:account:" + hashlib.sha256(person.email.encode()).hexdigest()

    ttl = caches["platform"].ttl(account_key)

    assert 15 * 60 - 5 <= ttl <= 15 * 60
    # Once the window is over (simulated by the key expiring) the right password works again.
    caches["platform"].delete_many([account_key, "lockout:ip:198.51.100.1"])
    assert login(person.email, PASSWORD) == person


def test_email_is_not_stored_in_clear_in_redis(person):
    refused_code(person.email, WRONG)

    keys = [key.decode() for key in caches["platform"].client.get_client().keys("*")]

    assert keys and not any(person.email in key for key in keys)


def test_failures_across_accounts_lock_the_ip(db):
    people = [UserFactory(email=f"guess{n}@example.test", password=PASSWORD) for n in range(3)]
    attacker_ip = "203.0.113.7"
    for n in range(5):
        refused_code(people[n % 2].email, WRONG, ip=attacker_ip)

    # The third account never failed, but this IP is locked for every account...
    assert refused_code(people[2].email, PASSWORD, ip=attacker_ip) == "locked_out"
    # ...while the accounts themselves (2-3 failures each) still sign in from elsewhere.
    assert login(people[0].email, PASSWORD, ip="198.51.100.50") == people[0]
    assert login(people[2].email, PASSWORD, ip="198.51.100.50") == people[2]


def test_success_clears_the_account_counter_only(db):
    first, second = UserFactory(password=PASSWORD), UserFactory(password=PASSWORD)
    ip = "198.51.100.9"
    for _ in range(4):
        refused_code(first.email, WRONG, ip=ip)
    assert login(first.email, PASSWORD, ip="198.51.100.10") == first

    # Account counter restarted: four more failures (from other IPs) still do not lock it.
    for n in range(4):
        refused_code(first.email, WRONG, ip=f"198.51.100.{20 + n}")
    assert login(first.email, PASSWORD, ip="198.51.100.30") == first

    # The IP counter was not cleared by the success: one more failure from that IP locks it.
    refused_code(second.email, WRONG, ip=ip)
    assert refused_code(second.email, PASSWORD, ip=ip) == "locked_out"


def test_unknown_account_failures_count_too(db):
    for _ in range(5):
        assert refused_code("nobody@example.test", WRONG, ip=None) == "invalid_credentials"
    assert refused_code("nobody@example.test", WRONG, ip=None) == "locked_out"


def post_login(email: str, password: str, host: str = "localhost", ip: str = "198.51.100.77"):
    return Client(HTTP_HOST=host, REMOTE_ADDR=ip).post("/login/", {"email": email, "password": password})


def test_login_page_locks_after_five_failures(person):
    for _ in range(5):
        response = post_login(person.email, WRONG)
        assert response.status_code == 401
        assert "incorrect" in response.content.decode()

    response = post_login(person.email, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


HANDOFF_URL = re.compile(r"https?://alpha\.localhost/auth/handoff/[\w-]+/")


def handoff_url(response) -> str:
    """The hand-off link to the organization's host: a redirect, or a page that moves on by itself."""
    if response.status_code == 302:
        return HANDOFF_URL.fullmatch(response["Location"]).group(0)
    assert response.status_code == 200
    return HANDOFF_URL.search(response.content.decode()).group(0)


def test_login_page_signs_in_and_clears_the_counter(alpha):
    for _ in range(4):
        assert post_login(alpha.viewer.email, WRONG, ip="198.51.100.78").status_code == 401

    url = handoff_url(post_login(alpha.viewer.email, PASSWORD, ip="198.51.100.79"))

    tenant = Client(HTTP_HOST=alpha.host)
    landed = tenant.get(url.split("alpha.localhost", 1)[1])
    assert (landed.status_code, landed["Location"]) == (302, "/")
    assert tenant.get("/api/v1/me").json()["email"] == alpha.viewer.email
    # The hand-off works once.
    assert Client(HTTP_HOST=alpha.host).get(url.split("alpha.localhost", 1)[1])["Location"] == "/login/"
    # The success cleared the account's counter: four more failures do not lock it.
    for _ in range(4):
        assert post_login(alpha.viewer.email, WRONG, ip="198.51.100.80").status_code == 401
    handoff_url(post_login(alpha.viewer.email, PASSWORD, ip="198.51.100.81"))


def test_tenant_login_page_shares_the_lockout(alpha):
    for _ in range(5):
        assert post_login(alpha.developer.email, WRONG, host=alpha.host).status_code == 401

    response = post_login(alpha.developer.email, PASSWORD, host=alpha.host, ip="198.51.100.90")

    assert response.status_code == 429
    assert "_auth_user_id" not in response.wsgi_request.session
