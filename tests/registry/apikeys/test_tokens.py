"""The key format, its parsing and its hash: no database."""

import hashlib

import pytest

from registry.apikeys import tokens


def test_a_new_key_reads_rk_prefix_secret_and_its_prefix_is_the_middle_part():
    prefix, full = tokens.generate()
    assert full.startswith(f"rk_{prefix}_")
    assert len(prefix) == 8 and len(full.split("_")[2]) == 32
    assert tokens.parse(full) == tokens.ParsedKey(prefix=prefix, full=full)


def test_two_keys_never_share_a_secret():
    assert len({tokens.generate()[1] for _ in range(200)}) == 200


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "rk_",
        "rk_abcdefgh",
        "xx_abcdefgh_" + "a" * 32,  # wrong kind
        "rk_abcdefg_" + "a" * 32,  # prefix one short
        "rk_abcdefgh_" + "a" * 31,  # secret one short
        "rk_abcdefgh_" + "a" * 33,
        "rk_ABCDEFGH_" + "a" * 32,  # upper case is not our alphabet
        "rk_abcdefg1_" + "a" * 32,  # 1 is not base32
        "rk_abcdefgh_" + "a" * 31 + "-",
        "rk_abc_efgh_" + "a" * 32,
    ],
)
def test_it_rejects_anything_that_cannot_be_a_key(raw):
    assert tokens.parse(raw) is None


def test_the_stored_hash_is_the_sha256_of_the_whole_key_and_matches_only_that_key():
    _, full = tokens.generate()
    stored = tokens.hash_key(full)
    assert stored == hashlib.sha256(full.encode()).hexdigest()
    assert tokens.matches(full, stored)
    assert not tokens.matches(full[:-1] + ("a" if full[-1] != "a" else "b"), stored)
