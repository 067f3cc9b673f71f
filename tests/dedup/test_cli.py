"""The command line, run in-process through ``main(argv)`` (plus one real ``python -m dedup``).

Personas: alice registers her project; bob submits files, some of them copied from alice.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dedup.cli import main

# A real-looking module, long enough for snippets (the default minimum is 150 characters).
ALICE_LIB = '''"""Inventory helpers."""

import math


def reorder_level(daily_demand, lead_time_days, safety_stock=10):
    """Stock level at which a new order must be placed."""
    if daily_demand < 0 or lead_time_days < 0:
        raise ValueError("demand and lead time must not be negative")
    return math.ceil(daily_demand * lead_time_days) + safety_stock


def economic_order_quantity(annual_demand, order_cost, holding_cost):
    """Wilson's formula for the order size that minimises total cost."""
    if holding_cost <= 0:
        raise ValueError("holding cost must be positive")
    return math.sqrt(2 * annual_demand * order_cost / holding_cost)


def stock_turnover(cost_of_goods_sold, opening_stock, closing_stock):
    average = (opening_stock + closing_stock) / 2
    if average == 0:
        return 0.0
    return cost_of_goods_sold / average


def days_of_supply(on_hand, daily_demand):
    if daily_demand <= 0:
        return math.inf
    return on_hand / daily_demand
