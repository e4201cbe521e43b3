"""The OpenAPI schema: builds without warnings, is valid OpenAPI, documents every path, served offline."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import yaml
from django.core.management import call_command
from openapi_spec_validator import validate

from argus import api_urls


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("openapi") / "schema.yaml"
    # --fail-on-warn turns any drf-spectacular warning or error into a failure of this command.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_schema_is_valid_openapi(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Argus API"


def test_every_api_path_is_documented(schema):
    expected = {"/api/v1/" + re.sub(r"<\w+:(\w+)>", r"{\1}", str(pattern.pattern)) for pattern in api_urls.urlpatterns}

    assert expected <= set(schema["paths"])
    for pattern in api_urls.urlpatterns:
        view_class = pattern.callback.view_class
        path = "/api/v1/" + re.sub(r"<\w+:(\w+)>", r"{\1}", str(pattern.pattern))
        methods = {m for m in view_class.http_method_names if m not in ("options", "head") and hasattr(view_class, m)}
        assert set(schema["paths"][path]) == methods, path


def test_operations_document_errors_with_the_envelope(schema):
    assert set(schema["components"]["schemas"]["ErrorDetail"]["properties"]) == {"code", "message", "details"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation["operationId"], (method, path)
            assert "401" in operation["responses"], (method, path)
            assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorEnvelope"}


def test_security_schemes(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {"type": "http", "scheme": "bearer", "bearerFormat": "argus_<prefix>_<secret>"}
    assert schemes["Session"]["in"] == "cookie"


class _AssetCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.assets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.assets.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            self.assets.append(attributes["href"])


def test_schema_endpoint_answers_on_a_tenant_host(alpha, api_client):
    response = api_client(alpha).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert "/api/v1/projects" in response.content.decode()


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_only_local_assets(path, alpha, api_client):
    client = api_client(alpha)
    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    collector = _AssetCollector()
    collector.feed(html)
    assert collector.assets, "no script or stylesheet found"
    for asset in collector.assets:
        assert not re.match(r"^(https?:)?//", asset), asset
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert any(asset.startswith("/static/") for asset in collector.assets)
