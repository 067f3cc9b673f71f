"""Signatures: bit-identical to datasketch's affine32 MinHash, and carrying their parameters."""

import dataclasses
import hashlib
import importlib

import datasketch
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.config import EngineConfig
from dedup.signatures import (
    ParameterMismatchError,
    Signature,
    SignatureParams,
    exact_hash,
    minhash,
    permutations,
    shingle_hashes,
    signature,
)
from dedup.tokenize import NORMALISER_VERSION, tokenize

kernels = importlib.import_module("dedup._kernels")

DETERMINISTIC = settings(derandomize=True, deadline=None, max_examples=80)
uint32s = st.lists(
    st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 2**31, 2**32 - 1])),
    max_size=300,
)

ALICE_CODE = """
def mean(values):
    '''Average of a list.'''
    total = 0
    for value in values:
        total += value
    return total / len(values)
"""
# Bob copied Alice's function, renamed everything, dropped the docstring and added comments.
BOB_CODE = """
def average(xs):  # bob's version
    acc = 0
    for x in xs:
        acc += x   # accumulate
    return acc / len(xs)
"""


def reference_minhash(hashes, num_perm, seed):
    m = datasketch.MinHash(num_perm=num_perm, seed=seed, scheme="affine32", hashfunc=lambda x: x)
    m.update_batch(hashes)
    return m.hashvalues


# ---- MinHash -------------------------------------------------------------------------------------


@DETERMINISTIC
@given(hashes=uint32s, num_perm=st.integers(1, 300), seed=st.integers(0, 2**32 - 1))
def test_minhash_is_bit_identical_to_datasketch_affine32(hashes, num_perm, seed):
    ours = minhash(np.array(hashes, dtype=np.uint32), num_perm=num_perm, seed=seed)
    assert ours.dtype == np.uint32
    np.testing.assert_array_equal(ours, reference_minhash(hashes, num_perm, seed))


@DETERMINISTIC
@given(hashes=uint32s, num_perm=st.sampled_from([1, 16, 128, 256]), seed=st.integers(0, 1000))
def test_the_numba_and_numpy_minhash_agree(hashes, num_perm, seed):
    a, b = permutations(num_perm, seed)
    fast = np.full(num_perm, 0xFFFFFFFF, dtype=np.uint32)
    slow = fast.copy()
    kernels.minhash_into(np.array(hashes, dtype=np.uint32), a, b, fast)
    kernels.minhash_into(np.array(hashes, dtype=np.uint32), a, b, slow, pure=True)
    np.testing.assert_array_equal(fast, slow)


def test_minhash_of_a_large_set_crosses_the_numpy_chunk_boundary():
    hashes = np.random.RandomState(7).randint(0, 2**32, 5_000, dtype=np.uint32)
    np.testing.assert_array_equal(minhash(hashes, num_perm=64, seed=3), reference_minhash(hashes, 64, 3))


def unfmix32(h: int) -> int:
    """The inverse of MurmurHash3's fmix32: the hash whose mixed value (inside MinHash) is ``h``."""
    h ^= h >> 16
    h = (h * pow(0xC2B2AE35, -1, 2**32)) & 0xFFFFFFFF
    h ^= (h >> 13) ^ (h >> 26)
    h = (h * pow(0x85EBCA6B, -1, 2**32)) & 0xFFFFFFFF
    return h ^ (h >> 16)


def test_unfmix32_inverts_the_kernels_fmix32():
    for h in (0, 1, 0xDEADBEEF, 2**32 - 1):
        assert getattr(kernels.fmix32, "py_func", kernels.fmix32)(unfmix32(h)) == h


# The kernel drops repeated values with a small lossy table before the permutations (mixed value
# -> slot by its low bits): repeats, values that fight over one slot, values that look like an
# unused slot's filler, and more values than slots must all leave the signature exact.
REPEATS_AND_COLLISIONS = {
    "one value many times": [7] * 50,
    "repeats far apart": list(range(40)) * 3,
    "two values sharing a slot, alternating": [unfmix32(5), unfmix32(5 + 2**20)] * 20,
    "mixed values equal to unused-slot fillers": [unfmix32(v) for v in range(70)],
    "more values than slots, each twice": list(range(20_000)) * 2,
}


@pytest.mark.parametrize("hashes", REPEATS_AND_COLLISIONS.values(), ids=REPEATS_AND_COLLISIONS.keys())
@pytest.mark.parametrize("pure", [False, True], ids=["kernel", "fallback"])
def test_minhash_is_exact_whatever_the_repeats_filter_drops(hashes, pure):
    a, b = permutations(128, 1)
    out = np.full(128, 0xFFFFFFFF, dtype=np.uint32)
    kernels.minhash_into(np.array(hashes, dtype=np.uint32), a, b, out, pure=pure)
    np.testing.assert_array_equal(out, reference_minhash(hashes, 128, 1))


@pytest.mark.parametrize("num_perm, seed", [(1, 0), (128, 1), (256, 42)])
def test_minhash_of_nothing_is_datasketchs_empty_sketch(num_perm, seed):
    assert minhash(np.empty(0, np.uint32), num_perm=num_perm, seed=seed).tolist() == [2**32 - 1] * num_perm


