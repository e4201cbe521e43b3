"""Production defaults: no secret, no start; HTTPS-only cookies and HSTS unless ARGUS_HTTPS=0; security headers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

PRINT_SETTINGS = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({name: getattr(settings, name) for name in ("
    "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', "
    "'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_HTTPONLY', 'X_FRAME_OPTIONS', "
    "'ARGUS_PUBLIC_SCHEME')}))"
)


def run_settings(**env: str) -> subprocess.CompletedProcess:
    base = {key: value for key, value in os.environ.items()
            if key not in ("DEBUG", "SECRET_KEY", "ARGUS_HTTPS", "ARGUS_SSL_REDIRECT", "ARGUS_PUBLIC_SCHEME")}
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60,
        env={**base, "DJANGO_SETTINGS_MODULE": "argus.settings", **env},
    )


def test_refuses_to_start_without_a_secret_key():
    result = run_settings()

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_refuses_to_start_with_an_empty_secret_key():
    result = run_settings(SECRET_KEY="")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_defaults_are_https_only():
    result = run_settings(SECRET_KEY="s" * 50)

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["ARGUS_PUBLIC_SCHEME"] == "https"


def test_plain_http_mode_turns_https_settings_off():
    result = run_settings(SECRET_KEY="s" * 50, ARGUS_HTTPS="0")

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert (values["SESSION_COOKIE_SECURE"], values["SECURE_HSTS_SECONDS"], values["SECURE_SSL_REDIRECT"]) == (
        False, 0, False)


def test_debug_mode_runs_without_a_secret():
    result = run_settings(DEBUG="1")

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is True and values["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(("host", "path", "policy"), [
    ("localhost", "/api/v1/nope", "CONTENT_SECURITY_POLICY"),
    ("localhost", "/login/", "CONTENT_SECURITY_POLICY"),
    ("alpha.localhost", "/", "CONTENT_SECURITY_POLICY"),
    ("alpha.localhost", "/api/v1/me", "CONTENT_SECURITY_POLICY"),
    ("alpha.localhost", "/api/v1/nope", "CONTENT_SECURITY_POLICY"),
    ("alpha.localhost", "/api/docs/", "API_DOCS_CONTENT_SECURITY_POLICY"),
    ("alpha.localhost", "/api/redoc/", "API_DOCS_CONTENT_SECURITY_POLICY"),
])
def test_responses_carry_security_headers(host, path, policy, alpha, api_client):
    response = api_client(host, user=alpha.admin).get(path)

    assert response.status_code < 500
    csp = response["Content-Security-Policy"]
    assert csp == getattr(settings, policy)
    directives = dict(directive.strip().split(" ", 1) for directive in csp.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_form_action_allows_only_this_platforms_hosts():
    directives = dict(directive.strip().split(" ", 1) for directive in settings.CONTENT_SECURITY_POLICY.split(";"))

    sources = directives["form-action"].split()
    assert sources[0] == "'self'"
    assert all(source.endswith(f"*.{settings.ARGUS_BASE_DOMAIN}:*") for source in sources[1:])
