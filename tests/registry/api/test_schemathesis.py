"""The API does what its OpenAPI schema says, checked by schemathesis on every operation.

Issue 4's acceptance: "schemathesis run against the OpenAPI schema finds no 5xx and no schema
violation". The schema is read from the application itself (`/api/v1/schema/` through the WSGI
app, in-process), so whatever endpoint is added later is tested here without a line changed.
Each operation gets generated requests -- valid and invalid bodies, query strings and path
parameters -- sent with a real API key of the scope the operation needs, against a registry
that holds a fingerprinted work, so the filter and lookup endpoints really find matches.

The checks: no 5xx (`not_a_server_error`), the body matches the declared schema for its status
(`response_schema_conformance`), the status is one the operation declares
(`status_code_conformance`), and so are the content type and headers. No operation is skipped.

Examples are bounded and derandomised (the same inputs on every run, so a failure reproduces);
`SCHEMATHESIS_MAX_EXAMPLES` raises the count for a longer hunt.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.wsgi import application
from tests.registry.apikeys import builders

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
]
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "30"))

# Read from the app at collection: spectacular builds it from the URL conf, with no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)

# The key scope an operation needs, by its tag; anything else (e.g. /me) takes a filter key.
AUTHOR_TAGS = {"works", "preferences"}

REGISTERED = '''"""Moving averages over a stream, registered by alice."""


def moving_average(values, window):
    """The mean of each run of `window` consecutive values."""
    if window <= 0:
        raise ValueError("window must be positive")
    total = 0.0
    averages = []
    for index, value in enumerate(values):
        total += value
        if index >= window:
            total -= values[index - window]
        if index >= window - 1:
            averages.append(total / window)
    return averages


def exponential_average(values, alpha=0.5):
    """Exponentially weighted moving average, oldest value first."""
    if not 0 < alpha <= 1:
        raise ValueError("alpha must be in (0, 1]")
    result = []
    current = None
    for value in values:
        current = value if current is None else alpha * value + (1 - alpha) * current
        result.append(current)
    return result
'''


@pytest.fixture
def registry_with_a_work(alice):
    """alice's work, fingerprinted and opted out of generative-AI training, with attribution."""
    from registry.works import services
    from registry.works.models import Document, Work

    work = services.work_register(
        owner=alice,
        title="Moving averages",
        kind=Work.Kind.CODE,
        source=Work.Source.TEXT,
        prepared=services.prepare_text(text=REGISTERED, name="averages.py"),
        licence="MIT",
        attribution="Alice Example, moving averages",
        locations=["https://github.com/alice/averages"],
        preferences={"train-genai": "no", "attribution": "yes"},
    )
    # In the `db` fixture's transaction the on-commit fingerprint task never runs: run it here.
    for document in work.documents.all():
        assert services.document_fingerprint(document_id=document.pk) == Document.State.READY
    return work


@pytest.fixture
def keys(alice, carol, registry_with_a_work):
    """carol's organisation key (filter scope) and alice's personal author key, both unthrottled
    for the test (a 429 is in the schema, but it would stop the run from reaching the endpoint)."""
    org = builders.organisation(owner=carol, name="Acme Data")
    _, filter_key = builders.api_key(user=carol, organisation=org, scope="filter", name="schemathesis")
    _, author_key = builders.api_key(user=alice, scope="author", name="schemathesis")
    from registry.apikeys.models import ApiKey

    ApiKey.objects.update(rate_limit_per_minute=1_000_000)
    return {"filter": filter_key, "author": author_key}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_as_its_schema_says(case, keys):
    scope = "author" if AUTHOR_TAGS & set(case.operation.tags or ()) else "filter"
    case.call_and_validate(headers={"Authorization": f"Bearer {keys[scope]}"}, checks=CHECKS)


# Generated texts almost never copy alice's work, so the richest answers -- a match with its
# reasons and evidence, a location with its works -- are checked here with chosen bodies.
def test_a_filter_answer_with_a_match_and_its_reasons_conforms_to_the_schema(keys):
    case = schema["/api/v1/filter"]["POST"].Case(
        body={
            "purpose": "train-genai",
            "documents": [
                {"id": "copy", "text": REGISTERED, "url": "https://github.com/alice/averages/blob/main/a.py"},
                {"id": "other", "text": "print('nothing registered looks like this line')\n"},
            ],
        }
    )
    response = case.call_and_validate(headers={"Authorization": f"Bearer {keys['filter']}"}, checks=CHECKS)
    results = response.json()["results"]
    assert [r["decision"] for r in results] == ["exclude", "allow"]
    assert {m["type"] for m in results[0]["reasons"][0]["matches"]} >= {"exact", "location"}


def test_a_lookup_answer_with_a_registered_location_conforms_to_the_schema(keys):
    case = schema["/api/v1/lookup"]["POST"].Case(
        body={
            "items": ["https://github.com/alice/averages/tree/main", "not a url at all"],
            "purpose": "train-ai",
        }
    )
    response = case.call_and_validate(headers={"Authorization": f"Bearer {keys['filter']}"}, checks=CHECKS)
    found, bad = response.json()["results"]
    assert [w["work"]["title"] for w in found["works"]] == ["Moving averages"]
    assert bad["error"]