def test_permutations_match_datasketch_and_are_cached_read_only():
    a, b = permutations(128, 1)
    ref = datasketch.MinHash(num_perm=128, seed=1, scheme="affine32").permutations
    np.testing.assert_array_equal(a, ref[0])
    np.testing.assert_array_equal(b, ref[1])
    assert permutations(128, 1)[0] is a
    assert not a.flags.writeable


# ---- shingles ------------------------------------------------------------------------------------


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """Reference MurmurHash3_x86_32 for 4-byte-aligned input."""
    h = seed
    for i in range(0, len(data), 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * 0xCC9E2D51) & 0xFFFFFFFF
        k = ((k << 15) | (k >> 17)) & 0xFFFFFFFF
        k = (k * 0x1B873593) & 0xFFFFFFFF
        h ^= k
        h = ((h << 13) | (h >> 19)) & 0xFFFFFFFF
        h = (h * 5 + 0xE6546B64) & 0xFFFFFFFF
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


@DETERMINISTIC
@given(tokens=uint32s, k=st.integers(1, 16))
def test_shingle_hashes_are_murmur3_of_each_window_and_both_kernels_agree(tokens, k):
    arr = np.array(tokens, dtype=np.uint32)
    ours = shingle_hashes(arr, k)
    width = min(k, len(tokens))
    expected = (
        [murmur3_32(arr[i : i + width].astype("<u4").tobytes()) for i in range(len(tokens) - width + 1)]
        if tokens
        else []
    )
    assert ours.tolist() == expected
    np.testing.assert_array_equal(ours, kernels.shingles(arr, k, pure=True))


@pytest.mark.parametrize(
    "n_tokens, k, n_shingles",
    [(0, 5, 0), (1, 5, 1), (4, 5, 1), (5, 5, 1), (6, 5, 2), (10, 1, 10)],
)
def test_short_documents_give_one_shingle_and_empty_ones_none(n_tokens, k, n_shingles):
    assert shingle_hashes(np.arange(n_tokens, dtype=np.uint32), k).shape == (n_shingles,)


def test_shingle_order_matters():
    assert (
        shingle_hashes(np.array([1, 2], np.uint32), 2)[0] != shingle_hashes(np.array([2, 1], np.uint32), 2)[0]
    )


# ---- signatures ----------------------------------------------------------------------------------

CONFIG = EngineConfig()


def test_a_signature_equals_the_datasketch_minhash_of_its_shingles():
    sig = signature(ALICE_CODE, kind="code", language="python", config=CONFIG)
    shingles = shingle_hashes(tokenize(ALICE_CODE, kind="code", language="python").abstract, 5)
    np.testing.assert_array_equal(sig.hashvalues, reference_minhash(shingles, 128, 1))
    assert sig.params == SignatureParams("affine32", 1, 128, 5, NORMALISER_VERSION, "abstract")


def test_bobs_renamed_copy_is_close_to_alices_on_the_abstract_channel():
    alice = signature(ALICE_CODE, kind="code", language="python", config=CONFIG)
    bob = signature(BOB_CODE, kind="code", language="python", config=CONFIG)
    unrelated = signature("import os\nprint(os.getcwd())\n", kind="code", language="python", config=CONFIG)
    assert alice.jaccard(bob) > 0.6
    assert alice.jaccard(unrelated) < 0.1
    alice_exact = signature(ALICE_CODE, kind="code", language="python", config=CONFIG, channel="exact")
    bob_exact = signature(BOB_CODE, kind="code", language="python", config=CONFIG, channel="exact")
    assert alice_exact.jaccard(bob_exact) < alice.jaccard(bob)


def test_prose_signatures_default_to_the_exact_channel():
    sig = signature("The quick brown fox.", kind="prose", config=CONFIG)
    assert sig.params.channel == "exact"


def test_bytes_and_text_give_the_same_signature():
    a = signature(ALICE_CODE, kind="code", language="python", config=CONFIG)
    b = signature(ALICE_CODE.encode(), kind="code", language="python", config=CONFIG)
    np.testing.assert_array_equal(a.hashvalues, b.hashvalues)


def test_an_empty_document_has_the_empty_signature():
    sig = signature("", kind="code", language="python", config=CONFIG)
    assert sig.is_empty()
    assert not signature("x", kind="code", config=CONFIG).is_empty()


@pytest.mark.parametrize(
    "change, parameter",
    [
        ({"num_perm": 64}, "num_perm"),
        ({"seed": 2}, "seed"),
        ({"shingle_size": 3}, "shingle_size"),
        ({"normaliser_version": NORMALISER_VERSION + 1}, "normaliser_version"),
        ({"channel": "exact"}, "channel"),
    ],
)
def test_comparing_signatures_with_different_parameters_raises_naming_the_parameter(change, parameter):
    sig = signature(ALICE_CODE, kind="code", language="python", config=CONFIG)
    params = dataclasses.replace(sig.params, **change)
    other = Signature(params=params, hashvalues=np.zeros(params.num_perm, np.uint32))
    with pytest.raises(ParameterMismatchError, match=f"different {parameter}"):
        sig.jaccard(other)
    with pytest.raises(ParameterMismatchError, match=f"different {parameter}"):
        other.jaccard(sig)


