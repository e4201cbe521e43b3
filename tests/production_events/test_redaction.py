"""Redaction corpus: realistic secrets in the places trackers put them (exception messages, stack frame
variables, URLs, headers, breadcrumbs, nested JSON, log lines) must all disappear, and ordinary text
must come back byte for byte.

Vendor-prefixed keys are assembled from pieces so this file itself never holds a string that secret
scanners flag.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from apps.production_events.redaction import redact, redact_text, sensitive_kind

# Fake but well-formed credentials.
OPENAI = "sk-" + "proj-" + "Xy7Qm2Lk9Pw4Rt6Vb8Nc1Zs3Df5Gh"
ANTHROPIC = "sk-" + "ant-" + "api03-" + "Qm2Lk9Pw4Rt6Vb8Nc1Zs3Df5GhJk7Lp0-AbCdEf_gh"
GITHUB_PAT = "gh" + "p_" + "16C7e42F292c6912E7710c838347Ae178B4a"
GITHUB_OAUTH = "gh" + "o_" + "Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0HgFeDcBa"
GITHUB_FINE = "github_" + "pat_" + "11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTU"
SLACK_BOT = "xo" + "xb-" + "2048-1024-Ab3dE5gH7jK9mN1pQ3sT5vW"
SLACK_USER = "xo" + "xp-" + "123456789012-123456789012-abcdef123456"
AWS_ID = "AK" + "IA" + "Z7QJ3KX2M5N8P4RT"
AWS_TEMP_ID = "AS" + "IA" + "Y6WH2JV1L4M7O3QS"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Xw7Vu6T"
STRIPE_LIVE = "sk_" + "live_" + "51HqLyjWDarjtT1zdp7dcXYZ0123456789"
STRIPE_RESTRICTED = "rk_" + "live_" + "51HqLyjWDarjtT1zdpABCDEF9876"
STRIPE_WEBHOOK = "wh" + "sec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSz"
GOOGLE = "AI" + "za" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFubiIsImlhdCI6MTUxNjIzOTAyMn0"
       ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
OPAQUE = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
PEM_BODY = "MIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi3lVbq5d4Zx8Kd2YpEgAqT0bWnLqR"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\nq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0HgFe==\n-----END RSA PRIVATE KEY-----"
VISA = "4111 1111 1111 1111"
MASTERCARD = "5555-5555-5555-4444"
AMEX = "378282246310005"

# (text, secret that must be gone). Each a place a real tracker payload carries secrets.
SECRETS: list[tuple[str, str]] = [
    # exception messages
    (f"openai.AuthenticationError: Incorrect API key provided: {OPENAI}.", OPENAI),
    (f"anthropic.AuthenticationError: invalid x-api-key {ANTHROPIC}", ANTHROPIC),
    (f"RuntimeError: GitHub push failed for token {GITHUB_PAT}", GITHUB_PAT),
    (f"Bad credentials ({GITHUB_OAUTH})", GITHUB_OAUTH),
    (f"HTTPError 401 using {GITHUB_FINE}", GITHUB_FINE),
    (f"SlackApiError: invalid_auth for {SLACK_BOT}", SLACK_BOT),
    (f"slack_sdk error: token={SLACK_USER} revoked", SLACK_USER),
    (f"botocore.exceptions.ClientError: InvalidAccessKeyId {AWS_ID} does not exist", AWS_ID),
    (f"ExpiredToken: the security token for {AWS_TEMP_ID} has expired", AWS_TEMP_ID),
    (f"stripe.error.AuthenticationError: Invalid API Key provided: {STRIPE_LIVE}", STRIPE_LIVE),
    (f"PermissionError: restricted key {STRIPE_RESTRICTED} lacks charges:write", STRIPE_RESTRICTED),
    (f"SignatureVerificationError: secret {STRIPE_WEBHOOK} did not match", STRIPE_WEBHOOK),
    (f"google.api_core.exceptions.Forbidden: API key {GOOGLE} not valid", GOOGLE),
    (f"jwt.exceptions.ExpiredSignatureError: {JWT}", JWT),
    ("PaymentError: card 4111 1111 1111 1111 declined", VISA),
    (f"Charge failed for {MASTERCARD} (insufficient funds)", MASTERCARD),
    (f"Amex {AMEX} rejected by gateway", AMEX),
    ("ValueError: could not parse 'password=Tr0ub4dor&3' from form", "Tr0ub4dor"),
    # connection strings and passwords in URLs
    ("OperationalError: could not connect to postgres://app_user:S3cr3tPg!@db.internal:5432/shop", "S3cr3tPg!"),
    ("pymysql.err: mysql://root:MyR00tPw@10.0.0.5:3306/orders", "MyR00tPw"),
    ("ServerSelectionTimeoutError: mongodb+srv://admin:M0ng0Pass@cluster0.ab1cd.mongodb.net/prod", "M0ng0Pass"),
    ("ConnectionError: Error 111 connecting to redis://:R3disAuth99@cache:6379/0", "R3disAuth99"),
    ("AMQPConnectionError amqp://guest:RabbitPw77@mq:5672//", "RabbitPw77"),
    ("GET https://deploy:hunter2hunter2@git.example.com/repo.git failed", "hunter2hunter2"),
    ("Sentry DSN https://0f1e2d3c4b5a69788796a5b4c3d2e1f0@o42.ingest.sentry.io/7 rejected",
     "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
    # URLs with query tokens
    (f"https://shop.example.com/reset?token={OPAQUE}&lang=en", OPAQUE),
    ("https://api.example.com/v1/items?api_key=live_9a8b7c6d5e4f3a2b1c0d", "live_9a8b7c6d5e4f3a2b1c0d"),
    ("https://cdn.example.com/file.pdf?X-Amz-Signature=4f0e3d2c1b0a99887766554433221100ffeeddcc", "4f0e3d2c1b0a9988"),
    ("callback https://app.example.com/oauth#access_token=ya29.a0AfH6SMBx-Q9x_77&expires_in=3599", "ya29.a0AfH6SMBx"),
    ("https://hooks.example.com/in?client_secret=cs_Zx81Qa0Lm2Nb&x=1", "cs_Zx81Qa0Lm2Nb"),
    # headers
    (f"Authorization: Bearer {OPAQUE}", OPAQUE),
    ("authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l", "YWxhZGRpbjpvcGVuc2VzYW1l"),
    ("Cookie: sessionid=8d7f6e5a4b3c2d1e; csrftoken=Jk29Xm01Zq83Lp47", "8d7f6e5a4b3c2d1e"),
    ("Cookie: sessionid=8d7f6e5a4b3c2d1e; csrftoken=Jk29Xm01Zq83Lp47", "Jk29Xm01Zq83Lp47"),
    ("Set-Cookie: remember_token=rt_77a8b9c0d1; Path=/; HttpOnly", "rt_77a8b9c0d1"),
    ("X-Api-Key: key_5f4e3d2c1b0a", "key_5f4e3d2c1b0a"),
    (f"curl -H 'Authorization: Bearer {JWT}' https://api.example.com", JWT),
    # log lines
    ("2025-01-05 10:00:01 INFO login user=ann password=CorrectHorse9 ok", "CorrectHorse9"),
    (f"DEBUG settings: AWS_SECRET_ACCESS_KEY={AWS_SECRET}", AWS_SECRET),
    (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
    ("WARN retrying with secret=shh-Its4Secret and timeout=30", "shh-Its4Secret"),
    ("db config host=db port=5432 user=app passwd=PgPw2025x dbname=shop", "PgPw2025x"),
    ("export GITHUB_TOKEN=" + GITHUB_PAT, GITHUB_PAT),
    ("Loaded private key:\n" + PEM + "\ndone", PEM_BODY),
    # JSON embedded in text (request bodies, logged dicts)
    ('request body: {"email": "ann@example.com", "password": "p@ss W0rd 99"}', "p@ss W0rd 99"),
    ('{"refresh_token": "rt.Zk39aLm20Qp", "scope": "read"}', "rt.Zk39aLm20Qp"),
    ("{'access_token': 'at-99Xk2Lm3Nn4', 'token_type': 'bearer'}", "at-99Xk2Lm3Nn4"),
    ('{"clientSecret": "Qm9vYmFyQmF6MTIz", "clientId": "web"}', "Qm9vYmFyQmF6MTIz"),
    ('payload={\\"newPassword\\": \\"Spring2025!\\"}', "Spring2025!"),
    ('{"api_key":"' + OPENAI + '"}', OPENAI),
]

# Secrets in JSON trees: values under sensitive keys are replaced whole, whatever their type.
TREE = {
    "exception": {"values": [{"type": "ValueError", "value": f"bad key {OPENAI}", "stacktrace": {"frames": [
        {"function": "login", "vars": {"password": "Sup3rS3cret!", "username": "ann", "attempt": 3,
                                       "token": {"value": "nested-Tk-123456"}, "pin": 1234}},
        {"function": "charge", "vars": {"card": VISA, "amount": 4999, "api_key": None}},
    ]}}]},
    "request": {
        "url": f"https://shop.example.com/checkout?session_token={OPAQUE}",
        "headers": [["Authorization", "Token tk_live_445566778899"], ["Cookie", "a=1; sid=zz99yy88"],
                    ["Accept", "text/html"]],
        "cookies": {"sessionid": "c00k1e-v4lue"},
        "data": {"creditCard": {"number": 5555555555554444, "cvc": "123"}},
    },
    "breadcrumbs": {"values": [
        {"category": "xhr", "data": {"url": f"https://api.example.com/me?access_token={OPAQUE}x", "method": "GET"}},
        {"category": "console", "message": f"Using Stripe key {STRIPE_LIVE}"},
    ]},
    "tags": [{"key": "auth_token", "value": "tag-tok-9988"}, {"key": "browser", "value": "Chrome 120"}],
    "extra": {"DATABASE_URL": "postgres://svc:TreePw123@db:5432/app", "private_key": PEM},
}
TREE_SECRETS = ["Sup3rS3cret!", "nested-Tk-123456", VISA, OPENAI, OPAQUE, "tk_live_445566778899", "zz99yy88",
                "c00k1e-v4lue", "5555555555554444", STRIPE_LIVE, "tag-tok-9988", "TreePw123", PEM_BODY]

ORDINARY = [
    "Order 4111 1111 1111 1112 could not be shipped",
    "Order #1234567890123 shipped on 2025-01-05",
    "Timestamp 1591216985000 is in milliseconds",
    "Request 550e8400-e29b-41d4-a716-446655440000 failed with 502",
    "Deployed commit 9fceb02d0ae598e95dc970b74767f19372d61af8 to production",
    "Upgrade from v2.4.1 to v2.5.0-rc.1 broke the cart",
    "See https://shop.example.com/orders/42?tab=items&page=2 for details",
    "Visit the password reset page to choose a new password",
    "Your session expired after 30 minutes of inactivity",
    "Authorization required to view this page",
    "TypeError: Cannot read properties of undefined (reading 'token')",
    "KeyError: 'api_key'",
    "Invalid API key format",
    "the bearer instrument was endorsed",
    "Contact ann@example.com or call +1 415 555 0100",
    "SELECT * FROM orders WHERE id = 4242",
    "button#checkout.primary > span:nth-child(2)",
    "Riskiest page: /orders/:id/edit (score 87)",
    "sessionUrl=https://app.fullstory.com/ui/TN1/session/6915774531905556",
    "tokenizer.py line 12: unexpected EOF",
    "ssh://git@github.com/acme/shop.git",
    "Amount 4999 cents, 1 item, tax 0.19",
    "IPv4 10.0.0.5 port 5432 unreachable",
    "Bearer auth failed: no header",
    "2025-01-05T10:00:05.123Z ERROR checkout failed",
]


def test_corpus_is_large_enough():
    assert len(SECRETS) + len(TREE_SECRETS) >= 50
    assert len({secret for _, secret in SECRETS}) >= 45


@pytest.mark.parametrize(("text", "secret"), SECRETS)
def test_secret_removed_from_text(text: str, secret: str):
    redacted = redact_text(text)
    assert secret not in redacted
    assert "[redacted:" in redacted
    assert redact_text(redacted) == redacted, "idempotent"


@pytest.mark.parametrize(("text", "secret"), SECRETS)
def test_secret_removed_inside_json_strings(text: str, secret: str):
    """The same text as a delivery carries it: a message deep in a JSON payload."""
    payload = {"data": {"event": {"message": text, "frames": [{"vars": {"line": text}}]}}}
    redacted = redact(payload)
    dumped = json.dumps(redacted)
    assert secret not in dumped and secret not in json.dumps(redacted, ensure_ascii=False)
    assert redacted["data"]["event"]["message"] == redact_text(text)
    assert payload["data"]["event"]["message"] == text, "the input is not changed"


def test_tree_secrets_removed_and_structure_kept():
    original = copy.deepcopy(TREE)
    redacted = redact(TREE)
    dumped = json.dumps(redacted)
    for secret in TREE_SECRETS:
        assert secret not in dumped, secret
    assert original == TREE
    frames = redacted["exception"]["values"][0]["stacktrace"]["frames"]
    assert frames[0]["vars"]["password"] == "[redacted:password]"
    assert frames[0]["vars"]["token"] == "[redacted:token]"
    assert frames[0]["vars"]["username"] == "ann" and frames[0]["vars"]["attempt"] == 3
    assert frames[0]["vars"]["pin"] == 1234
    assert frames[1]["vars"]["api_key"] is None, "nothing to hide: kept"
    assert frames[1]["vars"]["amount"] == 4999
    assert redacted["request"]["headers"][0] == ["Authorization", "[redacted:authorization]"]
    assert redacted["request"]["headers"][1] == ["Cookie", "[redacted:cookie]"]
    assert redacted["request"]["headers"][2] == ["Accept", "text/html"]
    assert redacted["request"]["cookies"] == "[redacted:cookie]"
    assert redacted["tags"][0] == {"key": "auth_token", "value": "[redacted:token]"}
    assert redacted["tags"][1] == {"key": "browser", "value": "Chrome 120"}
    assert redacted["extra"]["DATABASE_URL"] == "postgres://svc:[redacted:password]@db:5432/app"
    assert redact(redacted) == redacted, "idempotent"


def test_keys_and_list_lengths_are_kept_everywhere():
    redacted = redact(TREE)

    def walk(before: Any, after: Any) -> None:
        if isinstance(before, dict) and isinstance(after, dict):
            assert list(before) == list(after)
            for key in before:
                walk(before[key], after[key])
        elif isinstance(before, list) and isinstance(after, list):
            assert len(before) == len(after)
            for left, right in zip(before, after, strict=True):
                walk(left, right)

    walk(TREE, redacted)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_kept_byte_for_byte(text: str):
    assert redact_text(text) == text


def test_ordinary_payload_returned_untouched():
    payload = {"message": ORDINARY, "count": 1591216985000, "nested": {"url": ORDINARY[6], "ok": True, "n": None}}
    assert redact(payload) is payload


def test_fixture_payloads_keep_their_ordinary_content():
    """Real tracker payloads: only the one Rollbar access token and the Sentry cookie values change."""
    fixtures = Path("/work/shared/fixtures/webhooks")
    changed = []
    for path in sorted(fixtures.glob("*/*.json")):
        payload = json.loads(path.read_text())
        if redact(payload) != payload:
            changed.append(str(path.relative_to(fixtures)))
    assert changed == ["rollbar/new_item.zulip-fixture.json", "sentry/raw_event.python_zero_division.sdk.json"]
    rollbar = json.loads((fixtures / "rollbar/new_item.zulip-fixture.json").read_text())
    metadata = redact(rollbar)["data"]["item"]["last_occurrence"]["metadata"]
    assert metadata["access_token"] == "[redacted:token]"
    assert metadata["timestamp_ms"] == 1515470048909


def test_non_json_values_pass_through():
    assert redact(None) is None
    assert redact(3.5) == 3.5
    assert redact(True) is True
    assert redact(4111111111111111) == "[redacted:card]"
    assert redact(4111111111111112) == 4111111111111112


@pytest.mark.parametrize(("key", "kind"), [
    ("password", "password"), ("newPassword", "password"), ("DB_PASSWORD", "password"), ("X-Api-Key", "api_key"),
    ("Authorization", "authorization"), ("Set-Cookie", "cookie"), ("sessionid", "session"),
    ("csrfmiddlewaretoken", "session"), ("access_token", "token"), ("client_secret", "secret"),
    ("aws_secret_access_key", "secret"), ("sessionUrl", ""), ("token_expires_at", ""), ("password_reset_url", ""),
    ("tokenizer", ""), ("key", ""), ("author", ""), ("user_id", ""),
])
def test_sensitive_keys(key: str, kind: str):
    assert sensitive_kind(key) == kind
