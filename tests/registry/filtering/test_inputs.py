"""registry.filtering.inputs: the plain-Python reading of a filter call agrees with the serializer.

Whenever it answers, the serializer must find the same input valid and hold the same values;
when in doubt it answers None and the serializer words the error (test_errors.py covers those).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.filtering.api import PURPOSES, FilterApi, fast_filter_input


def serializer_answer(data):
    serializer = FilterApi.Input(data=data)
    return serializer.validated_data if serializer.is_valid() else None


def assert_agrees(data) -> None:
    fast = fast_filter_input(data)
    if fast is not None:
        assert serializer_answer(data) == fast


TYPICAL = [
    {"text": "def f():\n    return 1\n", "id": "doc-1", "language": "python"},
    {"text": "  indented, kept as sent  \n", "url": "https://github.com/alice/proj/blob/main/x.py"},
    {"text": "", "id": "", "url": "", "repository": "", "licence": "", "language": "", "kind": ""},
    {"text": "x", **dict.fromkeys(["id", "url", "repository", "licence", "language", "kind"])},
    {"text": "x", "id": "  padded  ", "language": " Python ", "kind": "code", "extra": [1, 2]},
    {"text": "lone \ud800 surrogate", "id": "\udfff", "kind": "prose"},
    {"text": "a\x00b", "licence": "MIT"},
]


@pytest.mark.parametrize("document", TYPICAL)
def test_valid_documents_are_read_without_the_serializer_and_as_it_reads_them(document):
    data = {"purpose": "train-ai", "documents": [document]}
    fast = fast_filter_input(data)
    assert fast is not None
    assert fast == serializer_answer(data)


@pytest.mark.parametrize(
    "data",
    [
        [1, 2],
        {"documents": []},
        {"purpose": 5, "documents": []},
        {"purpose": "train-ai", "documents": "text"},
        {"purpose": "train-ai", "documents": [{"id": "x"}]},
        {"purpose": "train-ai", "documents": [{"text": None}]},
        {"purpose": "train-ai", "documents": [{"text": 5}]},
        {"purpose": "train-ai", "documents": [{"text": True}]},
        {"purpose": "train-ai", "documents": ["text"]},
        {"purpose": "train-ai", "documents": [None]},
        {"purpose": "train-ai", "documents": [{"text": "a", "id": 5}]},
        {"purpose": "train-ai", "documents": [{"text": "a", "id": False}]},
        {"purpose": "train-ai", "documents": [{"text": "a", "kind": "poetry"}]},
        {"purpose": "train-ai", "documents": [{"text": "a", "kind": 1}]},
        {"purpose": "train-ai", "documents": [{"text": "a", "language": "x" * 33}]},
        {"purpose": "train-ai", "documents": [{"text": "a"}, {"text": "b", "url": "u" * 8001}]},
    ],
)
def test_anything_invalid_is_left_to_the_serializer(data):
    assert fast_filter_input(data) is None
    assert serializer_answer(data) is None


def test_the_limits_are_the_serializers_own():
    from registry.filtering.api import _OPTIONAL_LIMITS

    assert _OPTIONAL_LIMITS == {"id": 1000, "url": 8000, "repository": 8000, "licence": 500, "language": 32}


def test_a_value_at_its_length_limit_after_trimming_is_valid_as_for_the_serializer():
    data = {"purpose": "search", "documents": [{"text": "a", "language": "  " + "x" * 32 + "  "}]}
    assert fast_filter_input(data) == serializer_answer(data) != None  # noqa: E711


_pieces = ["a", " ", "\t", "\n", "\x00", "\ud800", "é", "code", "prose"]
_text = st.lists(st.sampled_from(_pieces), max_size=12).map("".join)
_value = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _text,
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)  # fmt: skip
_document = st.dictionaries(
    st.sampled_from(["text", "id", "url", "repository", "licence", "language", "kind", "other"]),
    st.one_of(_value, _text, st.sampled_from(["code", "prose", "", "  "])),
)
_data = st.one_of(
    st.fixed_dictionaries(
        {
            "purpose": st.one_of(st.sampled_from(PURPOSES), _value),
            "documents": st.lists(_document, max_size=4),
        }
    ),
    st.fixed_dictionaries({"purpose": st.sampled_from(PURPOSES), "documents": _value}),
    _value,
)


@settings(max_examples=400, deadline=None)
@given(_data)
def test_whenever_it_answers_the_serializer_answers_the_same(data):
    assert_agrees(data)