def test_a_signature_is_identical_to_itself():
    sig = signature(ALICE_CODE, kind="code", language="python", config=CONFIG)
    assert sig.jaccard(sig) == 1.0


def test_hashvalues_must_match_num_perm():
    params = SignatureParams("affine32", 1, 128, 5, NORMALISER_VERSION, "exact")
    with pytest.raises(ValueError, match=r"hashvalues must have shape \(128,\)"):
        Signature(params=params, hashvalues=np.zeros(64, np.uint32))


@pytest.mark.parametrize("num_perm, seed, shingle_size", [(1, 0, 1), (128, 1, 5), (1024, 2**32 - 1, 16)])
def test_to_bytes_round_trips_values_and_parameters(num_perm, seed, shingle_size):
    config = EngineConfig(num_perm=num_perm, seed=seed, shingle_size=shingle_size)
    sig = signature(ALICE_CODE, kind="code", language="python", config=config)
    data = sig.to_bytes()
    assert len(data) == 20 + 4 * num_perm
    back = Signature.from_bytes(data)
    assert back.params == sig.params
    np.testing.assert_array_equal(back.hashvalues, sig.hashvalues)
    assert back.hashvalues.dtype == np.uint32


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b"XXXX" + b[4:], "not a dedup signature"),
        (lambda b: b[:3], "not a dedup signature"),
        (lambda b: b[:4] + bytes([99]) + b[5:], "unsupported signature format version 99"),
        (lambda b: b[:-4], "corrupt signature"),
        (lambda b: b[:5] + bytes([7]) + b[6:], "corrupt signature header"),
    ],
)
def test_from_bytes_rejects_damaged_data(mutate, message):
    data = signature(ALICE_CODE, kind="code", config=CONFIG).to_bytes()
    with pytest.raises(ValueError, match=message):
        Signature.from_bytes(mutate(data))


# ---- datasketch interop ------------------------------------------------------------------------


@pytest.fixture
def library():
    docs = {
        "alice": ALICE_CODE,
        "bob": BOB_CODE,
        "carol": "import json\n\ndef load(path):\n    with open(path) as fh:\n        return json.load(fh)\n",
    }
    return {
        name: signature(text, kind="code", language="python", config=CONFIG) for name, text in docs.items()
    }


def test_to_datasketch_gives_an_equivalent_lean_minhash(library):
    lean = library["alice"].to_datasketch()
    assert isinstance(lean, datasketch.LeanMinHash)
    assert lean.scheme == "affine32" and lean.seed == 1
    assert lean.jaccard(library["bob"].to_datasketch()) == library["alice"].jaccard(library["bob"])


def test_datasketch_minhash_lsh_indexes_and_finds_our_signatures(library):
    lsh = datasketch.MinHashLSH(threshold=0.5, num_perm=128)
    for name, sig in library.items():
        lsh.insert(name, sig.to_datasketch())
    assert sorted(lsh.query(library["alice"].to_datasketch())) == ["alice", "bob"]


def test_datasketch_lsh_ensemble_indexes_and_finds_our_signatures(library):
    ensemble = datasketch.MinHashLSHEnsemble(threshold=0.5, num_perm=128, num_part=2)
    ensemble.index([(name, sig.to_datasketch(), 30) for name, sig in library.items()])
    assert "alice" in set(ensemble.query(library["alice"].to_datasketch(), 30))


def test_datasketch_lsh_forest_indexes_and_finds_our_signatures(library):
    forest = datasketch.MinHashLSHForest(num_perm=128)
    for name, sig in library.items():
        forest.add(name, sig.to_datasketch())
    forest.index()
    assert forest.query(library["alice"].to_datasketch(), 1) == ["alice"]


# ---- exact hash ----------------------------------------------------------------------------------


def test_copies_differing_only_in_whitespace_and_comments_share_an_exact_hash():
    a = exact_hash("x = 1\ny = 2\n", kind="code", language="python")
    b = exact_hash("x=1  # one\n\n\ny = 2", kind="code", language="python")
    assert a == b
    assert len(a) == 64 and int(a, 16) >= 0


def test_a_rename_changes_the_exact_hash():
    assert exact_hash("x = 1", kind="code", language="python") != exact_hash(
        "z = 1", kind="code", language="python"
    )


def test_the_exact_hash_depends_on_the_kind():
    assert exact_hash("hello world", kind="code") != exact_hash("hello world", kind="prose")


def test_the_exact_hash_is_sha256_of_a_tag_and_the_exact_token_hashes():
    tokens = tokenize("a b", kind="prose")
    expected = hashlib.sha256(
        f"dedup:prose:{NORMALISER_VERSION}:".encode() + tokens.exact.astype("<u4").tobytes()
    )
    assert exact_hash("A, B!", kind="prose") == expected.hexdigest()
