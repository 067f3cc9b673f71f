"""Fingerprints: one tokenisation, everything the engine keeps, round-tripped through bytes."""

import os
from pathlib import Path

import numpy as np
import pytest

from dedup.config import EngineConfig
from dedup.fingerprint import Fingerprint, check_compatible, fingerprint
from dedup.signatures import ParameterMismatchError, exact_hash, signature

CONFIG = EngineConfig()
ALICE_CODE = (Path(os.__file__).parent / "textwrap.py").read_text()


def test_it_agrees_with_the_signature_and_exact_hash_of_the_core():
    fp = fingerprint(ALICE_CODE, kind="code", language="python", config=CONFIG)
    sig = signature(ALICE_CODE, kind="code", language="python", config=CONFIG)
    assert fp.params == sig.params and fp.params.channel == "abstract"
    assert np.array_equal(fp.signature.hashvalues, sig.hashvalues)
    assert fp.exact_hash == exact_hash(ALICE_CODE, kind="code", language="python")
    assert np.all(np.diff(fp.shingles.astype(np.int64)) > 0)
    assert fp.num_lines == len(ALICE_CODE.splitlines())


def test_prose_uses_the_exact_channel():
    fp = fingerprint("The quick brown fox jumps over the lazy dog. " * 5, kind="prose", config=CONFIG)
    assert fp.params.channel == "exact"


@pytest.mark.parametrize("text", ["", ALICE_CODE])
def test_it_round_trips_through_bytes(text):
    fp = fingerprint(text, kind="code", language="python", config=CONFIG)
    back = Fingerprint.from_bytes(fp.to_bytes())
    assert back.params == fp.params and back.exact_hash == fp.exact_hash
    assert np.array_equal(back.shingles, fp.shingles) and np.array_equal(back.winnow, fp.winnow)
    assert np.array_equal(back.signature.hashvalues, fp.signature.hashvalues)
    assert (back.num_lines, back.num_tokens, back.num_chars) == (fp.num_lines, fp.num_tokens, fp.num_chars)
    assert fp.nbytes == len(fp.to_bytes())


def test_it_rejects_truncated_data_and_another_format_version():
    data = fingerprint(ALICE_CODE, kind="code", language="python", config=CONFIG).to_bytes()
    with pytest.raises(ValueError, match="bytes"):
        Fingerprint.from_bytes(data[:-4])
    with pytest.raises(ValueError, match="truncated"):
        Fingerprint.from_bytes(data[:3])
    with pytest.raises(ValueError, match="format version 99"):
        Fingerprint.from_bytes(data[:4] + (99).to_bytes(2, "little") + data[6:])


@pytest.mark.parametrize(
    "other",
    [EngineConfig(num_perm=64), EngineConfig(seed=2), EngineConfig(shingle_size=4), EngineConfig(winnow_k=6)],
)
def test_a_params_mismatch_between_config_and_fingerprint_raises(other):
    fp = fingerprint(ALICE_CODE, kind="code", language="python", config=CONFIG)
    with pytest.raises(ParameterMismatchError):
        check_compatible(fp, other)
