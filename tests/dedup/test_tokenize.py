"""Tokenisation: what survives normalisation, line numbers, decoding, and kernel/fallback parity."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.tokenize import (
    LANGUAGES,
    BinaryInputError,
    _token_rows,
    canonical_language,
    decode,
    language_for_path,
    normalise_text,
    tokenize,
)

kernels = importlib.import_module("dedup._kernels")

ROOT = Path(__file__).resolve().parents[2]
STDLIB = Path(os.__file__).parent
# Small stdlib modules, so the pure-Python fallback stays quick.
STDLIB_SAMPLES = sorted(p for p in STDLIB.glob("*.py") if 2_000 < p.stat().st_size < 25_000)[:40]

PARITY = settings(
    derandomize=True, deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)


def texts(tokens):
    """Hashes of a channel, for readable comparisons."""
    return tokens.tolist()


# ---- comments and whitespace ---------------------------------------------------------------------

# (language, original, the same code with comments and whitespace edited)
COMMENT_EDITS = [
    ("python", "def f(x):\n    return x + 1\n", "def f(x):  # add one\n\n    return x+1  # done\n"),
    ("python", "x = 1\ny = 2\n", "x = 1\n# a comment with 'quotes' and \"more\"\ny    =    2\n"),
    (
        "javascript",
        "function f(a) { return a * 2; }",
        "// doubles\nfunction f(a) {\n  /* twice */ return a*2;\n}",
    ),
    ("typescript", "let x: number = 1;", "let x : number = 1 ; // typed\n"),
    (
        "java",
        "class A { int f() { return 1; } }",
        "/** doc */\nclass A {\n  // f\n  int f() { return 1; }\n}",
    ),
    ("c", "int main(void) { return 0; }", "int main ( void ) /* entry */ {\n\treturn 0; // ok\n}"),
    ("cpp", "auto x = std::max(a, b);", "auto x = std::max(a,b); // larger\n/* block\n comment */"),
    ("csharp", 'var s = "a";', 'var s = "a"; // string\n'),
    ("go", "func f() int { return 1 }", "// f returns one\nfunc f() int {\n\treturn 1\n}"),
    (
        "rust",
        "fn f<'a>(x: &'a str) -> char { 'c' }",
        "/* outer /* nested */ still */ fn f<'a>(x: &'a str) -> char {\n 'c' // c\n}",
    ),
    ("swift", "let x = 1", "/* a /* nested */ b */\nlet x = 1 // one"),
    ("kotlin", "val x = 1", "val x = 1 // one\n/* two */"),
    ("scala", "val x = 1", "val x = 1 /* one /* nested */ */"),
    ("php", "$x = 1;", "# hash comment\n$x = 1; // slash\n/* block */"),
    ("shell", "echo $# ${#x}", "# comment\necho $# ${#x}   # trailing\n"),
    ("ruby", "def f; 1; end", "# comment\ndef f; 1; end # trailing"),
    ("perl", "my $n = $#arr;", "# count\nmy $n = $#arr; # last index"),
    ("yaml", "url: http://x#frag", "# header\nurl: http://x#frag # trailing\n"),
    ("toml", "a = 1", "# comment\na = 1 # trailing"),
    ("sql", "SELECT a FROM t;", "-- pick a\nSELECT a /* col */ FROM t;"),
    ("lua", "local x = 1", "--[[ block\ncomment ]]\nlocal x = 1 -- one"),
    ("haskell", "f x = x + 1", "{- block {- nested -} -}\nf x = x + 1 -- inc"),
    ("lisp", "(defun f (x) (+ x 1))", ";; comment\n(defun f (x)\n  (+ x 1)) ; inc"),
    ("r", "x <- 1", "# comment\nx <- 1 # one"),
    (None, "foo(bar, 'baz')", "# line comment\n  // another\nfoo( bar , 'baz' )\n"),
]


@pytest.mark.parametrize("language, original, edited", COMMENT_EDITS)
def test_comment_and_whitespace_edits_leave_the_exact_channel_unchanged(language, original, edited):
    a = tokenize(original, kind="code", language=language)
    b = tokenize(edited, kind="code", language=language)
    assert texts(a.exact) == texts(b.exact)
    assert len(a) > 0


def test_every_supported_language_has_a_comment_edit_case():
    assert {lang for lang, _, _ in COMMENT_EDITS if lang} == set(LANGUAGES)


@pytest.mark.parametrize(
    "language, code, expected_tokens",
    [
        ("python", "s = '# not a comment'", 3),
        ("javascript", 'u = "http://example.com"', 3),
        ("c", 's = "/* not a comment */";', 4),
        ("sql", "x = '-- not a comment'", 3),
        ("shell", 'echo "# quoted"', 2),
    ],
)
def test_comment_markers_inside_strings_are_kept(language, code, expected_tokens):
    tokens = tokenize(code, kind="code", language=language)
    assert len(tokens) == expected_tokens
    assert tokens.weight[-1 if code[-1] != ";" else -2] > 5  # the string kept its comment marker


@pytest.mark.parametrize(
    "language, original, renamed",
    [
        (
            "python",
            "def total(items):\n    return sum(items) + 1\n",
            "def acc(xs):\n    return add(xs) + 42\n",
        ),
        ("javascript", "const alice = bob('hi', 3);", 'const carol = dave("bye", 7);'),
        ("java", "int count = items.size();", "int n = xs.length();"),
        ("go", "func Area(w, h int) int { return w * h }", "func Size(a, b int) int { return a * b }"),
        ("sql", "SELECT name FROM users WHERE id = 1", "select title from works where pk = 2"),
    ],
)
def test_renamed_identifiers_and_edited_literals_leave_the_abstract_channel_unchanged(
    language, original, renamed
):
    a = tokenize(original, kind="code", language=language)
    b = tokenize(renamed, kind="code", language=language)
    assert texts(a.abstract) == texts(b.abstract)
    assert texts(a.exact) != texts(b.exact)


def test_keywords_and_punctuation_stay_distinct_in_the_abstract_channel():
    a = tokenize("if x: return y", kind="code", language="python")
    b = tokenize("while x: yield y", kind="code", language="python")
    assert texts(a.abstract) != texts(b.abstract)


def test_code_is_case_sensitive_in_the_exact_channel():
    a = tokenize("Value = 1", kind="code", language="python")
    b = tokenize("value = 1", kind="code", language="python")
    assert texts(a.exact) != texts(b.exact)


# ---- lines and weights ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, code, expected_lines",
    [
        ("python", "a\n'''doc\nstring'''\nb", [1, 2, 4]),
        ("python", '"""x\n\n"""  # c\n\nz = 1', [1, 5, 5, 5]),
        ("c", "a /* one\ntwo\nthree */ b\nc", [1, 3, 4]),
        ("javascript", "x = `multi\nline`;\ny", [1, 1, 1, 2, 3]),
        ("go", "a := `raw\n\\`\nb", [1, 1, 1, 1, 3]),
        ("rust", 'let s = "a\nb"; /* x /* y */\n*/ z', [1, 1, 1, 1, 2, 3]),
        ("haskell", "{- a\n{- b -}\n-} f", [3]),
        ("lua", "--[[\n\n]] x\ny -- c\nz", [3, 4, 5]),
        ("sql", "select 'a\nb',\n c", [1, 1, 2, 3]),
        ("python", "x = 1\r\ny = 2\r\n", [1, 1, 1, 2, 2, 2]),
        (None, "# c\n// d\nx", [3]),
    ],
)
def test_line_numbers_point_at_the_token_start_in_the_original_text(language, code, expected_lines):
    assert tokenize(code, kind="code", language=language).line.tolist() == expected_lines


def test_an_unterminated_single_quoted_string_stops_at_the_end_of_its_line():
    tokens = tokenize("x = 'oops\ny = 2", kind="code", language="python")
    assert tokens.line.tolist() == [1, 1, 1, 2, 2, 2]


def test_weights_count_non_whitespace_characters_including_non_ascii():
    tokens = tokenize('naïve = "a b"  # ünïcode', kind="code", language="python")
    assert tokens.weight.tolist() == [5, 1, 4]


@pytest.mark.parametrize(
    "code, expected",
    [
        ("1e-5 + 0x1e+2", ["1e-5", "+", "0x1e", "+", "2"]),
        ("x.1", ["x", ".", "1"]),
        ("1..10", ["1", ".", ".", "10"]),
        ("3.14j", ["3.14j"]),
    ],
)
def test_numbers_are_scanned_as_one_token(code, expected):
    tokens = tokenize(code, kind="code", language="python")
    expected_tokens = [tokenize(e, kind="code", language="python").exact[0] for e in expected]
    assert tokens.exact.tolist() == expected_tokens


def test_rust_lifetimes_do_not_start_char_literals():
    tokens = tokenize("fn f<'a, 'b>(x: &'a str) -> char { 'c' }", kind="code", language="rust")
    assert tokens.line.tolist() == [1] * len(tokens)
    assert tokens.abstract.tolist().count(tokens.abstract[-2]) == 1  # one STR: the 'c'


# ---- prose ---------------------------------------------------------------------------------------


def test_normalise_text_applies_nfkc_casefold_and_collapses_whitespace():
    assert normalise_text("  Straße\u00a0 ﬁne\n\tWORLD  ") == "strasse fine world"


@pytest.mark.parametrize(
    "a, b",
    [
        ("Hello, World!", "hello world"),
        ("“Quoted” — text…", '"quoted" - text...'),
        ("ＦＵＬＬＷＩＤＴＨ １２３", "fullwidth 123"),
        ("Straße", "STRASSE"),
        ("line one\n\nline   two", "line one line two"),
    ],
)
def test_prose_ignores_case_punctuation_width_and_spacing(a, b):
    assert texts(tokenize(a, kind="prose").exact) == texts(tokenize(b, kind="prose").exact)


def test_prose_keeps_words_of_non_latin_scripts():
    tokens = tokenize("日本語 😀 テキスト", kind="prose")
    assert len(tokens) == 2
    assert tokens.weight.tolist() == [3, 4]


def test_prose_line_numbers_survive_normalisation():
    assert tokenize("one\n\ntwo three\nfour", kind="prose").line.tolist() == [1, 3, 3, 4]


# ---- inputs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["code", "prose"])
@pytest.mark.parametrize("text", ["", b"", "   \n\t ", "# only a comment"])
def test_empty_input_gives_no_tokens(kind, text):
    tokens = tokenize(text, kind=kind, language="python")
    assert len(tokens) == 0 or (kind == "prose" and text == "# only a comment")
    for row in (tokens.exact, tokens.abstract, tokens.line, tokens.weight):
        assert row.dtype == np.uint32
        assert row.shape == (len(tokens),)


def test_it_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of 'code', 'prose'"):
        tokenize("x", kind="poetry")


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04\x00\x00binary zip",
        bytes(range(32)) * 20,
        b"\x7fELF\x02\x01\x01" + b"\x01\x02\x03\x04" * 100,
    ],
)
def test_binary_input_raises_a_clear_error(data):
    with pytest.raises(BinaryInputError, match="looks like binary data"):
        decode(data)
    with pytest.raises(ValueError):  # BinaryInputError is a ValueError for callers that don't care
        tokenize(data, kind="code")


@pytest.mark.parametrize(
    "data, text, encoding",
    [
        (b"caf\xc3\xa9", "café", "utf-8"),
        (b"\xef\xbb\xbfcaf\xc3\xa9", "café", "utf-8-sig"),
        ("café".encode("utf-16"), "café", "utf-16"),
        (b"caf\xe9 \x93quoted\x94", "café “quoted”", "cp1252"),
        (b"caf\xe9 \x81", "café \x81", "latin-1"),
        (b"", "", "utf-8"),
        (b"tabs\tand\r\nnewlines\x0c", "tabs\tand\r\nnewlines\x0c", "utf-8"),
    ],
)
def test_decode_tries_utf8_then_cp1252_then_latin1(data, text, encoding):
    assert decode(data) == (text, encoding)


def test_bytes_and_text_tokenise_identically():
    source = "x = 'é'  # ü\n"
    as_text = tokenize(source, kind="code", language="python")
    for data in (source.encode(), b"\xef\xbb\xbf" + source.encode(), source.encode("cp1252")):
        assert texts(tokenize(data, kind="code", language="python").exact) == texts(as_text.exact)


@pytest.mark.parametrize(
    "path, language",
    [
        ("src/app.py", "python"),
        ("a/b/C.JAVA", "java"),
        ("x.tsx", "typescript"),
        ("lib.rs", "rust"),
        ("main.cpp", "cpp"),
        ("x.h", "c"),
        ("Program.cs", "csharp"),
        ("deploy/Dockerfile", "shell"),
        ("build.sh", "shell"),
        ("q.sql", "sql"),
        ("core.clj", "lisp"),
        ("README", None),
        ("notes.txt", None),
        ("C:\\src\\main.go", "go"),
    ],
)
def test_language_for_path_maps_extensions(path, language):
    assert language_for_path(path) == language


@pytest.mark.parametrize(
    "name, canonical",
    [
        ("Python", "python"),
        ("c++", "cpp"),
        ("C#", "csharp"),
        ("bash", "shell"),
        ("cobol", None),
        (None, None),
    ],
)
def test_language_names_and_aliases_are_canonicalised(name, canonical):
    assert canonical_language(name) == canonical


# ---- numba kernel vs fallback ------------------------------------------------------------------

requires_numba = pytest.mark.skipif(not kernels.USE_NUMBA, reason="numba is not in use")


@requires_numba
@PARITY
@given(
    text=st.text(st.characters(codec="utf-8"), max_size=300)
    | st.text(alphabet="ab_1 .eE+-x0'\"`#/*\\\n{}-;[]$", max_size=300),
    language=st.sampled_from([None, *LANGUAGES]),
    kind=st.sampled_from(["code", "prose"]),
)
def test_the_numba_kernel_and_the_fallback_agree_on_random_text(text, language, kind):
    fast = _token_rows(text, kind, language)
    slow = _token_rows(text, kind, language, pure=True)
    np.testing.assert_array_equal(fast, slow)


@requires_numba
@PARITY
@given(
    path=st.sampled_from(STDLIB_SAMPLES),
    language=st.sampled_from([None, "python", "c", "javascript", "rust", "shell", "sql", "haskell", "lisp"]),
    cut=st.integers(0, 2_000),
)
def test_the_numba_kernel_and_the_fallback_agree_on_real_source(path, language, cut):
    data = path.read_bytes()[cut:]
    np.testing.assert_array_equal(
        _token_rows(data, "code", language), _token_rows(data, "code", language, pure=True)
    )


def _kernel_rows(text, kind, language, *, cap, pure):
    """The tokeniser kernel's rows for ``text`` with ``cap`` initial output columns."""
    from dedup.tokenize import _language_tables, _prose_bytes, _to_utf8

    if kind == "prose":
        return kernels.tokenize_prose(_prose_bytes(text), cap=cap, pure=pure)
    flags, keywords = _language_tables(canonical_language(language))
    return kernels.tokenize_code(_to_utf8(text)[0], flags, keywords, cap=cap, pure=pure)


