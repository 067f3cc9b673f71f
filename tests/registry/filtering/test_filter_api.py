"""POST /api/v1/filter: one decision per document, with the reasons, and never any registered text."""

from __future__ import annotations

import json

import pytest

from registry.apikeys.models import Membership
from registry.preferences.services import preference_set
from tests.registry.filtering.conftest import BOB_PROSE, PROSE, TEXTWRAP, UNRELATED, filter_one, post

OTHER_CODE = "\n".join(
    f"def handler_{i}(request, context):\n    value = request.get('field_{i}', {i})\n"
    f"    return context.render(value * {i})\n"
    for i in range(10)
)


def test_a_verbatim_copy_is_excluded_when_the_author_said_no_to_genai_training(alice, register, api_carol):
    work = register(alice, PROSE, title="The ledger", preferences={"train-genai": "no"},
                    licence="CC-BY-4.0", attribution="The ledger, by Alice Example")  # fmt: skip

    result = filter_one(api_carol, text=PROSE, id="doc-1")

    assert (result["index"], result["id"], result["decision"]) == (0, "doc-1", "exclude")
    [reason] = result["reasons"]
    assert reason["work"] == {
        "id": work.public_id,
        "title": "The ledger",
        "owner": "Alice Example",
        "licence": "CC-BY-4.0",
        "attribution": "The ledger, by Alice Example",
    }
    assert reason["decision"] == "exclude"
    assert reason["preference"]["key"] == "train-genai"
    assert reason["preference"]["value"] == "no"
    assert reason["preference"]["statement"].startswith("Stated 'no' for this work")
    [match] = reason["matches"]
    assert (match["type"], match["scope"], match["verified"]) == ("exact", "document", 1.0)
    assert match["lines"] == [[1, len(PROSE.splitlines())]]


def test_a_snippet_inside_other_code_is_reported_with_its_line_ranges(alice, register, api_carol):
    register(
        alice, TEXTWRAP, title="textwrap", kind="code", path="textwrap.py", preferences={"train-ai": "no"}
    )
    copied = TEXTWRAP.splitlines()[300:315]
    before = OTHER_CODE.splitlines()
    document = "\n".join(before + copied + before) + "\n"
    first = len(before) + 1

    result = filter_one(api_carol, text=document, url="https://example.com/app/views.py")

    assert result["decision"] == "exclude"
    [reason] = result["reasons"]
    [match] = reason["matches"]
    assert (match["type"], match["scope"]) == ("snippet", "snippet")
    [(start, end)] = match["lines"]
    assert abs(start - first) <= 1 and abs(end - (first + 14)) <= 1
    assert 0 < match["verified"] <= 1


def test_a_document_under_a_registered_repository_follows_its_location_rule(alice, register, api_carol):
    register(alice, PROSE, title="proj", locations=["https://github.com/alice/proj"],
             preferences={"train-ai": "no"})  # fmt: skip

    result = filter_one(api_carol, text=UNRELATED, url="https://github.com/alice/proj/blob/main/docs/bees.md")

    assert result["decision"] == "exclude"
    [reason] = result["reasons"]
    assert reason["matches"] == [
        {
            "type": "location",
            "scope": "location",
            "estimated": None,
            "verified": None,
            "lines": [],
            "matched_chars": 0,
            "location": "github.com/alice/proj",
        }
    ]


def test_a_registered_domain_covers_the_repository_field_too(alice, register, api_carol):
    register(alice, PROSE, locations=["alice.example.org"], preferences={"search": "no"})
    result = filter_one(
        api_carol, "search", text=UNRELATED, repository="https://alice.example.org/code/x.git"
    )
    assert result["decision"] == "exclude"
    assert result["reasons"][0]["matches"][0]["location"] == "alice.example.org"


def test_the_authors_default_applies_to_a_work_without_its_own_statement(alice, register, api_carol):
    register(alice, PROSE)
    preference_set(owner=alice, values={"train-genai": "no"})

    result = filter_one(api_carol, text=PROSE)

    assert result["decision"] == "exclude"
    assert result["reasons"][0]["preference"]["statement"].startswith("The owner's default 'no'")


def test_a_revoked_refusal_allows_on_the_very_next_call(alice, register, api_carol):
    work = register(alice, PROSE, preferences={"train-genai": "no"})
    assert filter_one(api_carol, text=PROSE)["decision"] == "exclude"

    preference_set(owner=alice, work=work, values={"train-genai": "yes"})

    result = filter_one(api_carol, text=PROSE)
    assert result["decision"] == "allow"
    assert result["reasons"][0]["preference"]["value"] == "yes"


def test_the_callers_own_work_does_not_count_against_them(bob, register, api_bob):
    register(bob, BOB_PROSE, preferences={"train-ai": "no"})
    result = filter_one(api_bob, text=BOB_PROSE)
    assert result == {"index": 0, "id": None, "decision": "allow", "reasons": []}


