"""How a document is read before matching: one reading whenever the document says or shows
what it is (dedup/readings.py, shared by the filter API and the offline filter)."""

import inspect
import json
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.readings import guess_kind, guess_language, readings

SNIPPETS = {
    "python": inspect.getsource(textwrap.TextWrapper._wrap_chunks),
    "javascript": "const add = (a, b) => {\n  return a + b;\n};\n"
    "function main() {\n  console.log(add(1, 2));\n}\n",
    "typescript": "export interface Point {\n  x: number;\n  y: number;\n}\n"
    "export function norm(p: Point): number {\n"
    "  const s = p.x * p.x + p.y * p.y;\n  return Math.sqrt(s);\n}\n",
    "java": "package demo;\n\npublic class Hello {\n    public static void main(String[] args) {\n"
    '        System.out.println("hi");\n    }\n}\n',
    "c": "#include <stdio.h>\n#include <stdlib.h>\n\nint main(void) {\n    char *p = malloc(4);\n"
    '    printf("%p\\n", p);\n    free(p);\n    return 0;\n}\n',
    "cpp": "#include <vector>\n#include <iostream>\n\n"
    "template <typename T>\nT sum(const std::vector<T>& v) {\n"
    "    T s{};\n    for (auto x : v) s += x;\n    return s;\n}\n",
    "go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tx := 3\n\tfmt.Println(x)\n}\n',
    "rust": 'use std::io;\n\npub fn main() {\n    let mut n = 0;\n    n += 1;\n    println!("{}", n);\n}\n',
}

PROSE = (
    "Every programmer eventually keeps a garden. It starts with one script that renames files, "
    "then a second that tidies a log, and before long there is a shed full of small tools.\n\n"
    "Sharing such a garden is an act of trust. The author asks that their tools be used kindly."
)


@pytest.mark.parametrize("language", sorted(SNIPPETS))
def test_the_language_of_a_code_snippet_is_guessed_from_its_content(language):
    assert guess_language(SNIPPETS[language]) == language


def test_a_real_python_module_is_guessed_as_python():
    assert guess_language(inspect.getsource(json)) == "python"


@pytest.mark.parametrize("text", [PROSE, "", "hello", "1 + 2 = 3 -> fine"])
def test_prose_and_scraps_have_no_language(text):
    assert guess_language(text) is None


def test_prose_reads_as_prose_and_code_as_code():
    assert guess_kind(PROSE) == "prose"
    assert guess_kind(SNIPPETS["go"]) == "code"


def test_unclear_text_is_read_both_ways():
    unclear = "Call it with one argument (a name) and it answers in kind, then stops."
    assert guess_kind(unclear) is None
    assert readings(unclear, None, kinds_present=["code", "prose"]) == [("code", None), ("prose", None)]


def test_code_without_a_hint_is_read_once_in_the_guessed_language():
    assert readings(SNIPPETS["rust"], None, kinds_present=["code", "prose"]) == [("code", "rust")]


def test_a_language_hint_wins_over_the_guess_and_means_code():
    assert readings(SNIPPETS["rust"], "go", kinds_present=["code", "prose"]) == [("code", "go")]


def test_a_document_that_says_it_is_prose_is_read_as_prose_only():
    assert readings(SNIPPETS["python"], None, kinds_present=["code", "prose"], kinds=("prose",)) == [
        ("prose", None)
    ]


def test_a_kind_with_no_registered_documents_is_not_read():
    assert readings(PROSE, None, kinds_present=["code"]) == []
    assert readings(SNIPPETS["c"], None, kinds_present=["prose"]) == []


def _reference_kind(text: str) -> str | None:
    """The kind rule spelled one character at a time, as first written (the reference)."""
    sample = text[:8192]
    visible = sum(1 for c in sample if not c.isspace())
    if visible == 0:
        return None
    density = sum(1 for c in sample if c in "{}()[];=<>_#$*/\\|&") / visible
    return "prose" if density < 0.01 else "code" if density > 0.06 else None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["{", "}", "(", ";", "=", "_", "#", "\\", "|", "&", "word ", "\n", "\t"]),
            st.characters(),  # any code point, every Unicode space among them
        ),
        max_size=300,
    ).map("".join)
)
def test_the_kind_of_unhinted_text_follows_its_code_character_density(text):
    assert guess_kind(text) == (_reference_kind(text) if guess_language(text) is None else "code")