@PARITY
@given(
    text=st.text(alphabet="ab_1 .eE+-x0'\"`#/*\\\n{}-;[]$", max_size=300)
    | st.text(st.characters(codec="utf-8"), max_size=300),
    language=st.sampled_from([None, *LANGUAGES]),
    kind=st.sampled_from(["code", "prose"]),
    cap=st.integers(0, 4),
    pure=st.booleans(),
)
def test_a_kernel_stopped_whenever_its_output_fills_resumes_to_the_same_tokens(
    text, language, kind, cap, pure
):
    # A tiny first output makes the kernel stop and resume after the first few tokens and then at
    # every doubling: inside strings, comments and runs of whitespace, wherever the text puts them.
    np.testing.assert_array_equal(
        _kernel_rows(text, kind, language, cap=cap, pure=pure), _token_rows(text, kind, language)
    )


# Texts whose tokens depend on state carried across a stop: whether the line so far is blank, the
# line count (newlines inside block comments and strings included), and where a nested block
# comment was found never to close.
RESUME_CASES = [
    ("code", None, "a #b //c\n#d"),
    ("code", "rust", "/* /* */ a /* */ b"),
    ("code", "c", 'a /* x\n y */ b\n"s\\\n t" c\n'),
    ("code", "lua", "a --[[ x\n y ]] b\n c"),
    ("code", "haskell", "a {- x\n {- y\n -} -} b\n c"),
    ("code", "python", "a\n\n  b '''c\n\n''' d\n# e\n f"),
    ("prose", None, "one two\n\nthree four"),
]