def test_works_of_the_key_organisations_members_are_the_callers_own(bob, acme, register, api_carol):
    register(bob, BOB_PROSE, preferences={"train-ai": "no"})
    assert filter_one(api_carol, text=BOB_PROSE)["decision"] == "exclude"
    Membership.objects.create(user=bob, organisation=acme)
    assert filter_one(api_carol, text=BOB_PROSE)["decision"] == "allow"


def test_attribution_required_gives_attribute_with_the_attribution_text(alice, register, api_carol):
    register(alice, PROSE, attribution="From The Ledger by Alice Example (CC BY 4.0)",
             preferences={"train-genai": "yes", "attribution": "yes"})  # fmt: skip

    result = filter_one(api_carol, text=PROSE)

    assert result["decision"] == "attribute"
    [reason] = result["reasons"]
    assert reason["attribution_required"] is True
    assert reason["work"]["attribution"] == "From The Ledger by Alice Example (CC BY 4.0)"
    assert reason["preference"]["key"] == "attribution"


def test_a_no_on_ai_training_excludes_generative_ai_training_too(alice, register, api_carol):
    register(alice, PROSE, preferences={"train-ai": "no"})
    result = filter_one(api_carol, "train-genai", text=PROSE)
    assert result["decision"] == "exclude"
    assert result["reasons"][0]["preference"]["statement"].startswith("Inherited from 'AI training'")
    assert filter_one(api_carol, "search", text=PROSE)["decision"] == "allow"


def test_unrelated_text_is_allowed_with_no_reasons(alice, register, api_carol):
    register(alice, PROSE, preferences={"train-ai": "no"})
    assert filter_one(api_carol, text=UNRELATED) == {
        "index": 0,
        "id": None,
        "decision": "allow",
        "reasons": [],
    }


def test_the_most_restrictive_work_wins_and_comes_first(alice, bob, register, api_carol):
    register(alice, PROSE, preferences={"attribution": "yes"})
    bobs = register(bob, BOB_PROSE, preferences={"train-ai": "no"})
    result = filter_one(api_carol, text=PROSE + "\n" + BOB_PROSE)
    assert result["decision"] == "exclude"
    assert [r["decision"] for r in result["reasons"]] == ["exclude", "attribute"]
    assert result["reasons"][0]["work"]["id"] == bobs.public_id


def test_a_batch_keeps_the_order_of_its_documents(alice, register, api_carol):
    register(alice, PROSE, preferences={"train-ai": "no"})
    documents = [{"text": UNRELATED, "id": "a"}, {"text": PROSE, "id": "b"}, {"text": "", "id": "c"}]
    status, body = post(api_carol, "/api/v1/filter", {"purpose": "train-ai", "documents": documents})
    assert status == 200
    assert [(r["index"], r["id"], r["decision"]) for r in body["results"]] == [
        (0, "a", "allow"),
        (1, "b", "exclude"),
        (2, "c", "allow"),
    ]


def test_a_newly_registered_work_is_honoured_on_the_next_call(alice, register, api_carol):
    assert filter_one(api_carol, text=PROSE)["decision"] == "allow"
    register(alice, PROSE, preferences={"train-genai": "no"})
    assert filter_one(api_carol, text=PROSE)["decision"] == "exclude"


def test_no_response_holds_a_line_of_registered_text(alice, register, api_carol):
    register(
        alice, TEXTWRAP, title="textwrap", kind="code", path="textwrap.py", preferences={"train-ai": "no"}
    )
    register(alice, PROSE, preferences={"train-ai": "no"})
    documents = [{"text": TEXTWRAP}, {"text": PROSE}, {"text": "\n".join(TEXTWRAP.splitlines()[100:130])}]
    status, body = post(api_carol, "/api/v1/filter", {"purpose": "train-ai", "documents": documents})
    assert status == 200 and all(r["decision"] == "exclude" for r in body["results"])
    raw = json.dumps(body)
    lines = [line.strip() for line in (TEXTWRAP + PROSE).splitlines() if len(line.strip()) >= 12]
    assert [line for line in lines if json.dumps(line)[1:-1] in raw] == []


def test_a_logged_in_person_may_try_the_api_in_the_browser(alice, register, client_bob):
    register(alice, PROSE, preferences={"train-ai": "no"})
    assert filter_one(client_bob, "train-ai", text=PROSE)["decision"] == "exclude"


@pytest.mark.parametrize("kind", ["code", "prose", None])
def test_the_kind_and_language_hints_are_accepted(alice, register, api_carol, kind):
    register(alice, TEXTWRAP, kind="code", path="textwrap.py", preferences={"train-ai": "no"})
    result = filter_one(api_carol, "train-ai", text=TEXTWRAP, kind=kind, language="Python")
    assert result["decision"] == ("allow" if kind == "prose" else "exclude")
