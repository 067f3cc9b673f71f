"""The filter, lookup and export answers match their OpenAPI description, reasons included
(a schema-driven fuzzer rarely produces a matching document, so the rich answers are checked here)."""

from __future__ import annotations

import pytest
import schemathesis

from registry.wsgi import application
from tests.registry.apikeys import builders
from tests.registry.filtering.conftest import PROSE


@pytest.fixture
def schema(db):
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


def test_matching_answers_fit_the_schema(schema, alice, carol, acme, register):
    work = register(alice, PROSE, locations=["github.com/alice/proj"],
                    preferences={"train-ai": "no", "attribution": "yes"})  # fmt: skip
    _, key = builders.api_key(user=carol, organisation=acme, scope="filter", name="schema")
    headers = {"Authorization": f"Bearer {key}"}
    documents = [{"text": PROSE, "url": "github.com/alice/proj/x", "id": "a"}, {"text": PROSE[:300]}]
    calls = [
        ("/api/v1/filter", "POST", {"body": {"purpose": "train-ai", "documents": documents}}),
        (
            "/api/v1/lookup",
            "POST",
            {"body": {"purpose": "train-ai", "items": ["github.com/alice/proj/x", "x y"]}},
        ),
        ("/api/v1/lookup", "POST", {"body": {"items": ["github.com/alice/proj/x"]}}),
        (
            "/api/v1/works/{public_id}/preferences/export",
            "GET",
            {"path_parameters": {"public_id": work.public_id}},
        ),
        ("/api/v1/filter", "POST", {"body": {"purpose": "nope", "documents": []}}),
    ]
    for path, method, kwargs in calls:
        response = schema[path][method].Case(headers=headers, **kwargs).call_and_validate()
        assert response.status_code in (200, 400)
    assert response.json()["code"] == "unknown_purpose"
