"""EngineConfig validation: every bad field is named, with its allowed range."""

import dataclasses

import pytest

from dedup.config import EngineConfig


def test_the_defaults_are_the_documented_ones():
    config = EngineConfig()
    assert config.as_dict() == {
        "num_perm": 128,
        "seed": 1,
        "shingle_size": 5,
        "threshold": 0.7,
        "min_snippet_chars": 150,
        "winnow_k": 5,
        "winnow_window": 4,
        "boilerplate_max_df": 50,
        "scheme": "affine32",
        "whole_coverage": 0.5,
        "min_snippet_verified": 0.4,
        "min_abstract_shingles": 100,
        "min_abstract_diversity": 0.1,
        "min_snippet_run": 1.0,
    }


def test_it_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        EngineConfig().num_perm = 64


@pytest.mark.parametrize(
    "field, value",
    [
        ("num_perm", 1),
        ("num_perm", 1024),
        ("seed", 0),
        ("seed", 2**32 - 1),
        ("shingle_size", 1),
        ("shingle_size", 16),
        ("threshold", 0.01),
        ("threshold", 0.99),
        ("min_snippet_chars", 1),
        ("winnow_k", 1),
        ("winnow_window", 1),
        ("boilerplate_max_df", 1),
        ("whole_coverage", 0.01),
        ("whole_coverage", 1),
        ("min_snippet_verified", 0),
        ("min_snippet_verified", 1.0),
        ("min_abstract_shingles", 0),
        ("min_abstract_diversity", 0),
        ("min_abstract_diversity", 1),
        ("min_snippet_run", 0),
        ("min_snippet_run", 1.0),
    ],
)
def test_it_accepts_values_at_the_edges_of_the_allowed_range(field, value):
    assert getattr(EngineConfig(**{field: value}), field) == value


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("num_perm", 0, "num_perm must be an integer from 1 to 1024"),
        ("num_perm", 1025, "num_perm must be an integer from 1 to 1024"),
        ("num_perm", 128.0, "num_perm must be an integer from 1 to 1024"),
        ("num_perm", True, "num_perm must be an integer from 1 to 1024"),
        ("seed", -1, "seed must be an integer from 0 to 4294967295"),
        ("seed", 2**32, "seed must be an integer from 0 to 4294967295"),
        ("shingle_size", 0, "shingle_size must be an integer from 1 to 16"),
        ("shingle_size", 17, "shingle_size must be an integer from 1 to 16"),
        ("threshold", 0, "threshold must be a number strictly between 0 and 1"),
        ("threshold", 1, "threshold must be a number strictly between 0 and 1"),
        ("threshold", 1.5, "threshold must be a number strictly between 0 and 1"),
        ("threshold", "0.5", "threshold must be a number strictly between 0 and 1"),
        ("threshold", float("nan"), "threshold must be a number strictly between 0 and 1"),
        ("min_snippet_chars", 0, "min_snippet_chars must be an integer >= 1"),
        ("winnow_k", 0, "winnow_k must be an integer >= 1"),
        ("winnow_window", 0, "winnow_window must be an integer >= 1"),
        ("boilerplate_max_df", 0, "boilerplate_max_df must be an integer >= 1"),
        ("whole_coverage", 0, "whole_coverage must be a number greater than 0 and at most 1"),
        ("whole_coverage", 1.01, "whole_coverage must be a number greater than 0 and at most 1"),
        ("min_snippet_verified", -0.1, "min_snippet_verified must be a number from 0 to 1"),
        ("min_snippet_verified", float("nan"), "min_snippet_verified must be a number from 0 to 1"),
        ("min_snippet_verified", True, "min_snippet_verified must be a number from 0 to 1"),
        ("min_abstract_shingles", -1, "min_abstract_shingles must be an integer >= 0"),
        ("min_abstract_diversity", 2, "min_abstract_diversity must be a number from 0 to 1"),
        ("min_snippet_run", 1.5, "min_snippet_run must be a number from 0 to 1"),
        ("min_snippet_run", "1", "min_snippet_run must be a number from 0 to 1"),
        ("scheme", "legacy", "scheme must be one of 'affine32'"),
        ("scheme", "affine64", "scheme must be one of 'affine32'"),
    ],
)
def test_it_rejects_a_bad_field_with_a_message_naming_it_and_its_range(field, value, message):
    with pytest.raises(ValueError, match=message):
        EngineConfig(**{field: value})
