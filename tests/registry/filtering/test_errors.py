"""Every error of the filter and lookup APIs is JSON {"code", "detail"} with a stable code."""

from __future__ import annotations

import pytest

from registry.apikeys.services import api_key_revoke
from tests.registry.apikeys import builders
from tests.registry.filtering.conftest import post


def filter_error(client, body, *, raw: str | None = None) -> tuple[int, dict]:
    if raw is not None:
        response = client.post("/api/v1/filter", raw, content_type="application/json")
        return response.status_code, response.json()
    return post(client, "/api/v1/filter", body)


def test_malformed_json_is_malformed_json(api_carol):
    status, body = filter_error(api_carol, None, raw='{"purpose": "train-ai", "documents": [')
    assert status == 400 and body["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "train-ai"}, "documents"),
        ({"documents": []}, "purpose"),
        ({"purpose": "train-ai", "documents": "text"}, "documents"),
        ({"purpose": "train-ai", "documents": [{"id": "x"}]}, "documents"),
        ({"purpose": "train-ai", "documents": [{"text": 5}]}, "documents"),
        ({"purpose": "train-ai", "documents": [{"text": "a", "id": 5}]}, "documents"),
        ({"purpose": "train-ai", "documents": [{"text": "a", "kind": "poetry"}]}, "documents"),
        ({"purpose": 5, "documents": []}, "purpose"),
        ([1, 2], "non_field_errors"),
    ],
)
def test_wrong_types_are_invalid_with_per_field_errors(api_carol, body, field):
    status, answer = filter_error(api_carol, body)
    assert status == 400 and answer["code"] == "invalid"
    assert field in answer["errors"]


def test_per_field_errors_name_the_document(api_carol):
    _, answer = filter_error(api_carol, {"purpose": "train-ai", "documents": [{"text": "a"}, {"text": None}]})
    assert answer["errors"]["documents"]["1"] == {"text": ["This field may not be null."]}


def test_an_oversize_batch_is_refused_with_the_limit(api_carol, settings):
    settings.REGISTRY = {**settings.REGISTRY, "FILTER_MAX_BATCH": 3}
    status, body = filter_error(api_carol, {"purpose": "train-ai", "documents": [{"text": "a"}] * 4})
    assert status == 413 and body["code"] == "batch_too_large"
    assert body["detail"] == "The call has 4 documents; the limit is 3 per call. Split the batch."


def test_the_default_batch_limit_is_a_thousand(api_carol):
    ok, _ = filter_error(api_carol, {"purpose": "train-ai", "documents": [{"text": ""}] * 1000})
    status, body = filter_error(api_carol, {"purpose": "train-ai", "documents": [{"text": ""}] * 1001})
    assert (ok, status, body["code"]) == (200, 413, "batch_too_large")


def test_an_unknown_purpose_lists_the_known_ones(api_carol):
    status, body = filter_error(api_carol, {"purpose": "train-robots", "documents": []})
    assert status == 400 and body["code"] == "unknown_purpose"
    assert body["detail"] == (
        "Unknown purpose 'train-robots'; the purposes are: train-ai, train-genai, ai-use, search."
    )


def test_a_document_over_the_text_limit_is_named_with_the_limit(api_carol, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_TEXT_BYTES": 1024}
    documents = [{"text": "short"}, {"text": "x" * 2048}]
    status, body = filter_error(api_carol, {"purpose": "train-ai", "documents": documents})
    assert status == 413 and body["code"] == "document_too_large"
    assert body["detail"] == "documents[1].text is 2 KB; the limit is 1 KB per document."


def test_a_body_over_the_request_limit_is_refused_before_it_is_read(api_carol, settings):
    settings.REGISTRY = {**settings.REGISTRY, "API_MAX_BODY_BYTES": 100}
    status, body = filter_error(api_carol, {"purpose": "train-ai", "documents": [{"text": "x" * 200}]})
    assert status == 413 and body["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "document",
    [
        {"text": "a\x00b\x00" * 100},
        {"text": "lone \ud800 surrogate", "id": "\udfff"},
        {"text": ""},
        {"text": "x", "url": "http://[::1", "repository": "not a url at all"},
        {"text": "x", "url": "https://example.org:99999/x"},
        {"text": "x", "id": "", "url": "", "repository": "", "licence": "", "language": "", "kind": ""},
        {
            "text": "x",
            "id": None,
            "url": None,
            "repository": None,
            "licence": None,
            "language": None,
            "kind": None,
        },
        {"text": "x", "language": "klingon"},
    ],
)
def test_odd_but_well_typed_documents_are_answered_not_crashed_on(api_carol, document):
    status, body = filter_error(api_carol, {"purpose": "ai-use", "documents": [document]})
    assert status == 200, body
    assert body["results"][0]["decision"] == "allow"


def test_huge_numbers_are_wrong_types_not_server_errors(api_carol):
    status, body = filter_error(api_carol, None, raw='{"purpose": 1e999, "documents": [{"text": 10e400}]}')
    assert status == 400 and body["code"] in {"invalid", "malformed_json"}


def test_an_expired_or_revoked_key_is_refused(carol, acme, client):
    key, full = builders.api_key(user=carol, organisation=acme, name="old")
    builders.expire(key)
    response = client.post("/api/v1/filter", {}, content_type="application/json", **builders.bearer(full))
    assert (response.status_code, response.json()["code"]) == (401, "expired_key")
    key, full = builders.api_key(user=carol, organisation=acme, name="gone")
    api_key_revoke(key=key, revoked_by=carol)
    response = client.post("/api/v1/filter", {}, content_type="application/json", **builders.bearer(full))
    assert (response.status_code, response.json()["code"]) == (401, "revoked_key")


def test_an_author_key_cannot_filter(alice, client):
    _, full = builders.api_key(user=alice, scope="author", name="uploads")
    response = client.post("/api/v1/filter", {}, content_type="application/json", **builders.bearer(full))
    assert (response.status_code, response.json()["code"]) == (403, "insufficient_scope")


def test_no_key_is_not_authenticated(client, db):
    response = client.post("/api/v1/filter", {}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_lookup_errors_have_the_same_shape(api_carol, settings):
    settings.REGISTRY = {**settings.REGISTRY, "LOOKUP_MAX_BATCH": 2}
    status, body = post(api_carol, "/api/v1/lookup", {"items": ["a.org", "b.org", "c.org"]})
    assert (status, body["code"]) == (413, "batch_too_large")
    status, body = post(api_carol, "/api/v1/lookup", {"items": ["a.org"], "purpose": "nope"})
    assert (status, body["code"]) == (400, "unknown_purpose")
    status, body = post(api_carol, "/api/v1/lookup", {"items": [5]})
    assert (status, body["code"]) == (400, "invalid")
