"""Edited snippets a person would still call a copy: what the public lookup page and scans rely
on (a builder pastes code with a few identifiers renamed)."""

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
