"""Edited snippets a person would still call a copy: what the public lookup page and scans rely
on (a builder pastes code with a few identifiers renamed)."""

import difflib
import inspect
import re
import shlex
import textwrap

import pytest

from dedup import EngineConfig, Matcher
from dedup.fingerprint import fingerprint

CONFIG = EngineConfig()
SOURCE = inspect.getsource(shlex)


def _snippet(renames):
    lines = inspect.getsource(shlex.shlex.read_token).splitlines()[:40]
    snippet = textwrap.dedent("\n".join(lines))
    for old, new in renames:
        snippet = re.sub(rf"\b{old}\b", new, snippet)
    return snippet


@pytest.fixture(scope="module")
def matcher():
    m = Matcher(CONFIG)
    m.add(7, fingerprint(SOURCE, kind="code", language="python", config=CONFIG))
    return m


@pytest.mark.parametrize(
    "renames",
    [
        (),
        (("nextchar", "ch"),),
        (("nextchar", "ch"), ("escapedstate", "esc_mode"), ("quoted", "in_quotes")),
    ],
    ids=["verbatim", "one-rename", "three-renames"],
)
@pytest.mark.parametrize("language", ["python", None], ids=["hinted", "generic"])
def test_a_40_line_snippet_with_renamed_identifiers_is_found_where_it_came_from(matcher, renames, language):
    query = fingerprint(_snippet(renames), kind="code", language=language, config=CONFIG)
    (match,) = matcher.query(query)
    assert match.doc_id == 7 and match.kind == "snippet"
    start = SOURCE.splitlines().index("    def read_token(self):") + 1
    (doc_range,) = match.doc_lines
    assert abs(doc_range[0] - start) <= 2 and abs(doc_range[1] - (start + 39)) <= 3


def _longest_shared_run(a, b):
    """Longest run of non-whitespace characters that ``a`` and ``b`` share verbatim."""
    a, b = "".join(a.split()), "".join(b.split())
    return difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match().size


def test_a_snippet_renamed_everywhere_is_found_though_no_verbatim_piece_reaches_the_floor(matcher):
    # "self" renamed in 12 lines: no 150 characters are left verbatim, but the copy stays in
    # step with the source token for token, which is what the snippet floor measures
    snippet = _snippet([("self", "me")]).splitlines()[:12]
    snippet = "\n".join(snippet)
    assert _longest_shared_run(snippet, SOURCE) < CONFIG.min_snippet_chars
    (match,) = matcher.query(fingerprint(snippet, kind="code", language="python", config=CONFIG))
    assert match.doc_id == 7 and match.kind == "snippet"
