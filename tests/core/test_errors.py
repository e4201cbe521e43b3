"""One error envelope for every API error: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import error_of


@pytest.fixture
def client(alpha, api_client):
    return api_client(alpha, user=alpha.admin)


@pytest.mark.parametrize("body", ['{"name": "x",', "not json at all", '{"name": "x"}}', "\xff"])
def test_malformed_json_is_a_400_malformed_request(body, client):
    response = client.post("/api/v1/projects", data=body, content_type="application/json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "malformed_request"
    assert error["details"] == {}


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/projects", {"name": [1, 2, 3], "base_url": "https://ok.example.com/"}, "name"),
    ("/api/v1/projects", {"name": {"x": 1}, "base_url": "https://ok.example.com/"}, "name"),
    ("/api/v1/projects", {"name": "Ok", "base_url": "not a url"}, "base_url"),
    ("/api/v1/projects", {"name": "Ok", "base_url": 123}, "base_url"),
    ("/api/v1/projects", {"name": "Ok", "base_url": "https://ok.example.com/", "environments": {"qa": "https://q.x/"}},
     "environments"),
    ("/api/v1/projects", {"name": "Ok", "base_url": "https://ok.example.com/", "environments": ["dev"]},
     "environments"),
    ("/api/v1/projects", {"name": "Ok", "base_url": "https://ok.example.com/", "slug": "Not a slug!"}, "slug"),
    ("/api/v1/projects", {"base_url": "https://ok.example.com/"}, "name"),
    ("/api/v1/api-keys", {"name": "k", "scopes": ["root"]}, "scopes"),
    ("/api/v1/api-keys", {"name": "k", "scopes": []}, "scopes"),
    ("/api/v1/api-keys", {"name": "k", "scopes": "read"}, "scopes"),
    ("/api/v1/api-keys", {"name": "k", "scopes": ["read"], "expires_at": "tomorrow"}, "expires_at"),
    ("/api/v1/invitations", {"email": "not-an-email"}, "email"),
    ("/api/v1/invitations", {"email": "a@example.test", "role": "owner"}, "role"),
])
def test_wrong_types_are_a_400_validation_error_with_field_details(path, body, field, client):
    response = client.post(path, body, format="json")

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {field}
    assert isinstance(error["details"][field], list | dict) and error["details"][field]
    assert error["message"].startswith(f"{field}: ")


def test_organization_update_validation(client):
    response = client.patch("/api/v1/organization", {"ai_daily_budget_usd": -1, "ai_opt_out": "maybe"},
                            format="json")

    assert response.status_code == 400
    assert set(error_of(response)["details"]) == {"ai_daily_budget_usd", "ai_opt_out"}


def test_body_must_be_json(client):
    response = client.post("/api/v1/projects", data="name=x", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/projects/x/y/z", "/api/v1/", "/api/v2/projects"])
def test_unknown_api_url_is_a_404_envelope(path, client):
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/v1/projects/123", "/api/v1/projects/not-a-uuid/archive",
                                  "/api/v1/members/abc", "/api/v1/api-keys/1", "/api/v1/invitations/%00"])
def test_non_uuid_id_is_a_404_envelope(path, client):
    response = client.get(path) if "archive" not in path else client.post(path)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_unknown_uuid_is_a_404_envelope(client):
    response = client.get("/api/v1/projects/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "Not found.", "details": {}}


def test_method_not_allowed_is_a_405_envelope(client):
    response = client.put("/api/v1/projects", {}, format="json")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_unauthenticated_is_a_401_envelope(alpha, api_client):
    response = api_client(alpha).get("/api/v1/projects")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_business_rule_is_an_envelope_with_its_code(client):
    first = client.post("/api/v1/projects", {"name": "A", "slug": "dup", "base_url": "https://a.example.com/"},
                        format="json")
    second = client.post("/api/v1/projects", {"name": "B", "slug": "dup", "base_url": "https://b.example.com/"},
                         format="json")

    assert first.status_code == 201
    assert second.status_code == 409
    assert error_of(second) == {"code": "slug_taken", "message": "A project with the slug “dup” exists.",
                                "details": {"slug": ["This slug is taken."]}}


def test_unknown_organization_host_is_not_found(db, session_orgs):
    page = Client(HTTP_HOST="nope.localhost").get("/")
    api = Client(HTTP_HOST="nope.localhost").get("/api/v1/me")

    assert page.status_code == 404 and "text/html" in page["Content-Type"]
    assert api.status_code == 404
    assert error_of(api)["code"] == "not_found"


def test_disallowed_host_is_refused(db):
    response = Client(HTTP_HOST="evil.example.com").get("/api/v1/me")

    assert response.status_code == 404
    assert b"alpha" not in response.content
