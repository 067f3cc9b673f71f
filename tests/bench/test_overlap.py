"""The benchmark's ground truth for shared text: exact at the 150-character boundary."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tests.bench import overlap


def _words(seed: int, n: int) -> str:
    rng = random.Random(seed)
    return " ".join(
        "".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(2, 8))) for _ in range(n)
    )


def test_window_hashes_equal_the_polynomial_computed_by_hand():
    text = "".join(random.Random(1).choice("ab=(é€😀") for _ in range(200))
    b = int(overlap._B)

    expected = [
        sum(ord(text[i + k]) * pow(b, k, 2**64) for k in range(overlap.WINDOW)) % 2**64
        for i in range(len(text) - overlap.WINDOW + 1)
    ]

    assert overlap.window_hashes(text).tolist() == expected


def test_a_text_shorter_than_the_window_has_no_windows():
    assert len(overlap.window_hashes("x" * (overlap.WINDOW - 1))) == 0


@pytest.mark.parametrize(("shared", "related"), [(0, False), (149, False), (150, True), (400, True)])
def test_a_file_is_related_exactly_when_it_shares_a_run_of_150_chars(shared, related):
    registered = overlap.verbatim_view(_words(1, 300))
    run = registered[500 : 500 + shared]
    # The run sits between text that shares nothing with the registered file (other letters).
    other = overlap.verbatim_view(_words(2, 50)).upper()
    query = other + run + other

    found = overlap.SharedRuns([overlap.verbatim_view(_words(3, 300)), registered]).find(query)

    assert found == (1 if related else -1)


def test_whitespace_differences_do_not_hide_a_copy():
    alice = "def total(items):\n    return sum(item.price * item.count for item in items if item.count)\n" * 3
    bob = alice.replace("    ", "\t").replace(" * ", "*")

    assert overlap.SharedRuns([overlap.verbatim_view(alice)]).find(overlap.verbatim_view(bob)) == 0


def test_a_renamed_copy_shares_a_shape_run_but_not_a_verbatim_one():
    alice = "\n".join(f"    total_{i} = compute(price_{i}, count_{i}) + {i}" for i in range(30)) + "\n"
    bob = alice.replace("total", "amount").replace("price", "cost").replace("compute", "calc")

    assert overlap.SharedRuns([overlap.verbatim_view(alice)]).find(overlap.verbatim_view(bob)) == -1
    assert (
        overlap.SharedRuns([overlap.shape_view(alice, "python")]).find(overlap.shape_view(bob, "python")) == 0
    )


def test_copied_code_with_comments_between_its_lines_shares_a_code_run_but_not_a_verbatim_one():
    code = [f"    total_{i} = compute(price_{i}, count_{i}) + {i}" for i in range(12)]
    alice = "\n".join(code) + "\n"
    bob = "\n".join(f"{line}\n    # step {i} of the computation" for i, line in enumerate(code)) + "\n"

    assert overlap.SharedRuns([overlap.verbatim_view(alice)]).find(overlap.verbatim_view(bob)) == -1
    code_runs = overlap.SharedRuns([overlap.code_view(alice, "python")])
    assert code_runs.find(overlap.code_view(bob, "python")) == 0


def test_a_hash_collision_is_not_taken_for_shared_text(monkeypatch):
    runs = overlap.SharedRuns([overlap.verbatim_view(_words(1, 300))])
    query = overlap.verbatim_view(_words(2, 300)).upper()
    # Pretend every window of the query hashes to a registered window's hash.
    monkeypatch.setattr(
        overlap,
        "window_hashes",
        lambda text, window=overlap.WINDOW: np.full(len(text) - window + 1, runs.keys[0]),
    )

    assert runs.find(query) == -1
