"""POST /api/v1/lookup: what applies at URLs, repositories and domains, before any download."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.registry.filtering.conftest import PROSE, post


def lookup(client, items, purpose=None) -> list[dict]:
    body = {"items": items} if purpose is None else {"items": items, "purpose": purpose}
    status, answer = post(client, "/api/v1/lookup", body)
    assert status == 200, answer
    assert answer["purpose"] == purpose
    return answer["results"]


def test_a_file_url_finds_the_repository_it_is_in_and_keeps_the_item_order(alice, register, api_carol):
    work = register(alice, PROSE, title="proj", locations=["https://github.com/alice/proj.git"],
                    preferences={"train-ai": "no"})  # fmt: skip

    results = lookup(
        api_carol,
        [
            "https://example.com/nothing",
            "https://github.com/alice/proj/blob/main/x.py",
            "github.com/bob/other",
        ],
        purpose="train-genai",
    )

    assert [r["index"] for r in results] == [0, 1, 2]
    assert [r["decision"] for r in results] == ["allow", "exclude", "allow"]
    assert results[1]["normalised"] == "github.com/alice/proj/blob/main/x.py"
    [found] = results[1]["works"]
    assert found["work"]["id"] == work.public_id
    assert found["location"] == "github.com/alice/proj"
    assert found["decision"] == "exclude"
    assert found["preferences"]["train-genai"]["value"] == "no"
    assert found["preferences"]["search"] == {"value": "unset", "statement": "No preference stated."}
    assert results[0]["works"] == [] and results[2]["works"] == []


def test_a_registered_domain_applies_to_every_page_on_it(alice, register, api_carol):
    register(alice, PROSE, locations=["https://www.alice.example.org/"], preferences={"search": "no"})
    [result] = lookup(api_carol, ["http://alice.example.org/blog/2024/post.html?x=1"], purpose="search")
    assert result["decision"] == "exclude"
    assert result["works"][0]["location"] == "alice.example.org"


def test_the_most_specific_location_is_named(alice, register, api_carol):
    register(alice, PROSE, locations=["alice.example.org", "alice.example.org/blog"])
    [result] = lookup(api_carol, ["alice.example.org/blog/post"])
    assert [w["location"] for w in result["works"]] == ["alice.example.org/blog"]
    assert result["decision"] is None and result["works"][0]["decision"] is None


def test_an_item_that_is_not_a_location_gets_an_error_of_its_own(api_carol):
    results = lookup(api_carol, ["http://exa mple", "", "example.org"])
    assert results[0]["error"] == "'http://exa mple' is not a valid URL or domain."
    assert results[0]["normalised"] is None and results[0]["works"] == []
    assert results[1]["error"] is not None
    assert (results[2]["error"], results[2]["normalised"]) == (None, "example.org")


def test_the_callers_own_works_are_left_out(bob, register, api_bob):
    register(bob, PROSE, locations=["bob.example.org"], preferences={"train-ai": "no"})
    [result] = lookup(api_bob, ["bob.example.org/x"], purpose="train-ai")
    assert (result["decision"], result["works"]) == ("allow", [])


def test_ten_thousand_items_are_answered_in_a_few_queries_and_one_more_is_refused(alice, register, api_carol):
    register(alice, PROSE, locations=["github.com/alice/proj"], preferences={"train-ai": "no"})
    items = [f"https://github.com/alice/proj/blob/main/file{i}.py" for i in range(5000)]
    items += [f"https://site{i}.example.net/a/b" for i in range(5000)]

    with CaptureQueriesContext(connection) as queries:
        results = lookup(api_carol, items, purpose="train-ai")

    assert len(results) == 10_000
    assert [r["decision"] for r in results[:5000]] == ["exclude"] * 5000
    assert {r["decision"] for r in results[5000:]} == {"allow"}
    assert len(queries) <= 30  # key lookup, Location chunks, works, preferences: never per item
    status, body = post(api_carol, "/api/v1/lookup", {"items": items + ["one.more.org"]})
    assert (status, body["code"]) == (413, "batch_too_large")
    assert "the limit is 10000 per call" in body["detail"]
