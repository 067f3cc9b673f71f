"""registry.engine's matcher cache: a cheap, bounded, rate-limited version check.

(The engine module is S2's; these tests cover the incremental refresh added for the filter API.)
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry import engine
from tests.registry.filtering.conftest import BOB_PROSE, PROSE, UNRELATED


def fingerprint_loads(queries) -> int:
    return sum('"fingerprint"' in q["sql"] and "SELECT" in q["sql"] for q in queries.captured_queries)


def test_an_unchanged_registry_costs_one_aggregate_per_check(alice, register):
    register(alice, PROSE)
    engine.find_matches(PROSE)
    with CaptureQueriesContext(connection) as queries:
        engine.find_matches(PROSE)
    assert len(queries) == 1 and "COUNT" in queries[0]["sql"].upper()


def test_a_new_document_loads_only_its_own_fingerprint(alice, bob, register):
    register(alice, PROSE)
    assert engine.find_matches(PROSE)
    register(bob, BOB_PROSE)
    with CaptureQueriesContext(connection) as queries:
        [hit] = engine.find_matches(BOB_PROSE)
    assert hit.match.kind == "exact"
    assert fingerprint_loads(queries) == 1
    assert len(engine._cache.loaded) == 2


def test_a_deleted_work_goes_and_an_added_one_comes_in_the_same_check(alice, bob, register):
    alices = register(alice, PROSE)
    assert engine.find_matches(PROSE)
    alices.delete()
    register(bob, BOB_PROSE)
    assert engine.find_matches(PROSE) == []
    assert engine.find_matches(BOB_PROSE)
    assert len(engine._cache.loaded) == 1


def test_the_check_runs_at_most_once_per_interval(alice, register, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MATCHER_CHECK_SECONDS": 3600}
    engine.find_matches(PROSE)  # the first check
    register(alice, PROSE)
    with CaptureQueriesContext(connection) as queries:
        assert engine.find_matches(PROSE) == []  # not seen yet: the interval has not passed
    assert len(queries) == 0
    engine._cache.checked_at -= 3600
    assert engine.find_matches(PROSE)


def test_a_batch_is_one_check_and_answers_in_order(alice, bob, register):
    register(alice, PROSE)
    register(bob, BOB_PROSE)
    engine.find_matches(UNRELATED)
    queries_in = [engine.Query(t) for t in (BOB_PROSE, UNRELATED, PROSE)] * 20
    with CaptureQueriesContext(connection) as queries:
        results = engine.find_matches_batch(queries_in)
    assert len(queries) == 1
    kinds = [[h.match.kind for h in hits] for hits in results[:3]]
    assert kinds == [["exact"], [], ["exact"]]


def test_a_large_first_load_is_moved_out_of_the_garbage_collectors_sight(alice, register, monkeypatch):
    import gc

    register(alice, PROSE)
    monkeypatch.setattr(engine, "FREEZE_AFTER_DOCUMENTS", 1)  # "large" for a registry of one
    frozen = gc.get_freeze_count()
    try:
        assert engine.find_matches(PROSE)
        assert gc.get_freeze_count() > frozen
        matchers = list(engine._cache.matchers.values())
        assert all(gc.is_tracked(m) for m in matchers)  # objects the collector would walk...
        in_sight = {id(o) for o in gc.get_objects()}  # ...but no generation holds them now
        assert not in_sight & {id(m) for m in matchers}
    finally:
        gc.unfreeze()


def test_a_small_first_load_is_left_to_the_garbage_collector(alice, register):
    import gc

    register(alice, PROSE)
    frozen = gc.get_freeze_count()
    assert engine.find_matches(PROSE)
    assert gc.get_freeze_count() == frozen
