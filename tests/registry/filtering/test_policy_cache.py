"""registry.filtering.policy_cache: policies kept per process, never answered stale.

Each test warms the cache, changes the registry the way an author would, and checks the very next
read sees it -- the property the filter API promises ("a revoked refusal is honoured at once").
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.filtering import policy_cache
from registry.filtering.policy_cache import cached_policies
from registry.preferences.models import PreferenceStatement
from registry.preferences.services import preference_set
from registry.snapshots.models import SnapshotChange
from registry.works import services
from registry.works.models import Work
from tests.registry.filtering.conftest import BOB_PROSE, PROSE, filter_one


def genai(work) -> str:
    return cached_policies([work.pk])[work.pk].values["train-genai"]


def test_a_second_read_of_the_same_works_costs_one_query(alice, bob, register):
    works = [register(alice, PROSE), register(bob, BOB_PROSE)]
    first = cached_policies(w.pk for w in works)
    with CaptureQueriesContext(connection) as queries:
        again = cached_policies(w.pk for w in works)
    assert again == first and len(queries) == 1


def test_a_revoked_refusal_is_honoured_on_the_next_read(alice, register):
    work = register(alice, PROSE, preferences={"train-genai": "no"})
    assert genai(work) == "no"
    preference_set(owner=alice, work=work, values={"train-genai": "yes"})
    assert genai(work) == "yes"


def test_a_revoked_refusal_allows_on_the_next_filter_call_with_the_cache_warm(alice, register, api_carol):
    work = register(alice, PROSE, preferences={"train-genai": "no"})
    for _ in range(2):  # the second call answers from the cache
        assert filter_one(api_carol, text=PROSE)["decision"] == "exclude"
    preference_set(owner=alice, work=work, values={"train-genai": "yes"})
    assert filter_one(api_carol, text=PROSE)["decision"] == "allow"


def test_an_owners_new_default_reaches_every_cached_work_of_theirs(alice, bob, register):
    alices = [register(alice, PROSE, path="a.txt"), register(alice, BOB_PROSE, path="b.txt")]
    bobs = register(bob, BOB_PROSE)
    assert {genai(w) for w in [*alices, bobs]} == {"unset"}
    preference_set(owner=alice, values={"train-ai": "no"})
    assert [genai(w) for w in alices] == ["no", "no"]
    assert genai(bobs) == "unset"


def test_an_edited_work_shows_its_new_title_and_locations(alice, register):
    work = register(alice, PROSE, title="Ledger", locations=["github.com/alice/ledger"])
    assert cached_policies([work.pk])[work.pk].title == "Ledger"
    services.work_update(work=work, owner=alice, title="The ledger", licence="", attribution="",
                         locations=["alice.example.org"])  # fmt: skip
    policy = cached_policies([work.pk])[work.pk]
    assert (policy.title, policy.locations) == ("The ledger", ("alice.example.org",))


def test_a_deleted_work_is_no_longer_answered(alice, register):
    work = register(alice, PROSE)
    pk = work.pk
    assert pk in cached_policies([pk])
    services.work_delete(work=work, owner=alice)
    assert cached_policies([pk]) == {}


def test_a_statement_recorded_for_later_applies_when_its_time_comes(alice, register, monkeypatch):
    work = register(alice, PROSE)
    assert genai(work) == "unset"  # cached before the statement is recorded
    later = timezone.now() + timedelta(hours=1)
    PreferenceStatement.objects.create(owner=alice, work=work, key="train-ai", value="no", effective_at=later)
    assert genai(work) == "unset"
    monkeypatch.setattr(policy_cache.timezone, "now", lambda: later + timedelta(seconds=1))
    monkeypatch.setattr("registry.preferences.selectors.timezone.now", lambda: later + timedelta(seconds=1))
    assert genai(work) == "no"


def test_a_statement_recorded_for_later_before_the_process_started_applies_too(alice, register, monkeypatch):
    work = register(alice, PROSE)
    later = timezone.now() + timedelta(hours=1)
    PreferenceStatement.objects.create(owner=alice, work=work, key="train-ai", value="no", effective_at=later)
    policy_cache.reset_policy_cache()  # a process started after the statement was recorded
    assert genai(work) == "unset"
    monkeypatch.setattr(policy_cache.timezone, "now", lambda: later + timedelta(seconds=1))
    monkeypatch.setattr("registry.preferences.selectors.timezone.now", lambda: later + timedelta(seconds=1))
    assert genai(work) == "no"


def test_a_change_committed_late_with_a_lower_id_is_still_seen(alice, bob, register):
    alices, bobs = register(alice, PROSE, title="Ledger"), register(bob, BOB_PROSE)
    newest = SnapshotChange.objects.order_by("-id").values_list("id", flat=True).first()
    # Two edits took change ids newest+1 and newest+2; the second committed first...
    SnapshotChange.objects.create(id=newest + 2, work_pk=bobs.pk, reason=SnapshotChange.Reason.SAVED)
    assert cached_policies([alices.pk])[alices.pk].title == "Ledger"  # ...and was seen.
    # Then the first commits: alice's new title, and its row below the newest id seen.
    Work.objects.filter(pk=alices.pk).update(title="The ledger")
    SnapshotChange.objects.create(id=newest + 1, work_pk=alices.pk, reason=SnapshotChange.Reason.SAVED)
    assert cached_policies([alices.pk])[alices.pk].title == "The ledger"


def test_the_callers_own_works_are_left_out(alice, bob, register):
    alices, bobs = register(alice, PROSE), register(bob, BOB_PROSE)
    assert set(cached_policies([alices.pk, bobs.pk])) == {alices.pk, bobs.pk}
    assert set(cached_policies([alices.pk, bobs.pk], exclude_owners=[bob.pk])) == {alices.pk}


def test_an_owners_new_public_name_shows_once_the_entry_is_older_than_the_bound(alice, register, monkeypatch):
    work = register(alice, PROSE)
    assert cached_policies([work.pk])[work.pk].owner_name == "Alice Example"
    alice.public_name = "A. Example"
    alice.save()  # no change-log row: a name is not a decision
    monkeypatch.setattr(policy_cache, "MAX_AGE_SECONDS", 0)
    assert cached_policies([work.pk])[work.pk].owner_name == "A. Example"


@pytest.mark.parametrize("fresh", [True, False])
def test_it_answers_what_the_uncached_policies_answer(alice, bob, register, fresh):
    from registry.filtering.policies import work_policies, works_by_id

    works = [register(alice, PROSE, preferences={"train-ai": "no"}), register(bob, BOB_PROSE)]
    preference_set(owner=bob, values={"attribution": "yes"})
    if not fresh:
        cached_policies(w.pk for w in works)
    ids = [w.pk for w in works] + [10**9]  # and a work that does not exist
    assert cached_policies(ids) == work_policies(works_by_id(ids).values())


def test_a_call_that_matched_no_work_costs_no_query(db):
    with CaptureQueriesContext(connection) as queries:
        assert cached_policies([]) == {}
    assert len(queries) == 0
