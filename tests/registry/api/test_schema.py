"""The OpenAPI schema and its documentation pages, which must work offline."""

import re

import yaml
from django.contrib.staticfiles import finders
from django.urls import reverse
from drf_spectacular.validation import validate_schema

from registry.api.errors import ERRORS


def _schema(client) -> dict:
    response = client.get(reverse("api:schema"))
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_is_valid_openapi_3_with_the_api_key_scheme(client, db):
    schema = _schema(client)
    validate_schema(schema)  # raises on anything OpenAPI 3.0 forbids
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "rk_<prefix>_<secret>",
        "description": schema["components"]["securitySchemes"]["ApiKeyAuth"]["description"],
    }
    me = schema["paths"]["/api/v1/me"]["get"]
    assert me["security"] == [{"ApiKeyAuth": []}]


def test_the_schema_lists_every_error_code_and_documents_error_responses(client, db):
    schema = _schema(client)
    for code in ERRORS:
        assert f"`{code}`" in schema["info"]["description"]
    assert schema["components"]["schemas"]["Error"]["properties"]["code"]["enum"] == [str(c) for c in ERRORS]
    responses = schema["paths"]["/api/v1/me"]["get"]["responses"]
    assert {"200", "401", "403", "429"} <= set(responses)
    assert responses["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_schema_does_not_describe_the_catch_all_404(client, db):
    # The catch-all is a regex route; drf-spectacular would show it as a path with a regex tail.
    paths = _schema(client)["paths"]
    assert "/api/v1/me" in paths
    assert not any(".*" in path or path.endswith("$") for path in paths)


def _external_references(html: str) -> list[str]:
    return [
        url
        for url in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        if url.startswith(("http:", "https:", "//"))
    ]


def test_the_docs_page_loads_nothing_from_another_site(client, db):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert _external_references(html) == []
    # No CDN host named anywhere (a nonce is random text, so match a host name, not a substring).
    assert not re.search(r"cdn[\w.-]*\.(?:com|net|org|io)", html, re.I)
    scripts = re.findall(r"""src=["'](/static/[^"']+)["']""", html)
    assert scripts, "Swagger UI's scripts should come from our static files"
    for path in scripts:
        assert finders.find(path.removeprefix("/static/")), f"{path} is not in our static files"
