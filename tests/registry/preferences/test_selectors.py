"""The effective decision: the most restrictive applicable statement wins, and it says why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.preferences import vocabulary
from registry.preferences.models import PreferenceStatement
from registry.preferences.selectors import effective_preferences, effective_preferences_for_works
from registry.preferences.services import preference_revoke, preference_set
from tests.factories import WorkFactory

# (work statements, author defaults, key) -> (value, source)
CASES = [
    ({}, {}, "train-ai", ("unset", "none")),
    ({"train-ai": "yes"}, {}, "train-ai", ("yes", "work")),
    ({}, {"train-ai": "no"}, "train-ai", ("no", "default")),
    (
        {"train-ai": "yes"},
        {"train-ai": "no"},
        "train-ai",
        ("no", "default"),
    ),  # a work cannot loosen a default
    ({"train-ai": "no"}, {"train-ai": "yes"}, "train-ai", ("no", "work")),
    (
        {"train-ai": "yes"},
        {"train-ai": "yes"},
        "train-ai",
        ("yes", "work"),
    ),  # tie: the most specific is named
    ({"train-ai": "no"}, {}, "train-genai", ("no", "parent")),  # a no on the parent reaches the child
    ({"train-ai": "no", "train-genai": "yes"}, {}, "train-genai", ("no", "parent")),
    ({}, {"train-ai": "no"}, "train-genai", ("no", "parent")),
    ({"train-ai": "yes"}, {}, "train-genai", ("yes", "parent")),
    ({"train-ai": "yes", "train-genai": "no"}, {}, "train-genai", ("no", "work")),
    ({"train-genai": "no"}, {}, "train-ai", ("unset", "none")),  # a child never decides for its parent
    ({"search": "yes"}, {"train-ai": "no"}, "search", ("yes", "work")),  # other trees are independent
    ({"attribution": "no"}, {"attribution": "yes"}, "attribution", ("yes", "default")),  # required wins
    ({"train-ai": "unset"}, {}, "train-ai", ("unset", "none")),
]


@pytest.mark.parametrize(("on_work", "defaults", "key", "expected"), CASES)
def test_the_most_restrictive_applicable_statement_wins(alice, on_work, defaults, key, expected):
    work = WorkFactory(owner=alice)
    preference_set(owner=alice, values=defaults)
    preference_set(owner=alice, work=work, values=on_work)
    decision = effective_preferences(work)[key]
    assert (decision.value, decision.source) == expected


def test_every_key_of_the_vocabulary_has_a_decision(alice):
    assert list(effective_preferences(WorkFactory(owner=alice))) == list(vocabulary.KEYS)


def test_the_reason_names_the_deciding_statement(alice):
    work = WorkFactory(owner=alice)
    preference_set(owner=alice, values={"train-ai": "no"})
    decisions = effective_preferences(work)
    assert decisions["train-ai"].reason.startswith("The owner's default 'no', stated on ")
    assert decisions["train-genai"].reason.startswith(
        "Inherited from 'AI training' (no): The owner's default"
    )
    assert decisions["train-genai"].via == "train-ai"
    assert decisions["train-genai"].statement == decisions["train-ai"].statement


def test_a_revocation_takes_effect_and_the_old_statement_stays_in_the_history(alice):
    work = WorkFactory(owner=alice)
    preference_set(owner=alice, work=work, values={"train-ai": "no"})
    assert effective_preferences(work)["train-ai"].value == "no"
    preference_revoke(owner=alice, work=work, key="train-ai")
    assert effective_preferences(work)["train-ai"].value == "unset"
    assert list(work.preference_statements.order_by("id").values_list("value", "note")) == [
        ("no", ""),
        ("unset", "revoked"),
    ]


def test_a_change_of_mind_is_a_new_statement(alice):
    work = WorkFactory(owner=alice)
    preference_set(owner=alice, work=work, values={"search": "no"})
    preference_set(owner=alice, work=work, values={"search": "yes"})
    assert effective_preferences(work)["search"].value == "yes"
    assert work.preference_statements.count() == 2


def test_repeating_the_current_value_records_nothing(alice):
    work = WorkFactory(owner=alice)
    preference_set(owner=alice, work=work, values={"search": "no", "ai-use": "unset"})
    assert preference_set(owner=alice, work=work, values={"search": "no", "ai-use": "unset"}) == []
    assert work.preference_statements.count() == 1


def test_a_statement_effective_in_the_future_does_not_count_yet(alice):
    work = WorkFactory(owner=alice)
    PreferenceStatement.objects.create(
        owner=alice, work=work, key="train-ai", value="no", effective_at=timezone.now() + timedelta(days=1)
    )
    assert effective_preferences(work)["train-ai"].value == "unset"


def test_bobs_defaults_never_apply_to_alices_work(alice, bob):
    work = WorkFactory(owner=alice)
    preference_set(owner=bob, values={"train-ai": "no"})
    assert effective_preferences(work)["train-ai"].value == "unset"


def test_many_works_are_decided_in_two_queries(alice, bob, django_assert_num_queries):
    works = [WorkFactory(owner=alice), WorkFactory(owner=bob), WorkFactory(owner=alice)]
    preference_set(owner=alice, values={"train-ai": "no"})
    preference_set(owner=bob, work=works[1], values={"search": "yes"})
    with django_assert_num_queries(2):
        decided = effective_preferences_for_works(works)
    assert [decided[w.pk]["train-ai"].value for w in works] == ["no", "unset", "no"]
    assert decided[works[1].pk]["search"].value == "yes"
