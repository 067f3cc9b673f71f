"""How a document is read before it is matched: the (kind, language) pairs it is fingerprinted with.

The registry (`registry/engine.py`: the filter API, lookups and scans) and the offline filter
(`dedup/snapshot.py`) both call `readings`, so a document gets the same matches either way.

Every reading costs a whole fingerprint, so a document is read once whenever that is enough:

- code is read in its hinted language, else in the language its content shows
  (`guess_language`), else with the generic tokenizer. A snippet cut from the middle of a
  docstring or block comment needs no second tokenizer: the fingerprint's flat reading
  (`dedup.fingerprint.flatten`) covers it.
- prose is read once.
- a document whose kind is not given is read as code when it looks like code (a language hint,
  or code-like content), as prose when it reads like prose, and both ways only when it is unclear.

The guess is a handful of line patterns per language, not a classifier: registered documents
are read in their own language, and a query read in a near relative (C for C++, JavaScript for
TypeScript) still yields nearly the same tokens, because the families share their comment and
string syntax. What matters is the family, and the patterns below tell families apart well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

KINDS = ("code", "prose")

# How much of a document the guess looks at: enough lines to see its shape, bounded cost.
_SAMPLE_CHARS = 8192

# (language, pattern, weight). Patterns match whole lines (re.M); a language's score is the sum of
# its weights over the matching lines of the sample, and the best score wins.
_PATTERNS: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    # (language, pattern, weight, literals): every match of the pattern contains one of the
    # literals, so a sample holding none of them skips the pattern. The regular expressions
    # cost milliseconds on a large sample (their unanchored branches are tried at every
    # position); a substring test is a memchr-speed scan.
    ("python", r"^\s*(?:async\s+)?def\s+\w+\s*\(.*\)\s*(?:->.*)?:\s*$", 3, ("def",)),
    ("python", r"^\s*class\s+\w+(?:\(.*\))?:\s*$", 3, ("class",)),
    ("python", r"^\s*(?:from\s+[\w.]+\s+import\s+|import\s+[\w.]+(?:\s+as\s+\w+)?\s*$)", 2, ("import",)),
    (
        "python",
        r"^\s*(?:elif\b.*:|if\s+__name__\s*==|return\s+None\b|self\.\w+\s*=)",
        2,
        ("elif", "__name__", "None", "self."),
    ),
    ("python", r'^\s*(?:"""|\'\'\')', 1, ('"""', "'''")),
    ("javascript", r"^\s*(?:export\s+)?(?:const|let|var)\s+\w+\s*=", 2, ("const", "let", "var")),
    ("javascript", r"^\s*(?:export\s+)?(?:async\s+)?function\s*\*?\s*\w*\s*\(", 3, ("function",)),
    (
        "javascript",
        r"=>\s*[{(]?\s*$|\bconsole\.\w+\(|\brequire\(['\"]|^\s*module\.exports\b",
        2,
        ("=>", "console.", "require(", "module.exports"),
    ),
    ("typescript", r"^\s*(?:export\s+)?(?:interface|type)\s+\w+.*[={]\s*$", 3, ("interface", "type")),
    (
        "typescript",
        r":\s*(?:string|number|boolean|void|any)\b",
        1,
        ("string", "number", "boolean", "void", "any"),
    ),
    (
        "java",
        r"^\s*(?:public|private|protected)\s+(?:static\s+)?(?:final\s+)?[\w<>\[\]]+\s+\w+\s*\(",
        3,
        ("public", "private", "protected"),
    ),
    (
        "java",
        r"^\s*(?:public\s+)?(?:final\s+)?class\s+\w+.*\{?\s*$|^\s*import\s+java\.|System\.out\.",
        2,
        ("class", "java.", "System.out."),
    ),
    ("java", r"^\s*package\s+[\w.]+;\s*$|^\s*@\w+(?:\(.*\))?\s*$", 2, ("package", "@")),
    ("c", r"^\s*#\s*(?:include|define|ifn?def|endif|pragma)\b", 3, ("#",)),
    (
        "c",
        r"\b(?:printf|malloc|free|sizeof|memcpy)\s*\(|\bNULL\b|->",
        1,
        ("printf", "malloc", "free", "sizeof", "memcpy", "NULL", "->"),
    ),
    (
        "c",
        r"^\s*(?:static\s+)?(?:const\s+)?(?:void|int|char|long|unsigned|double|float)\s+\**\w+\s*\(",
        2,
        ("void", "int", "char", "long", "unsigned", "double", "float"),
    ),
    (
        "cpp",
        r"\bstd::|\btemplate\s*<|\bnullptr\b|^\s*namespace\s+\w+|::\w+\s*\(|\bcout\s*<<",
        3,
        ("::", "template", "nullptr", "namespace", "cout"),
    ),
    (
        "go",
        r"^\s*package\s+\w+\s*$|^\s*func\s+(?:\(.*\)\s*)?\w+\s*\(|:=|\bfmt\.\w+\(",
        3,
        ("package", "func", ":=", "fmt."),
    ),
    (
        "rust",
        r"^\s*(?:pub\s+)?fn\s+\w+|\blet\s+mut\b|^\s*impl\b|^\s*use\s+\w+::|\b\w+!\(",
        3,
        ("fn", "let", "impl", "use", "!("),
    ),
    (
        "csharp",
        r"^\s*using\s+System|^\s*namespace\s+[\w.]+\s*\{?\s*$|\bConsole\.Write",
        3,
        ("using", "namespace", "Console.Write"),
    ),
    (
        "ruby",
        r"^\s*(?:def\s+\w+[?!]?\s*(?:\(.*\))?\s*$|end\s*$|puts\s|require\s+['\"])",
        2,
        ("def", "end", "puts", "require"),
    ),
    ("php", r"<\?php|\$this->|^\s*\$\w+\s*=", 3, ("<?php", "$")),
    (
        "shell",
        r"^#!\s*/(?:usr/)?bin/(?:env\s+)?(?:ba|z)?sh\b|^\s*(?:fi|done|esac|then)\s*$",
        3,
        ("#!", "fi", "done", "esac", "then"),
    ),
    (
        "sql",
        r"^\s*(?:SELECT|INSERT\s+INTO|CREATE\s+(?:TABLE|INDEX|VIEW)|UPDATE\s+\w+\s+SET)\b",
        3,
        ("SELECT", "INSERT", "CREATE", "UPDATE"),
    ),
)
_COMPILED = tuple(
    (lang, re.compile(pattern, re.M), weight, literals) for lang, pattern, weight, literals in _PATTERNS
)
# A guess needs this much evidence: one stray "->" in a paragraph is not C.
_MIN_SCORE = 4

