"""The labelled set's own light reading of code: which lines carry code, and their tokens.

Deliberately simple and independent of the engine's tokenizer (``dedup.tokenize``): the ground
truth of the benchmark must not inherit the engine's mistakes. Used to cut snippets from code, to
score line ranges on code lines, and by the shared-run rules of :mod:`tests.bench.overlap` and
:mod:`tests.bench.aligned`.
"""

from __future__ import annotations

import re

# Languages whose line comments start with "#"; everything else in the corpus uses "//".
HASH_COMMENT = {"python", "cython"}

KEYWORDS = frozenset(
    """
    False None True and as assert async await break class continue def del elif else except
    finally for from global if import in is lambda nonlocal not or pass raise return try while
    with yield self cls print len range str int float list dict set tuple object super type
    cdef cpdef ctypedef cimport include nogil inline
    auto bool case char const default do double enum extern goto long register short signed
    sizeof static struct switch typedef union unsigned void volatile define ifdef ifndef endif
    undef pragma error line NULL true false this new delete public private protected virtual
    template typename namespace using operator friend explicit mutable noexcept nullptr
    function var let const export return typeof instanceof catch throw finally null undefined
    require module exports await async yield of get set static extends implements interface
    package func go chan map range select defer fn impl mut pub use mod crate match loop where
    std size_t uint32_t uint64_t int32_t int64_t uint8_t
    """.split()
)

ABSTRACT_TOKEN = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|\S")


def shape_tokens(text: str, language: str) -> list[str]:
    """The tokens of the code lines, identifiers -> I, numbers -> N, strings -> S."""
    flags = code_lines(text, language)
    code = "\n".join(line for line, keep in zip(text.splitlines(), flags, strict=False) if keep)
    shape = []
    for tok in ABSTRACT_TOKEN.findall(code):
        c = tok[0]
        if c.isdigit():
            shape.append("N")
        elif c in "\"'":
            shape.append("S")
        elif (c.isalpha() or c == "_") and tok not in KEYWORDS:
            shape.append("I")
        else:
            shape.append(tok)
    return shape


_TRIPLE = re.compile(r"\"\"\"|'''")


def code_lines(text: str, language: str) -> list[bool]:
    """For each line: does it carry code tokens (not blank, a comment, or inside a docstring)?

    A light line classifier, not a tokenizer: ``#``/``//`` line comments, C block comments and
    the inner lines of Python triple-quoted strings are not code (the line a docstring *starts*
    on is: the string is one token there). Snippets are cut from code and line-range IoU is
    measured on code lines, because comments and the inside of strings carry no tokens for any
    token-based engine to place.
    """
    out = []
    in_block = False
    in_string = ""  # the triple quote that opened the string we are in; only it closes it
    for line in text.splitlines():
        s = line.strip()
        if language in HASH_COMMENT:
            out.append(not in_string and bool(s) and not s.startswith("#"))
            for quote in _TRIPLE.findall(s):
                if not in_string:
                    in_string = quote
                elif quote == in_string:
                    in_string = ""
            continue
        if in_block:
            out.append(False)
            if "*/" in s:
                in_block = False
            continue
        if s.startswith("/*"):
            out.append(False)
            in_block = "*/" not in s[2:]
            continue
        out.append(bool(s) and not s.startswith(("//", "*")))
        if "/*" in s and "*/" not in s[s.index("/*") :]:
            in_block = True
    return out