@pytest.mark.parametrize("kind, language, text", RESUME_CASES)
@pytest.mark.parametrize("cap", [1, 2, 3])
@pytest.mark.parametrize("pure", [False, True], ids=["kernel", "fallback"])
def test_state_carried_across_a_stop_gives_the_same_tokens(kind, language, text, cap, pure):
    np.testing.assert_array_equal(
        _kernel_rows(text, kind, language, cap=cap, pure=pure), _token_rows(text, kind, language)
    )


@pytest.mark.parametrize("path", STDLIB_SAMPLES[:5], ids=lambda p: p.name)
def test_a_real_source_file_tokenised_from_a_one_token_output_matches_one_pass(path):
    text = path.read_text("utf-8")
    np.testing.assert_array_equal(
        _kernel_rows(text, "code", "python", cap=1, pure=False), _token_rows(text, "code", "python")
    )


SAMPLES = [
    ("code", "python", "def f(x):\n    '''doc'''\n    return x + 1  # c\n"),
    ("code", "rust", "fn f<'a>(s: &'a str) -> char { 'c' } /* /* */ */"),
    ("code", "sql", "SELECT 'x' FROM t -- c\n"),
    ("code", None, "# c\nfoo(bar, 'baz') don't"),
    ("prose", None, "Hello, “World” — ünïcode\nline two"),
]