# Characters far more common in code than in prose.
_CODE_CHARS = frozenset("{}()[];=<>_#$*/\\|&")


def guess_language(text: str) -> str | None:
    """The programming language `text` looks like, or None when nothing stands out."""
    sample = text[:_SAMPLE_CHARS]
    scores: dict[str, int] = {}
    for lang, pattern, weight, literals in _COMPILED:
        if not any(literal in sample for literal in literals):
            continue
        n = len(pattern.findall(sample))
        if n:
            scores[lang] = scores.get(lang, 0) + n * weight
    if not scores:
        return None
    # C++ code is also C-like: C++ markers on top of C markers make it C++.
    if "cpp" in scores and "c" in scores:
        scores["cpp"] += scores["c"]
    # TypeScript is JavaScript with types: its markers add to the JavaScript ones.
    if "typescript" in scores and "javascript" in scores:
        scores["typescript"] += scores["javascript"]
    lang, score = max(scores.items(), key=lambda kv: (kv[1], kv[0]))
    return lang if score >= _MIN_SCORE else None


def guess_kind(text: str) -> str | None:
    """ "code" or "prose" when the text clearly is one, else None (read it both ways)."""
    return _guess_kind(text, guess_language(text))


def _guess_kind(text: str, language: str | None) -> str | None:
    if language:
        return "code"
    sample = text[:_SAMPLE_CHARS]
    # Counted by str methods, not a Python loop over characters (~20x faster on 8 KB): split()
    # drops exactly the characters isspace() calls whitespace, and each count() is one C scan.
    visible = len("".join(sample.split()))
    if visible == 0:
        return None
    density = sum(map(sample.count, _CODE_CHARS)) / visible
    if density < 0.01:
        return "prose"
    if density > 0.06:
        return "code"
    return None


def readings(
    text: str,
    language: str | None,
    *,
    kinds_present: Iterable[str],
    kinds: Sequence[str] = KINDS,
) -> list[tuple[str, str | None]]:
    """The (kind, language) pairs to fingerprint `text` with.

    Args:
        text: the document.
        language: the caller's language hint (its own field, or a file name's), or None.
        kinds_present: the kinds that have registered documents; a kind with none is not read.
        kinds: the kinds the caller allows (one when the document says what it is).
    """
    present = set(kinds_present)
    wanted = tuple(kinds)
    # the guess is the costly part (a millisecond on a large document): made at most once
    needed = not language and (len(wanted) > 1 or ("code" in wanted and "code" in present))
    guessed_language = guess_language(text) if needed else None
    if len(wanted) > 1:
        guessed = "code" if language else _guess_kind(text, guessed_language)
        if guessed in wanted:
            wanted = (guessed,)
    out: list[tuple[str, str | None]] = []
    for kind in wanted:
        if kind not in present:
            continue
        if kind == "prose":
            out.append((kind, None))
        else:
            out.append((kind, language or guessed_language))
    return out
