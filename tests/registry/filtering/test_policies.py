"""registry.filtering.policies and the engine's batch path: rows become WorkPolicy objects in a
fixed number of queries, and a batch costs the same number of queries whatever its size."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

import dedup.policy
from registry.filtering import api
from registry.filtering.policies import work_policies, works_by_id
from registry.filtering.policy_cache import reset_policy_cache
from registry.preferences import vocabulary
from registry.preferences.services import preference_set
from tests.registry.filtering.conftest import BOB_PROSE, PROSE, UNRELATED, post


def test_the_policy_module_agrees_with_the_vocabulary():
    assert dedup.policy.PURPOSES == vocabulary.USAGE_CATEGORIES
    assert api.PURPOSES == dedup.policy.PURPOSES
    assert api.DECISIONS == dedup.policy.DECISIONS
    assert api.MATCH_KINDS == dedup.policy.MATCH_KINDS


def test_a_work_policy_holds_the_resolved_preferences_and_the_locations(alice, register):
    work = register(alice, PROSE, title="Ledger", licence="MIT", attribution="Ledger by Alice",
                    locations=["https://github.com/alice/ledger.git", "alice.example.org"],
                    preferences={"train-ai": "no", "attribution": "yes"})  # fmt: skip
    preference_set(owner=alice, values={"search": "no"})

    [policy] = work_policies(works_by_id([work.pk]).values()).values()

    assert (policy.work_id, policy.title, policy.owner_name, policy.licence, policy.attribution) == (
        work.public_id, "Ledger", "Alice Example", "MIT", "Ledger by Alice"
    )  # fmt: skip
    assert policy.values == {
        "train-ai": "no", "train-genai": "no", "ai-use": "unset", "search": "no", "attribution": "yes"
    }  # fmt: skip
    assert policy.attribution_required is True
    assert policy.reasons["search"].startswith("The owner's default 'no'")
    assert policy.locations == ("github.com/alice/ledger", "alice.example.org")


def test_the_callers_works_are_left_out(alice, bob, register):
    alices, bobs = register(alice, PROSE), register(bob, BOB_PROSE)
    assert set(works_by_id([alices.pk, bobs.pk], exclude_owners=[bob.pk])) == {alices.pk}


def test_a_filter_call_costs_the_same_queries_for_ten_or_a_hundred_documents(alice, bob, register, api_carol):
    register(alice, PROSE, locations=["github.com/alice/proj"], preferences={"train-ai": "no"})
    register(bob, BOB_PROSE, preferences={"attribution": "yes"})

    def queries_for(n: int, *, cold: bool) -> int:
        if cold:  # the works' policies are read again, as by a new process
            reset_policy_cache()
        documents = [
            {"text": [PROSE, BOB_PROSE, UNRELATED][i % 3], "url": f"https://github.com/alice/proj/f{i}.md"}
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as queries:
            status, body = post(api_carol, "/api/v1/filter", {"purpose": "train-ai", "documents": documents})
        assert status == 200 and len(body["results"]) == n
        return len(queries)

    queries_for(1, cold=True)  # the first call in a process loads the matcher
    assert queries_for(10, cold=True) == queries_for(100, cold=True) <= 16
    # With the policies cached, only the cache's check is left of the policy queries.
    assert queries_for(10, cold=False) == queries_for(100, cold=False) <= queries_for(10, cold=True) - 4
