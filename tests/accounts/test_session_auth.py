"""Session authentication of the API: the web UI's cookie works for members, and writes need the CSRF token."""

from __future__ import annotations

from rest_framework.test import APIClient

from tests.conftest import error_of


def test_session_write_without_csrf_token_is_refused(alpha):
    client = APIClient(HTTP_HOST=alpha.host, enforce_csrf_checks=True)
    client.force_login(alpha.developer)

    read = client.get("/api/v1/projects")
    write = client.post("/api/v1/projects", {"name": "X", "base_url": "https://x.example.com/"}, format="json")

    assert read.status_code == 200
    assert write.status_code == 403
    assert "CSRF" in error_of(write)["message"]


def test_session_write_with_csrf_token_is_accepted(alpha):
    client = APIClient(HTTP_HOST=alpha.host, enforce_csrf_checks=True)
    client.force_login(alpha.developer)
    client.get("/")  # any page of the web UI with a form sets the csrftoken cookie
    token = client.cookies["csrftoken"].value

    response = client.post("/api/v1/projects", {"name": "X", "base_url": "https://x.example.com/"}, format="json",
                           HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN=f"http://{alpha.host}")

    assert response.status_code == 201, response.content


def test_api_key_writes_need_no_csrf_token(alpha, make_api_key):
    client = APIClient(HTTP_HOST=alpha.host, enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(alpha, alpha.developer, ['write'])[1]}")

    response = client.post("/api/v1/projects", {"name": "X", "base_url": "https://x.example.com/"}, format="json")

    assert response.status_code == 201


def test_signed_out_session_is_unauthenticated(alpha):
    client = APIClient(HTTP_HOST=alpha.host)
    client.force_login(alpha.viewer)
    assert client.get("/api/v1/me").status_code == 200

    client.logout()

    assert client.get("/api/v1/me").status_code == 401
