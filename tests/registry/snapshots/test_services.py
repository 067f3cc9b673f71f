"""Building snapshots: what a full snapshot holds, and what a delta holds after changes."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from dedup.snapshot import Snapshot
from registry.preferences.services import preference_revoke, preference_set
from registry.snapshots import services
from registry.works.services import work_delete
from tests.registry.snapshots.conftest import ALICE_CODE, BOB_PROSE, FREE_TEXT


@pytest.fixture
def registry_works(alice, bob, register):
    return {
        "alice": register(
            alice,
            title="Stats",
            text=ALICE_CODE,
            kind="code",
            name="stats.py",
            preferences={"train-genai": "no"},
        ),
        "bob": register(
            bob, title="Ledger", text=BOB_PROSE, kind="prose", preferences={"attribution": "yes"}
        ),
        "free": register(bob, title="Bread", text=FREE_TEXT, kind="prose", preferences={"search": "yes"}),
    }


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_full_snapshot_holds_only_works_that_restrict_something(registry_works, tmp_path):
    manifest = services.snapshot_build(out=tmp_path / "s")
    ids = {r["work_id"] for r in rows(tmp_path / "s" / "works.jsonl")}
    assert ids == {registry_works["alice"].public_id, registry_works["bob"].public_id}
    assert manifest["kind"] == "full" and manifest["counts"] == {"works": 2, "documents": 2}
    assert manifest["purposes"] == ["train-ai", "train-genai", "ai-use", "search"]
    assert Snapshot.open(tmp_path / "s").version == manifest["version"]


def test_a_snapshot_holds_no_registered_text(registry_works, tmp_path):
    services.snapshot_build(out=tmp_path / "s")
    blobs = b"".join(p.read_bytes() for p in (tmp_path / "s").rglob("*") if p.is_file())
    for text in (ALICE_CODE, BOB_PROSE):
        for line in text.splitlines():
            if len(line.strip()) > 20:
                assert line.strip().encode() not in blobs


def test_the_callers_own_works_are_left_out(registry_works, alice, tmp_path):
    services.snapshot_build(out=tmp_path / "s", exclude_owner_ids={alice.pk})
    assert {r["work_id"] for r in rows(tmp_path / "s" / "works.jsonl")} == {registry_works["bob"].public_id}


def test_a_delta_holds_only_what_changed_including_revocations_and_deletions(
    registry_works, alice, bob, register, tmp_path
):
    v1 = services.snapshot_build(out=tmp_path / "full")["version"]
    quiet = services.snapshot_build(out=tmp_path / "d0", since=v1)
    assert quiet["counts"] == {"works": 0, "documents": 0, "removed": 0}

    preference_revoke(owner=alice, work=registry_works["alice"], key="train-genai")  # restriction lifted
    work_delete(work=registry_works["bob"], owner=bob)
    new = register(
        alice, title="More", text=FREE_TEXT + " and more", kind="prose", preferences={"ai-use": "no"}
    )
    preference_set(owner=bob, work=registry_works["free"], values={"search": "yes"})  # no change

    delta = services.snapshot_build(out=tmp_path / "d1", since=v1)
    assert delta["kind"] == "delta" and delta["since"] == v1 and delta["version"] > v1
    assert [r["work_id"] for r in rows(tmp_path / "d1" / "works.jsonl")] == [new.public_id]
    assert len(rows(tmp_path / "d1" / "docs.jsonl")) == 1
    removed = {r["work_id"] for r in rows(tmp_path / "d1" / "removed.jsonl")}
    assert removed == {registry_works["alice"].public_id, registry_works["bob"].public_id}

    merged = Snapshot.open(tmp_path / "full").merge(tmp_path / "d1")
    assert set(merged.works) == {new.public_id}
    fresh = services.snapshot_build(out=tmp_path / "full2")
    assert set(Snapshot.open(tmp_path / "full2").works) == set(merged.works)
    assert fresh["counts"]["documents"] == len(merged.docs)


def test_an_owner_default_reaches_every_work_of_the_owner(registry_works, bob, tmp_path):
    v1 = services.snapshot_build(out=tmp_path / "full")["version"]
    preference_set(owner=bob, values={"train-ai": "no"})
    services.snapshot_build(out=tmp_path / "d", since=v1)
    ids = {r["work_id"] for r in rows(tmp_path / "d" / "works.jsonl")}
    assert ids == {registry_works["bob"].public_id, registry_works["free"].public_id}


def test_a_since_ahead_of_the_registry_is_refused(registry_works, tmp_path):
    with pytest.raises(ValidationError, match="not a version of this registry"):
        services.snapshot_build(out=tmp_path / "d", since=10**9)


def test_full_snapshots_are_cached_per_version(registry_works, tmp_path):
    first = services.snapshot_cached_full()
    assert services.snapshot_cached_full() == first
    assert first.parent == services.cache_root()


def test_the_management_command_writes_a_snapshot(registry_works, tmp_path, capsys):
    call_command("snapshot_build", str(tmp_path / "cmd"))
    assert "wrote full snapshot version" in capsys.readouterr().out
    assert Snapshot.open(tmp_path / "cmd").manifest["counts"]["works"] == 2
