"""Parity: the same documents get the same decisions from POST /api/v1/filter and from
`python -m dedup filter` against a snapshot the registry built.

Registered: alice's code file (train-genai: no), bob's prose text (attribution required), and
carol's... no, dave's work registered at a domain (search: no). The corpus holds a verbatim copy,
a renamed copy and a snippet of alice's code (inside other code), bob's text, a document from
under dave's domain, and unrelated documents.
"""

from __future__ import annotations

import json

import pytest

from dedup.cli import main
from registry.snapshots import services
from tests.conftest import _persona
from tests.registry.apikeys import builders
from tests.registry.snapshots.conftest import ALICE_CODE, BOB_PROSE, FREE_TEXT

RENAMED = (
    ALICE_CODE.replace("values", "samples")
    .replace("total", "acc")
    .replace("count", "n")
    .replace("mean", "avg")
)
SNIPPET = (
    "import sys\n\n\ndef main(argv):\n    data = [float(a) for a in argv]\n    print(data)\n\n\n"
    + "\n".join(ALICE_CODE.splitlines()[3:22])
    + "\n\n\nif __name__ == '__main__':\n    main(sys.argv[1:])\n"
)
UNRELATED_CODE = (
    "import os\n\n\ndef walk(root):\n    for name in sorted(os.listdir(root)):\n        yield name\n"
)


@pytest.fixture
def registered(alice, bob, register):
    dave = _persona("dave@example.org", "Dave Domains")
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
        "dave": register(
            dave,
            title="Blog",
            text=FREE_TEXT,
            kind="prose",
            preferences={"search": "no"},
            locations=["https://www.dave-domains.example/"],
        ),
    }


CORPUS = [
    {"id": "verbatim.py", "text": ALICE_CODE, "language": "python"},
    {"id": "renamed.py", "text": RENAMED, "language": "python"},
    {"id": "snippet.py", "text": SNIPPET},
    {"id": "ledger.txt", "text": BOB_PROSE, "kind": "prose"},
    {
        "id": "page",
        "text": "A short page about nothing much at all.",
        "url": "https://dave-domains.example/a/b",
    },
    {"id": "walk.py", "text": UNRELATED_CODE},
    {"id": "other", "text": "Completely unrelated prose about the weather in a town far away, and rain."},
]


def api_verdicts(client, key, purpose):
    response = client.post(
        "/api/v1/filter",
        data=json.dumps({"purpose": purpose, "documents": CORPUS}),
        content_type="application/json",
        **builders.bearer(key),
    )
    assert response.status_code == 200, response.content
    return {
        r["id"]: (r["decision"], sorted(reason["work"]["id"] for reason in r["reasons"]))
        for r in response.json()["results"]
    }


def offline_verdicts(snapshot, tmp_path, purpose):
    return cli_verdicts(["--snapshot", str(snapshot)], tmp_path, purpose)


def cli_verdicts(source, tmp_path, purpose):
    """Decisions from `python -m dedup filter` with a source (--snapshot DIR or --server URL)."""
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in CORPUS))
    tag = source[0].strip("-")
    kept, dropped = tmp_path / f"kept-{tag}-{purpose}.jsonl", tmp_path / f"dropped-{tag}-{purpose}.jsonl"
    argv = ["filter", str(corpus), *source, "--purpose", purpose, "-q"]
    assert main(argv + ["--kept", str(kept), "--dropped", str(dropped)]) == 0
    out = {}
    for path in (kept, dropped):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            registry = row.get("_registry", {"decision": "allow", "reasons": []})
            out[row["id"]] = (registry["decision"], sorted(r["work"]["id"] for r in registry["reasons"]))
    return out


@pytest.mark.parametrize("purpose", ["train-genai", "search"])
def test_offline_filtering_decides_as_the_filter_api(client, carol, registered, tmp_path, purpose):
    _, key = builders.api_key(user=carol)
    services.snapshot_build(out=tmp_path / "snap")
    over_http = api_verdicts(client, key, purpose)
    offline = offline_verdicts(tmp_path / "snap", tmp_path, purpose)
    assert offline == over_http

    alice, bob, dave = (registered[k].public_id for k in ("alice", "bob", "dave"))
    expected_genai = {
        "verbatim.py": ("exclude", [alice]),
        "renamed.py": ("exclude", [alice]),
        "snippet.py": ("exclude", [alice]),
        "ledger.txt": ("attribute", [bob]),
        "page": ("allow", [dave]),
        "walk.py": ("allow", []),
        "other": ("allow", []),
    }
    if purpose == "train-genai":
        assert offline == expected_genai
    else:
        assert offline["page"] == ("exclude", [dave])
        assert offline["verbatim.py"] == ("allow", [alice])


def test_the_command_line_decides_the_same_through_the_api_and_offline(
    live_server, carol, registered, tmp_path, monkeypatch
):
    # What the README walks a new user through: one corpus, filtered once over HTTP and once
    # against a snapshot, gives the same decision and the same works for every record.
    _, key = builders.api_key(user=carol)
    services.snapshot_build(out=tmp_path / "snap")
    monkeypatch.setenv("REGISTRY_API_KEY", key)
    through_api = cli_verdicts(["--server", live_server.url], tmp_path, "train-genai")
    offline = cli_verdicts(["--snapshot", str(tmp_path / "snap")], tmp_path, "train-genai")
    assert through_api == offline
    assert through_api["verbatim.py"][0] == "exclude"
    assert through_api["ledger.txt"][0] == "attribute"


def test_filtering_through_the_api_without_a_key_is_a_clear_error(live_server, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("REGISTRY_API_KEY", raising=False)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"id": "a", "text": "x"}) + "\n")
    argv = ["filter", str(corpus), "--server", live_server.url, "--purpose", "train-ai"]
    assert main(argv + ["--kept", str(tmp_path / "k"), "--dropped", str(tmp_path / "d")]) == 2
    assert "REGISTRY_API_KEY" in capsys.readouterr().err


def test_a_refused_key_on_the_api_path_is_a_clear_error(live_server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REGISTRY_API_KEY", "rk_aaaaaaaa_" + "b" * 32)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"id": "a", "text": "x"}) + "\n")
    argv = ["filter", str(corpus), "--server", live_server.url, "--purpose", "train-ai"]
    assert main(argv + ["--kept", str(tmp_path / "k"), "--dropped", str(tmp_path / "d")]) == 2
    assert "invalid_key" in capsys.readouterr().err
