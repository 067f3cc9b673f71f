"""GET /api/v1/snapshot: scope, the caller's own works, full and delta downloads as .tar.gz."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from dedup.snapshot import Snapshot
from tests.registry.apikeys import builders
from tests.registry.snapshots.conftest import ALICE_CODE, BOB_PROSE, untar

URL = "/api/v1/snapshot"


@pytest.fixture
def works(alice, bob, register):
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
    }


def download(client, key, tmp_path, query=""):
    response = client.get(URL + query, **builders.bearer(key))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/gzip"
    assert response.streaming
    data = b"".join(response.streaming_content)
    return response, untar(data, tmp_path / f"x{query.replace('?', '_').replace('=', '_')}")


def test_the_url_is_named():
    assert reverse("api:snapshot") == URL


def test_it_needs_a_key_with_the_filter_scope(client, carol, works):
    assert client.get(URL).status_code == 401
    _, author_key = builders.api_key(user=carol, scope="author")
    response = client.get(URL, **builders.bearer(author_key))
    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"


def test_a_builder_downloads_a_full_snapshot_and_then_a_delta(client, carol, works, bob, register, tmp_path):
    _, key = builders.api_key(user=carol)
    response, root = download(client, key, tmp_path)
    snap = Snapshot.open(root)
    assert response["X-Snapshot-Version"] == str(snap.version)
    assert set(snap.works) == {works["alice"].public_id, works["bob"].public_id}

    new = register(bob, title="Late", text=BOB_PROSE.replace("ledger", "diary"), kind="prose",
                   preferences={"train-ai": "no"})  # fmt: skip
    response, delta = download(client, key, tmp_path, f"?since={snap.version}")
    assert response["X-Snapshot-Kind"] == "delta"
    assert [json.loads(line)["work_id"] for line in (delta / "works.jsonl").read_text().splitlines()] == [
        new.public_id
    ]
    merged = snap.merge(delta)
    assert new.public_id in merged.works


def test_an_authors_own_works_are_left_out_of_their_snapshot(client, alice, works, tmp_path):
    _, key = builders.api_key(user=alice)
    _, root = download(client, key, tmp_path)
    assert set(Snapshot.open(root).works) == {works["bob"].public_id}


def test_a_bad_since_is_a_json_error(client, carol, works):
    _, key = builders.api_key(user=carol)
    for query in ("?since=abc", "?since=-1", "?since=999999999"):
        response = client.get(URL + query, **builders.bearer(key))
        assert response.status_code == 400
        assert response.json()["code"] == "invalid" and "since" in response.json()["errors"]