'''

ALICE_OTHER = """import json
import pathlib


def load_settings(path):
    text = pathlib.Path(path).read_text(encoding="utf-8")
    settings = json.loads(text)
    for key in ("name", "version", "entries"):
        if key not in settings:
            raise KeyError(f"missing setting {key}")
    return settings


def save_settings(path, settings):
    pathlib.Path(path).write_text(json.dumps(settings, indent=2, sort_keys=True), encoding="utf-8")
"""

BOB_UNRELATED = """def fizzbuzz(limit):
    for number in range(1, limit + 1):
        if number % 15 == 0:
            print("FizzBuzz")
        elif number % 3 == 0:
            print("Fizz")
        elif number % 5 == 0:
            print("Buzz")
        else:
            print(number)
"""


def _renamed_copy() -> str:
    return ALICE_LIB.replace("daily_demand", "demand_per_day").replace("safety_stock", "buffer")


def _snippet_file() -> str:
    lines = ALICE_LIB.splitlines()
    # alice's economic_order_quantity (lines 13-17), pasted after some of bob's own code
    return BOB_UNRELATED + "\n\n" + "\n".join(lines[12:17]) + "\n"


@pytest.fixture
def alice_index(tmp_path):
    src = tmp_path / "alice"
    (src / "inventory").mkdir(parents=True)
    (src / "inventory" / "stock.py").write_text(ALICE_LIB)
    (src / "settings.py").write_text(ALICE_OTHER)
    index = tmp_path / "alice.idx"
    assert main(["--quiet", "index", "build", str(src), "--out", str(index)]) == 0
    return index


@pytest.fixture
def bob_folder(tmp_path):
    bob = tmp_path / "bob"
    bob.mkdir()
    (bob / "renamed.py").write_text(_renamed_copy())
    (bob / "pasted.py").write_text(_snippet_file())
    (bob / "fizz.py").write_text(BOB_UNRELATED)
    (bob / "image.bin").write_bytes(b"\0\1\2\3" * 64)
    return bob


def _scan(capsys, *argv) -> tuple[int, str, str]:
    code = main(["scan", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_scan_finds_the_renamed_copy_and_the_pasted_snippet_with_line_ranges(alice_index, bob_folder, capsys):
    code, out, err = _scan(capsys, bob_folder, "--index", alice_index)

    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    by_query = {row["query_id"].rsplit("/", 1)[-1]: row for row in rows}
    assert set(by_query) == {"renamed.py", "pasted.py"}

    renamed = by_query["renamed.py"]
    assert renamed["doc"].endswith("inventory/stock.py")
    assert renamed["kind"] in ("near-duplicate", "exact")
    assert renamed["verified"] >= 0.7

    pasted = by_query["pasted.py"]
    assert pasted["doc"].endswith("inventory/stock.py")
    assert pasted["kind"] == "snippet"
    ((q_start, q_end),) = pasted["query_lines"]
    ((d_start, d_end),) = pasted["doc_lines"]
    assert (q_start, q_end) == (13, 17)  # after bob's 10 lines and two blank lines
    assert (d_start, d_end) == (13, 17)
    assert set(pasted) >= {"doc_id", "estimated", "matched_chars", "query_source", "doc_source"}


def test_the_summary_counts_scanned_matched_and_the_skipped_binary(alice_index, bob_folder, capsys):
    _code, _out, err = _scan(capsys, bob_folder, "--index", alice_index)

    assert "scanned 3, matched 2" in err
    assert "skipped 1: 1 binary" in err and "image.bin" in err


def test_csv_output_has_a_header_and_line_ranges_as_text(alice_index, bob_folder, tmp_path, capsys):
    target = tmp_path / "matches.csv"

    code, out, _err = _scan(
        capsys, bob_folder, "--index", alice_index, "--output", target, "--output-format", "csv"
    )

    assert code == 0 and out == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    pasted = next(row for row in rows if row["query_id"].endswith("pasted.py"))
    assert pasted["kind"] == "snippet"
    assert pasted["query_lines"] == "13-17" and pasted["doc_lines"] == "13-17"
    assert float(pasted["verified"]) > 0


def test_jsonl_input_with_a_malformed_line_is_scanned_and_the_line_is_reported(alice_index, tmp_path, capsys):
    submissions = tmp_path / "bob.jsonl"
    submissions.write_text(
        json.dumps({"id": "bob-1", "text": _renamed_copy(), "language": "python"})
        + "\n{oops\n"
        + json.dumps({"id": "bob-2", "text": BOB_UNRELATED, "language": "python"})
        + "\n"
    )

    code, out, err = _scan(capsys, submissions, "--index", alice_index)

    assert code == 0
    assert [json.loads(line)["query_id"] for line in out.splitlines()] == ["bob-1"]
    assert "malformed JSON (line 2)" in err


def test_an_index_can_be_built_from_parquet_with_named_columns(tmp_path, bob_folder, capsys):
    table = pa.table(
        {"work": ["w-stock", "w-settings"], "body": [ALICE_LIB, ALICE_OTHER], "language": ["python"] * 2}
    )
    works = tmp_path / "works.parquet"
    pq.write_table(table, works)
    index = tmp_path / "works.idx"

    assert (
        main(
            [
                "-q",
                "index",
                "build",
                str(works),
                "--out",
                str(index),
                "--text-field",
                "body",
                "--id-field",
                "work",
            ]
        )
        == 0
    )
    code, out, _err = _scan(capsys, bob_folder / "renamed.py", "--index", index)

    assert code == 0
    assert json.loads(out.splitlines()[0])["doc"] == "w-stock"


def test_index_info_describes_documents_and_config(alice_index, capsys):
    assert main(["index", "info", str(alice_index), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)

    assert info["documents"] == 2
    assert info["languages"] == {"python": 2}
    assert info["config"]["num_perm"] == 128


def test_build_records_the_id_map_and_refuses_to_overwrite_without_force(alice_index, tmp_path, capsys):
    docs = [json.loads(line) for line in (alice_index / "docs.jsonl").read_text().splitlines()]
    assert sorted(d["doc_id"] for d in docs) == [0, 1]

    code = main(["index", "build", str(tmp_path / "alice"), "--out", str(alice_index)])
    assert code == 2
    assert "--force" in capsys.readouterr().err

    assert main(["-q", "index", "build", str(tmp_path / "alice"), "--out", str(alice_index), "--force"]) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", "does-not-exist", "--index", "{index}"],
        ["index", "build", "does-not-exist", "--out", "{tmp}/x.idx"],
        ["scan", "{tmp}", "--index", "{tmp}/no-such.idx"],
        ["index", "build", "{tmp}", "--out", "{tmp}/y.idx", "--num-perm", "0"],
        ["index", "build", "{tmp}", "--out", "{tmp}/y.idx", "--threshold", "1.5"],
        ["scan"],
        ["frobnicate"],
    ],
)
def test_bad_input_is_one_error_line_and_exit_status_2(argv, alice_index, tmp_path, capsys):
    argv = [a.format(index=alice_index, tmp=tmp_path) for a in argv]

    code = main(argv)

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_failed_build_leaves_no_half_written_index(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text(ALICE_OTHER)
    pq.write_table(pa.table({"content": ["x"]}), tmp_path / "bad.parquet")

    code = main(
        ["index", "build", str(src), str(tmp_path / "bad.parquet"), "--out", str(tmp_path / "out.idx")]
    )

    assert code == 2
    assert "no column 'text'" in capsys.readouterr().err
    assert not (tmp_path / "out.idx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.parquet", "src"]  # no temporary left


def test_fingerprinting_in_a_pool_gives_the_same_matches(alice_index, bob_folder, capsys):
    _code, serial, _err = _scan(capsys, bob_folder, "--index", alice_index)
    code, pooled, _err = _scan(capsys, bob_folder, "--index", alice_index, "--jobs", "2")

    assert code == 0
    assert pooled == serial


def test_help_explains_the_commands_with_examples(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "index build" in text and "scan" in text and "examples:" in text

    for argv in (["scan", "--help"], ["index", "build", "--help"], ["index", "info", "--help"]):
        assert main(argv) == 0
        assert "python -m dedup" in capsys.readouterr().out


def test_python_dash_m_dedup_help_runs_as_a_real_process():
    done = subprocess.run(
        [sys.executable, "-m", "dedup", "--help"], capture_output=True, text=True, timeout=120, check=False
    )

    assert done.returncode == 0
    assert "usage: python -m dedup" in done.stdout