def test_a_process_without_numba_tokenises_identically():
    script = (
        "import json, sys; from dedup.tokenize import _token_rows; import dedup._kernels as k;"
        "assert not k.USE_NUMBA;"
        "print(json.dumps([_token_rows(t, kind, lang).tolist() for kind, lang, t in json.load(sys.stdin)]))"
    )
    env = {**os.environ, "DEDUP_NO_NUMBA": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(SAMPLES),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    expected = [_token_rows(t, kind, lang).tolist() for kind, lang, t in SAMPLES]
    assert json.loads(result.stdout) == expected


def test_hash_bytes_is_fnv1a_then_fmix32():
    # FNV-1a 32 of b"a" is 0xE40C292C; fmix32 of that, computed independently below.
    h = 0xE40C292C
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    assert kernels.hash_bytes(b"a") == h


# One token of each shape the kernel hashes by a different route: one-byte tokens (looked up),
# identifiers (hashed while scanned), longer strings and numbers (hashed after the scan).
HASH_ROUTES = ["(", "+", ";", "x", "é", "value_2", "ünïcode", "'ab'", '"s p"', "42", "3.5e-7", "7"]


@pytest.mark.parametrize("pure", [False, True], ids=["kernel", "fallback"])
def test_every_exact_token_hash_is_the_hash_of_the_tokens_bytes(pure):
    text = " ".join(HASH_ROUTES)
    rows = _token_rows(text, "code", "python", pure=pure)
    assert rows[0].tolist() == [kernels.hash_bytes(t.encode()) for t in HASH_ROUTES]
    assert rows[3].tolist() == [len(t.replace(" ", "")) for t in HASH_ROUTES]


# ---- numba cache -------------------------------------------------------------------------------


def test_a_read_only_package_directory_moves_the_numba_cache_to_a_private_temp_dir(tmp_path):
    # The test suite may run as root, for whom nothing is read-only; pretend through os.access,
    # which is what the engine consults before numba would fail.
    script = (
        "import os, sys; real = os.access;"
        "os.access = lambda p, m, **kw: False if 'dedup' in str(p) and m == os.W_OK else real(p, m, **kw);"
        "import dedup._kernels as k; os.access = real;"
        "import numpy as np;"  # the smallest kernel: compiling the tokenizer cold takes ~10 s
        "assert k.shingles(np.arange(3, dtype=np.uint32), 2).shape == (2,);"
        "print(os.environ.get('NUMBA_CACHE_DIR', ''))"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(TMPDIR=str(tmp_path), HOME=str(tmp_path / "no-home"), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    cache_dir = Path(result.stdout.strip())
    if not kernels.USE_NUMBA:
        pytest.skip("numba is not in use")
    assert cache_dir.parent == tmp_path
    assert (cache_dir.stat().st_mode & 0o777) == 0o700
    assert list(cache_dir.rglob("*.nbi")), "numba wrote its cache index there"


def test_a_shared_temp_dir_that_others_could_write_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(kernels.tempfile, "gettempdir", lambda: str(tmp_path))
    path = tmp_path / f"dedup-numba-cache-{os.getuid()}"
    path.mkdir(mode=0o777)
    path.chmod(0o777)
    assert kernels._private_cache_dir() is None
    path.chmod(0o700)
    assert kernels._private_cache_dir() == str(path)


@pytest.mark.parametrize("kind, text", [("code", "(" * 5_000 + "\n" + "a," * 3_000), ("prose", "a " * 5_000)])
def test_dense_input_grows_the_token_buffer_without_losing_tokens(kind, text):
    tokens = tokenize(text, kind=kind, language="python")
    assert len(tokens) == (11_000 if kind == "code" else 5_000)
    assert tokens.line[-1] == (2 if kind == "code" else 1)
    assert all(row.flags.c_contiguous for row in (tokens.exact, tokens.abstract, tokens.line, tokens.weight))
    if kernels.USE_NUMBA:
        np.testing.assert_array_equal(
            _token_rows(text, kind, "python"), _token_rows(text, kind, "python", pure=True)
        )


@pytest.mark.parametrize(
    "code, expected_tokens",
    [
        ("don't stop", 4),  # don ' t stop: the apostrophe starts no string
        ('f"x y z"', 2),  # a prefixed string is still one string
        ("say 'hello world'", 2),
        ("a # b", 3),  # '#' mid-line is not a comment in the generic tokeniser
        ("  # b\na", 1),
    ],
)
def test_the_generic_tokeniser_handles_apostrophes_prefixes_and_line_comments(code, expected_tokens):
    assert len(tokenize(code, kind="code")) == expected_tokens


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_keyword_of_a_language_keeps_its_hash_in_the_abstract_channel(language):
    from dedup.tokenize import _LANGUAGE_SPECS

    for word in _LANGUAGE_SPECS[language][1].split():
        if language == "sql":
            word = word.upper()  # SQL keywords are case-insensitive
        tokens = tokenize(word, kind="code", language=language)
        assert len(tokens) == 1, word
        assert tokens.abstract[0] != kernels.ID_HASH, f"{word!r} is a {language} keyword"
    assert tokenize("not_a_keyword_xyz", kind="code", language=language).abstract.tolist() == [
        kernels.ID_HASH
    ]


def test_the_keyword_table_refuses_the_empty_slot_marker():
    assert kernels.keyword_table([]).tolist() == [0] * 8
    with pytest.raises(ValueError, match="reserves"):
        kernels.keyword_table([0])
