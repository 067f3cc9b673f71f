"""The offline side: a snapshot's checksums, merging a delta, and filtering a corpus with it.

Snapshots here are written with the same functions the registry uses (`write_full` and the
`snapshot_format` writers), from fingerprints of the texts below; no Django.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dedup import EngineConfig, Matcher, fingerprint
from dedup.cli import main
from dedup.policy import WorkPolicy
from dedup.snapshot import Item, Snapshot, write_full
from dedup.snapshot_format import SnapshotError, write_fingerprints, write_jsonl, write_manifest
from dedup.tokenize import NORMALISER_VERSION

CONFIG = EngineConfig()
PURPOSES = ["train-ai", "train-genai", "ai-use", "search"]

ALICE_CODE = '''\
def moving_average(values, window):
    """The mean of each run of `window` consecutive values."""
    if window <= 0:
        raise ValueError("window must be positive")
    totals = []
    running = 0
    for index, value in enumerate(values):
        running += value
        if index >= window:
            running -= values[index - window]
        if index >= window - 1:
            totals.append(running / window)
    return totals


def exponential_smoothing(values, alpha):
    smoothed = []
    level = None
    for value in values:
        level = value if level is None else alpha * value + (1 - alpha) * level
        smoothed.append(level)
    return smoothed
'''

BOB_PROSE = (
    "The orchard keeper walked the rows every morning before the frost had lifted, counting the "
    "branches that had cracked under the weight of the late snow and marking each one with a strip "
    "of red cloth. By spring the trees looked like they were wearing ribbons for a festival nobody "
    "else had been told about, and the children from the village came to ask what the celebration was."
)

UNRELATED = "import os\n\nprint(os.getcwd())\nfor name in os.listdir('.'):\n    print(name.upper())\n"


def policy(work_id: str, **values) -> WorkPolicy:
    return WorkPolicy.from_dict(
        {
            "work_id": work_id,
            "title": f"Work {work_id}",
            "owner_name": work_id.split("-")[0].title(),
            "values": {p: values.get(p.replace("-", "_"), "unset") for p in PURPOSES},
            "reasons": {p: "Stated for this work." for p in PURPOSES},
            "attribution_required": values.get("attribution", False),
            "locations": values.get("locations", ()),
        }
    )


def base_manifest(version: int) -> dict:
    return {
        "version": version,
        "since": None,
        "created_at": "2025-01-01T00:00:00+00:00",
        "engine": {"config": CONFIG.as_dict(), "normaliser_version": NORMALISER_VERSION},
        "purposes": PURPOSES,
        "code_languages": ["python"],
    }


def build_full(root: Path, works: dict, texts: dict, *, version: int = 5) -> Path:
    """works: {work_id: WorkPolicy}; texts: {doc_id: (work_id, kind, language, text)}."""
    matchers = {"code": Matcher(CONFIG), "prose": Matcher(CONFIG)}
    docs = {}
    for doc_id, (work_id, kind, language, text) in texts.items():
        matchers[kind].add(doc_id, fingerprint(text, kind=kind, language=language, config=CONFIG))
        docs[doc_id] = {"work_id": work_id, "kind": kind, "language": language}
    write_full(root, manifest=base_manifest(version), works=works.values(), docs=docs, matchers=matchers)
    return root


def build_delta(root: Path, *, since: int, version: int, upserts: dict, texts: dict, removed=()) -> Path:
    root.mkdir(parents=True)
    write_jsonl(root / "works.jsonl", (p.to_dict() for p in upserts.values()))
    write_jsonl(
        root / "docs.jsonl",
        ({"doc_id": d, "work_id": w, "kind": k, "language": lang} for d, (w, k, lang, _t) in texts.items()),
    )
    write_jsonl(root / "removed.jsonl", ({"work_id": w} for w in removed))
    write_fingerprints(
        root / "fingerprints.bin",
        (
            (d, fingerprint(t, kind=k, language=lang, config=CONFIG).to_bytes())
            for d, (_w, k, lang, t) in texts.items()
        ),
    )
    counts = {"works": len(upserts), "documents": len(texts), "removed": len(removed)}
    write_manifest(root, {**base_manifest(version), "since": since, "kind": "delta", "counts": counts})
    return root


@pytest.fixture
def snap_dir(tmp_path) -> Path:
    works = {
        "alice-1": policy("alice-1", train_genai="no"),
        "bob-1": policy("bob-1", attribution=True),
        "carol-1": policy("carol-1", search="no", locations=("example.org",)),
    }
    texts = {
        1: ("alice-1", "code", "python", ALICE_CODE),
        2: ("bob-1", "prose", None, BOB_PROSE),
    }
    return build_full(tmp_path / "registry.snap", works, texts)


def decisions(snap: Snapshot, items, purpose="train-genai") -> list[tuple[str, list[str]]]:
    return [
        (v.decision, sorted(r.work.work_id for r in v.reasons)) for v in snap.filter_records(items, purpose)
    ]


# --- opening and checksums ---------------------------------------------------------------------


def test_it_opens_a_snapshot_whose_files_match_the_manifest(snap_dir):
    snap = Snapshot.open(snap_dir)
    assert snap.version == 5
    assert set(snap.works) == {"alice-1", "bob-1", "carol-1"}
    manifest = json.loads((snap_dir / "manifest.json").read_text())
    assert {"works.jsonl", "docs.jsonl"} <= set(manifest["files"])
    assert any(name.startswith("matcher/code/") for name in manifest["files"])


def test_a_corrupted_file_is_named_in_the_error(snap_dir):
    path = snap_dir / "works.jsonl"
    path.write_text(path.read_text().replace("alice-1", "alice-2"))
    with pytest.raises(SnapshotError, match=r"works\.jsonl: corrupt"):
        Snapshot.open(snap_dir)


def test_a_missing_file_is_named_in_the_error(snap_dir):
    victim = next((snap_dir / "matcher" / "prose").glob("*.npy"))
    victim.unlink()
    with pytest.raises(SnapshotError, match=victim.name + ": missing"):
        Snapshot.open(snap_dir)


def test_a_directory_without_a_manifest_is_not_a_snapshot(tmp_path):
    with pytest.raises(SnapshotError, match="not a snapshot"):
        Snapshot.open(tmp_path)


# --- decisions ---------------------------------------------------------------------------------


def test_it_decides_copies_snippets_locations_and_unrelated_documents(snap_dir):
    snap = Snapshot.open(snap_dir)
    renamed = ALICE_CODE.replace("values", "numbers").replace("running", "acc")
    snippet = "x = 1\n\n" + "\n".join(ALICE_CODE.splitlines()[:13]) + "\n\nprint(x)\n"
    items = [
        Item(ALICE_CODE, "python"),
        Item(renamed, "python"),
        Item(snippet, "python"),
        Item(BOB_PROSE),
        Item(UNRELATED, "python", url="https://www.example.org/blog/post"),
        Item(UNRELATED, "python"),
    ]
    assert decisions(snap, items) == [
        ("exclude", ["alice-1"]),
        ("exclude", ["alice-1"]),
        ("exclude", ["alice-1"]),
        ("attribute", ["bob-1"]),
        ("allow", ["carol-1"]),  # the location matches carol's work, which allows train-genai
        ("allow", []),
    ]
    assert decisions(snap, items[4:5], "search") == [("exclude", ["carol-1"])]


def test_an_unknown_purpose_is_refused(snap_dir):
    with pytest.raises(SnapshotError, match="Unknown purpose 'train-everything'"):
        list(Snapshot.open(snap_dir).filter_records([Item("x")], "train-everything"))


# --- merging deltas ----------------------------------------------------------------------------


def test_a_delta_upserts_and_removes_works(snap_dir, tmp_path):
    new_code = UNRELATED * 3 + "\n\ndef helper(a, b):\n    return [a + b for _ in range(a)]\n"
    delta = build_delta(
        tmp_path / "delta",
        since=5,
        version=9,
        upserts={"dave-1": policy("dave-1", train_ai="no", train_genai="no")},
        texts={7: ("dave-1", "code", "python", new_code)},
        removed=["alice-1"],
    )
    merged = Snapshot.open(snap_dir).merge(delta)
    assert merged.version == 9
    assert set(merged.works) == {"bob-1", "carol-1", "dave-1"}
    assert 1 not in merged.docs and merged.docs[7]["work_id"] == "dave-1"
    reopened = Snapshot.open(snap_dir)  # written in place, checksums and all
    assert decisions(reopened, [Item(ALICE_CODE, "python"), Item(new_code, "python")]) == [
        ("allow", []),
        ("exclude", ["dave-1"]),
    ]


def test_a_delta_from_another_version_is_refused(snap_dir, tmp_path):
    delta = build_delta(tmp_path / "delta", since=3, version=9, upserts={}, texts={})
    with pytest.raises(SnapshotError, match="since version 3.*at version 5"):
        Snapshot.open(snap_dir).merge(delta)
    assert Snapshot.open(snap_dir).version == 5


# --- the command line --------------------------------------------------------------------------


def write_corpus(path: Path) -> Path:
    rows = [
        {"id": "copy.py", "text": ALICE_CODE, "language": "python", "meta": {"n": 1}},
        {"id": "story", "text": BOB_PROSE},
        {"id": "other.py", "text": UNRELATED, "url": "https://example.org/x"},
        {"id": "empty", "text": "   "},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    return path


def test_filter_writes_kept_dropped_and_a_report(snap_dir, tmp_path, capsys):
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    kept, dropped, report = tmp_path / "kept.jsonl", tmp_path / "dropped.jsonl", tmp_path / "report.json"
    argv = [
        "filter", str(corpus), "--snapshot", str(snap_dir), "--purpose", "train-genai",
        "--kept", str(kept), "--dropped", str(dropped), "--report", str(report), "-q",
    ]  # fmt: skip
    assert main(argv) == 0
    kept_rows = [json.loads(line) for line in kept.read_text().splitlines()]
    dropped_rows = [json.loads(line) for line in dropped.read_text().splitlines()]
    assert [r["id"] for r in kept_rows] == ["story", "other.py"]
    assert [r["id"] for r in dropped_rows] == ["copy.py"]
    assert dropped_rows[0]["meta"] == {"n": 1}  # original fields kept
    assert dropped_rows[0]["_registry"]["decision"] == "exclude"
    assert kept_rows[0]["_registry"]["decision"] == "attribute"
    # allowed, but it comes from carol's registered domain: the match is reported all the same
    assert kept_rows[1]["_registry"]["decision"] == "allow"
    assert [r["work"]["id"] for r in kept_rows[1]["_registry"]["reasons"]] == ["carol-1"]
    data = json.loads(report.read_text())
    assert data["decisions"] == {"allow": 1, "attribute": 1, "exclude": 1}
    assert data["counts"]["kept"] == 2 and data["counts"]["dropped"] == 1
    assert data["counts"]["skipped"] == 2
    assert set(data["skipped"]) == {"empty", "malformed JSON"}
    assert data["works"]["alice-1"]["records"] == 1 and data["works"]["alice-1"]["decision"] == "exclude"

    assert main(argv[:-1] + ["--attribute-as", "drop", "-q"]) == 0
    assert [json.loads(line)["id"] for line in dropped.read_text().splitlines()] == ["copy.py", "story"]


def test_filter_with_two_jobs_gives_the_same_outputs(snap_dir, tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    outs = []
    for jobs in ("1", "2"):
        kept, dropped = tmp_path / f"k{jobs}.jsonl", tmp_path / f"d{jobs}.jsonl"
        argv = ["filter", str(corpus), "--snapshot", str(snap_dir), "--purpose", "train-genai"]
        assert main(argv + ["--kept", str(kept), "--dropped", str(dropped), "--jobs", jobs, "-q"]) == 0
        outs.append((kept.read_text(), dropped.read_text()))
    assert outs[0] == outs[1]


def test_filter_parquet_in_parquet_out(snap_dir, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    corpus = tmp_path / "corpus.parquet"
    pq.write_table(pa.table({"id": ["a.py", "b"], "text": [ALICE_CODE, UNRELATED]}), corpus)
    kept, dropped = tmp_path / "kept.parquet", tmp_path / "dropped.parquet"
    argv = ["filter", str(corpus), "--snapshot", str(snap_dir), "--purpose", "train-genai", "-q"]
    assert main(argv + ["--kept", str(kept), "--dropped", str(dropped)]) == 0
    assert pq.read_table(kept).column("id").to_pylist() == ["b"]
    row = pq.read_table(dropped).to_pylist()[0]
    assert row["id"] == "a.py" and json.loads(row["_registry"])["decision"] == "exclude"


def test_snapshot_info_describes_a_snapshot(snap_dir, capsys):
    assert main(["snapshot", "info", str(snap_dir), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["version"] == 5 and info["counts"] == {"works": 3, "documents": 2}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["snapshot", "info", "{missing}"], "no such snapshot directory"),
        (["filter", "{corpus}", "--snapshot", "{missing}", "--purpose", "train-genai"], "no such snapshot"),
        (["filter", "{corpus}", "--snapshot", "{snap}", "--purpose", "nope"], "Unknown purpose 'nope'"),
        (["filter", "{missing}", "--snapshot", "{snap}", "--purpose", "search"], "no such file"),
        (["snapshot", "pull", "--server", "http://127.0.0.1:9", "--out", "{snap}"], "REGISTRY_API_KEY"),
    ],
)
def test_command_line_errors_exit_2_with_one_error_line(
    snap_dir, tmp_path, capsys, monkeypatch, argv, message
):
    monkeypatch.delenv("REGISTRY_API_KEY", raising=False)
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    fill = {"missing": str(tmp_path / "nope"), "corpus": str(corpus), "snap": str(snap_dir)}
    argv = [a.format(**fill) for a in argv]
    if argv[0] == "filter":
        argv += ["--kept", str(tmp_path / "k.jsonl"), "--dropped", str(tmp_path / "d.jsonl")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert len(err.strip().splitlines()) == 1
