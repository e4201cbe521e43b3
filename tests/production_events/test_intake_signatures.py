"""Signature schemes, checked against the vendors' own vectors (SIGNATURE.md of each fixture folder)."""

from __future__ import annotations

import json

import pytest

from apps.production_events import signatures
from apps.production_events.signatures import SignatureError
from tests.production_events.intake_deliveries import FIXTURES, basic_auth

NOW = 1_712_000_000.0


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def test_sentry_signature_matches_the_documented_vectors():
    body = (FIXTURES / "sentry/issue.created.json").read_bytes()
    compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert signatures.sentry_headers("my-client-secret", body, 0)["Sentry-Hook-Signature"] == (
        "4acb56ac2cef4aa19117e2b6f26cc17d0673480b02b5cfa80af4e79bc1fd891a")
    assert signatures.sentry_headers("my-client-secret", compact, 0)["Sentry-Hook-Signature"] == (
        "1f9ee2993f8768cb1ca5d5bb04d474f00ef54bad3ff38ab839047e853f98b9c6")


def test_sentry_accepts_either_header_name_and_no_other_body():
    body = b'{"action":"created"}'
    digest = signatures.sentry_headers("s3cret", body, 0)["Sentry-Hook-Signature"]
    signatures.verify("sentry", ["s3cret"], {"sentry-app-signature": digest}, body, {}, NOW)
    with pytest.raises(SignatureError) as refused:
        signatures.verify("sentry", ["s3cret"], {"sentry-hook-signature": digest}, body + b" ", {}, NOW)
    assert refused.value.code == "invalid_signature"


def test_fullstory_signature_matches_the_documented_vector_and_window():
    body = (FIXTURES / "fullstory/v1.metric.alert.json").read_bytes()
    header = "o:o-1ENq-na1,t:1712000000,v:XvcKK/5bV4VwrR0SehGKavcM/HkGzf86OI0tNZCDcX8="
    assert signatures.fullstory_headers("fs-secret", body, 1712000000, "o-1ENq-na1")["Fullstory-Signature"] == header
    signatures.verify("fullstory", ["fs-secret"], {"fullstory-signature": header}, body, {}, NOW + 299)
    with pytest.raises(SignatureError) as stale:
        signatures.verify("fullstory", ["fs-secret"], {"fullstory-signature": header}, body, {}, NOW + 301)
    assert stale.value.code == "expired_signature"
    with pytest.raises(SignatureError) as wrong_org:
        signatures.verify("fullstory", ["fs-secret"], {"fullstory-signature": header.replace("na1", "na2")}, body,
                          {}, NOW)
    assert wrong_org.value.code == "invalid_signature"


def test_generic_signature_covers_timestamp_and_body():
    body = b'{"message":"boom"}'
    headers = _lower(signatures.generic_headers("gen-secret", body, int(NOW)))
    signatures.verify("generic", ["gen-secret"], headers, body, {}, NOW)
    moved = {**headers, "x-argus-timestamp": str(int(NOW) + 1)}
    with pytest.raises(SignatureError) as refused:
        signatures.verify("generic", ["gen-secret"], moved, body, {}, NOW)
    assert refused.value.code == "invalid_signature"
    with pytest.raises(SignatureError) as expired:
        signatures.verify("generic", ["gen-secret"], headers, body, {}, NOW + 600)
    assert expired.value.code == "expired_signature"


@pytest.mark.parametrize("way", ["bearer", "basic", "header", "query"])
def test_token_sources_take_the_secret_four_ways(way):
    headers, query = {}, {}
    if way == "bearer":
        headers["authorization"] = "Bearer tok-123"
    elif way == "basic":
        headers["authorization"] = basic_auth("tok-123")
    elif way == "header":
        headers["x-argus-token"] = "tok-123"
    else:
        query["token"] = "tok-123"
    signatures.verify("rollbar", ["tok-123"], headers, b"{}", query, NOW)
    with pytest.raises(SignatureError) as refused:
        signatures.verify("rollbar", ["tok-999"], headers, b"{}", query, NOW)
    assert refused.value.code == "invalid_signature"


def test_the_previous_secret_is_one_of_the_accepted_ones():
    signatures.verify("datadog", ["new", "old"], {"authorization": "Bearer old"}, b"{}", {}, NOW)
    with pytest.raises(SignatureError):
        signatures.verify("datadog", ["new"], {"authorization": "Bearer old"}, b"{}", {}, NOW)


@pytest.mark.parametrize("source", ["sentry", "fullstory", "generic", "datadog", "bugsnag"])
def test_no_credentials_is_missing_signature(source):
    with pytest.raises(SignatureError) as refused:
        signatures.verify(source, ["secret"], {"content-type": "application/json"}, b"{}", {}, NOW)
    assert refused.value.code == "missing_signature"
    assert "secret" not in refused.value.message.replace("secret as", "").replace("'s secret", "")
