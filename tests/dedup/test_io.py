"""Input readers: files, folders, JSON Lines and Parquet, with skipped items counted."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dedup.io import InputError, SkipLog, detect_format, iter_files, iter_jsonl, iter_parquet, iter_records

PY = "def add(a, b):\n    return a + b\n"
C = "int add(int a, int b) { return a + b; }\n"


@pytest.fixture
def tree(tmp_path):
    """alice's project: sources, a binary, an empty file, hidden and cache directories."""
    root = tmp_path / "project"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "add.py").write_text(PY)
    (root / "src" / "add.c").write_text(C)
    (root / "README.md").write_text("Adds two numbers.\n")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    (root / "empty.py").write_text("   \n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "src" / "__pycache__").mkdir()
    (root / "src" / "__pycache__" / "add.cpython-311.pyc").write_bytes(b"\0\0\0")
    return root


def test_a_folder_yields_every_text_file_sorted_with_its_language(tree):
    skipped = SkipLog()
    records = list(iter_files(tree, skipped=skipped))

    rel = [os.path.relpath(r.id, tree) for r in records]
    assert rel == ["README.md", os.path.join("src", "add.c"), os.path.join("src", "pkg", "add.py")]
    by_name = {os.path.basename(r.id): r for r in records}
    assert by_name["add.py"].text == PY
    assert by_name["add.py"].language == "python"
    assert by_name["add.c"].language == "c"
    assert by_name["add.py"].source == by_name["add.py"].id


def test_binary_and_empty_files_are_skipped_and_counted_not_fatal(tree):
    skipped = SkipLog()
    list(iter_files(tree, skipped=skipped))

    assert skipped.counts == {"binary": 1, "empty": 1}
    assert skipped.summary().startswith("skipped 2: ")
    assert "logo.png" in skipped.summary()


def test_hidden_and_cache_directories_are_not_entered(tree):
    ids = [r.id for r in iter_files(tree)]

    assert not any(".git" in i or "__pycache__" in i for i in ids)


def test_files_over_the_size_limit_are_skipped_as_too_large(tree):
    skipped = SkipLog()
    records = list(iter_files(tree, skipped=skipped, max_bytes=20))

    assert [os.path.basename(r.id) for r in records] == ["README.md"]
    assert skipped.counts["too large"] == 3  # add.c, add.py and logo.png


def test_a_single_file_is_one_record(tree):
    records = list(iter_files(tree / "src" / "add.c"))

    assert len(records) == 1 and records[0].text == C


def test_a_missing_path_is_an_input_error_before_anything_is_read(tmp_path, tree):
    with pytest.raises(InputError, match="no such file or directory"):
        iter_records([tree, tmp_path / "nope"])  # raises on the call, not on first next()


def test_jsonl_reads_text_and_id_fields_and_counts_malformed_lines_with_their_number(tmp_path):
    path = tmp_path / "works.jsonl"
    lines = [
        json.dumps({"id": "a.py", "text": PY}),
        "",
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"id": "no-text"}),
        json.dumps({"text": C, "language": "C"}),
        json.dumps({"id": 7, "text": "Plain words here."}),
    ]
    path.write_text("\n".join(lines) + "\n")
    skipped = SkipLog()

    records = list(iter_jsonl(path, skipped=skipped))

    assert [r.id for r in records] == ["a.py", f"{path}:6", "7"]
    assert [r.language for r in records] == ["python", "c", None]
    assert records[0].source == f"{path}:1"
    assert skipped.counts == {"malformed JSON": 1, "not a JSON object": 1, "no 'text' field": 1}
    assert "malformed JSON (line 3)" in skipped.summary()


def test_jsonl_fields_are_configurable(tmp_path):
    path = tmp_path / "works.jsonl"
    path.write_text(json.dumps({"work": "w1", "body": "Some prose."}) + "\n")

    (record,) = iter_jsonl(path, text_field="body", id_field="work")

    assert (record.id, record.text) == ("w1", "Some prose.")


def test_parquet_streams_rows_by_batch_and_decodes_binary_text(tmp_path):
    path = tmp_path / "works.parquet"
    table = pa.table(
        {
            "work_id": ["w1", "w2", "w3", "w4"],
            "body": [PY.encode(), b"\0\1\2\3binary", None, C.encode()],
            "language": ["python", None, None, "c"],
        }
    )
    pq.write_table(table, path, row_group_size=2)
    skipped = SkipLog()

    records = list(iter_parquet(path, text_field="body", id_field="work_id", skipped=skipped, batch_size=1))

    assert [(r.id, r.text, r.language) for r in records] == [("w1", PY, "python"), ("w4", C, "c")]
    assert records[1].source == f"{path}#3"
    assert skipped.counts == {"binary": 1, "no 'body' field": 1}


def test_parquet_without_the_text_column_is_an_input_error_naming_the_columns(tmp_path):
    path = tmp_path / "works.parquet"
    pq.write_table(pa.table({"content": ["x"]}), path)

    with pytest.raises(InputError, match=r"no column 'text' \(columns: content\).*--text-field"):
        iter_records([path])


def test_a_file_that_is_not_parquet_is_an_input_error(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_text("not parquet")

    with pytest.raises(InputError, match="not a Parquet file"):
        iter_records([path])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.jsonl", "jsonl"),
        ("a.NDJSON", "jsonl"),
        ("a.parquet", "parquet"),
        ("a.py", "files"),
        ("a", "files"),
    ],
)
def test_the_format_is_detected_from_the_name(tmp_path, name, expected):
    assert detect_format(tmp_path / name) == expected


def test_records_from_several_inputs_come_in_argument_order(tmp_path, tree):
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(json.dumps({"id": "j1", "text": "x = 1"}) + "\n")

    ids = [r.id for r in iter_records([jsonl, tree / "src" / "add.c"])]

    assert ids == ["j1", str(tree / "src" / "add.c")]


def test_an_unknown_format_is_an_input_error(tree):
    with pytest.raises(InputError, match="unknown format"):
        iter_records([tree], format="xml")
