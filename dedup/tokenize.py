"""Text -> token hashes: the normalisation every signature and fingerprint is built on.

Two kinds of document:

* ``prose``: NFKC, casefold, and words are runs of letters, digits and combining marks; every
  other character (punctuation, symbols, whitespace) only separates words.
* ``code``: comments and whitespace are dropped; identifiers, keywords, number and string
  literals and single punctuation characters are tokens (a multi-character operator such as
  ``+=`` is two tokens; cheaper, and copies still tokenise identically). Language families differ
  only in their comment and string syntax and their keyword set; unknown languages get a generic
  tokeniser.

Each token yields four uint32 values (``Tokens``): ``exact`` (hash of the token's bytes; code is
case-sensitive), ``abstract`` (identifiers, strings and numbers collapsed to one constant each,
so renamed variables and edited literals match; keywords and punctuation keep their hash because
they carry the structure), ``line`` (1-based line of the token's first character in the original
text: a line is ended by ``\\n``) and ``weight`` (non-whitespace characters in the token).

The work is one pass of a numba kernel over the UTF-8 bytes (see ``_kernels``); Python only
decodes, normalises prose and picks the language's flags. Changing anything here that changes
the output must bump ``NORMALISER_VERSION``: stored signatures carry it and are never compared
across versions.
"""

from __future__ import annotations

import codecs
import functools
import keyword as _pykeyword
import os
import sys
import unicodedata
from dataclasses import dataclass

import numpy as np

from dedup import _kernels as K

__all__ = [
    "NORMALISER_VERSION",
    "KINDS",
    "LANGUAGES",
    "BinaryInputError",
    "Tokens",
    "decode",
    "language_for_path",
    "normalise_text",
    "tokenize",
]

NORMALISER_VERSION = 2  # 2: an opener never closed no longer swallows the rest of the text
KINDS = ("code", "prose")


class BinaryInputError(ValueError):
    """The input looks like binary data, not text."""


# ---- decoding ------------------------------------------------------------------------------------

_SNIFF_BYTES = 8192
_MAX_CONTROL_RATIO = 0.30
# Control bytes that do not occur in text; tab, newline, vertical tab, form feed and carriage
# return do.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])


def decode(data: bytes) -> tuple[str, str]:
    """Decode file bytes to text.

    UTF-8 first (a UTF-8 byte-order mark is stripped; UTF-16 with a byte-order mark is honoured).
    Bytes that are not valid UTF-8 are decoded as cp1252 (Windows' Western default, the most
    common non-UTF-8 source encoding), and if cp1252 cannot decode them (it leaves five byte
    values undefined) as latin-1, which decodes anything.

    Args:
        data: The raw bytes.

    Returns:
        ``(text, encoding)`` where encoding is one of ``"utf-8"``, ``"utf-8-sig"``,
        ``"utf-16"``, ``"cp1252"`` or ``"latin-1"``.

    Raises:
        BinaryInputError: If the first 8 KiB contain a NUL byte or more than 30% control bytes.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass  # not really UTF-16: let the binary check below judge it
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        raise BinaryInputError(
            "the input looks like binary data (it has a NUL byte in its first 8 KiB); "
            "only text files can be compared"
        )
    if head:
        control = len(head) - len(head.translate(None, _CONTROL_BYTES))
        if control / len(head) > _MAX_CONTROL_RATIO:
            raise BinaryInputError(
                f"the input looks like binary data ({control} of its first {len(head)} bytes are "
                "control characters); only text files can be compared"
            )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _to_utf8(text: str | bytes) -> tuple[bytes, str | None]:
    """Return (UTF-8 bytes, decoded str or None if the bytes were already clean UTF-8)."""
    if isinstance(text, bytes | bytearray | memoryview):
        raw = bytes(text)
        decoded, encoding = decode(raw)
        if encoding == "utf-8":
            return raw, None  # already what the kernel wants: skip a re-encode
        text = decoded
    if text.startswith("\ufeff"):
        text = text[1:]
    # surrogatepass: a str may hold lone surrogates (e.g. from surrogateescape); tokenise them
    # as opaque word bytes rather than fail.
    return text.encode("utf-8", "surrogatepass"), text


# ---- prose -------------------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """NFKC, casefold and collapse every run of whitespace to one space (stripped at the ends)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@functools.cache
def _separator_table() -> dict[int, str]:
    # Non-ASCII punctuation, symbols, separators and format/control characters become spaces,
    # so curly quotes, dashes and emoji separate words as their ASCII cousins do (the kernel
    # treats every non-ASCII byte as a word byte). Built on first use (~0.2 s): ASCII-only text
    # never needs it.
    table = {}
    for cp in range(0x80, sys.maxunicode + 1):
        category = unicodedata.category(chr(cp))
        if category[0] in "PSZ" or category in ("Cc", "Cf"):
            table[cp] = " "
    return table


def _prose_bytes(text: str) -> bytes:
    # Whitespace is not collapsed here (unlike normalise_text): the kernel skips it anyway and
    # newlines must survive for line numbers. NFKC and casefold never create or remove "\n".
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        text = text.translate(_separator_table())
    return text.encode("utf-8", "surrogatepass")


# ---- languages ---------------------------------------------------------------------------------

_C_KEYWORDS = """
auto break case char const continue default do double else enum extern float for goto if inline
int long register restrict return short signed sizeof static struct switch typedef union unsigned
void volatile while _Bool bool true false NULL
"""
_CPP_KEYWORDS = (
    _C_KEYWORDS
    + """
alignas alignof and asm catch class constexpr consteval constinit co_await co_return co_yield
decltype delete explicit export friend mutable namespace new noexcept not nullptr operator or
private protected public static_assert template this throw try typeid typename using virtual
override final
"""
)
_JS_KEYWORDS = """
await break case catch class const continue debugger default delete do else export extends false
finally for function if import in instanceof let new null return super switch this throw true try
typeof undefined var void while with yield async of static get set
"""
_TS_KEYWORDS = (
    _JS_KEYWORDS
    + """
abstract any as boolean declare enum implements interface keyof module namespace never number
private protected public readonly string symbol type unknown
"""
)
_JAVA_KEYWORDS = """
abstract assert boolean break byte case catch char class const continue default do double else
enum extends final finally float for goto if implements import instanceof int interface long
native new package private protected public return short static strictfp super switch
synchronized this throw throws transient try void volatile while true false null var record
yield sealed permits
"""
_CSHARP_KEYWORDS = """
abstract as base bool break byte case catch char checked class const continue decimal default
delegate do double else enum event explicit extern false finally fixed float for foreach goto if
implicit in int interface internal is lock long namespace new null object operator out override
params private protected public readonly ref return sbyte sealed short sizeof stackalloc static
string struct switch this throw true try typeof uint ulong unchecked unsafe ushort using virtual
void volatile while var async await get set value yield record
"""
_GO_KEYWORDS = """
break case chan const continue default defer else fallthrough for func go goto if import interface
map package range return select struct switch type var true false nil iota
"""
_RUST_KEYWORDS = """
as async await break const continue crate dyn else enum extern false fn for if impl in let loop
match mod move mut pub ref return self Self static struct super trait true type unsafe use where
while
"""
_SWIFT_KEYWORDS = """
associatedtype class deinit enum extension fileprivate func import init inout internal let open
operator private protocol public rethrows static struct subscript typealias var break case
continue default defer do else fallthrough for guard if in repeat return switch where while as
catch false is nil super self Self throw throws true try async await
"""
_KOTLIN_KEYWORDS = """
as break class continue do else false for fun if in interface is null object package return super
this throw true try typealias typeof val var when while by catch constructor companion data enum
finally import init internal open override private protected public sealed suspend
"""
_SCALA_KEYWORDS = """
abstract case catch class def do else extends false final finally for forSome if implicit import
lazy match new null object override package private protected return sealed super this throw
trait try true type val var while with yield given using enum then
"""
_PHP_KEYWORDS = """
abstract and array as break callable case catch class clone const continue declare default do echo
else elseif empty enddeclare endfor endforeach endif endswitch endwhile extends final finally fn
for foreach function global goto if implements include include_once instanceof insteadof
interface isset list match namespace new or print private protected public readonly require
require_once return static switch throw trait try unset use var while xor yield true false null
"""
_SHELL_KEYWORDS = """
if then else elif fi case esac for select while until do done in function time return exit local
export readonly declare
"""
_RUBY_KEYWORDS = """
alias and begin break case class def defined do else elsif end ensure false for if in module next
nil not or redo rescue retry return self super then true undef unless until when while yield
"""
_PERL_KEYWORDS = """
my our local sub if elsif else unless while until for foreach do last next redo return package use
require no and or not eq ne lt gt le ge cmp
"""
_SQL_KEYWORDS = """
select from where and or not insert into values update set delete create table drop alter index
join inner left right outer full on group by order having limit offset as distinct union all case
when then else end null is in exists between like primary key foreign references default
constraint unique view with returning
"""
_LUA_KEYWORDS = """
and break do else elseif end false for function goto if in local nil not or repeat return then
true until while
"""
_HASKELL_KEYWORDS = """
case class data default deriving do else foreign if import in infix infixl infixr instance let
module newtype of then type where
"""
_LISP_KEYWORDS = """
defun defmacro defvar defparameter defn def let lambda fn if cond when unless progn setq setf
loop do quote and or not nil t
"""
_TOML_YAML_KEYWORDS = "true false null yes no on off"

_C_LIKE = K.F_SLASH | K.F_BLOCK_C | K.F_SQ | K.F_DQ
_NESTED_C = K.F_SLASH | K.F_BLOCK_C | K.F_BLOCK_NEST

# language -> (flags, keywords)
_LANGUAGE_SPECS: dict[str, tuple[int, str]] = {
    "python": (K.F_HASH | K.F_SQ | K.F_DQ | K.F_TRIPLE_SQ | K.F_TRIPLE_DQ, " ".join(_pykeyword.kwlist)),
    "javascript": (_C_LIKE | K.F_BT, _JS_KEYWORDS),
    "typescript": (_C_LIKE | K.F_BT, _TS_KEYWORDS),
    "java": (_C_LIKE | K.F_TRIPLE_DQ, _JAVA_KEYWORDS),
    "c": (_C_LIKE, _C_KEYWORDS),
    "cpp": (_C_LIKE, _CPP_KEYWORDS),
    "csharp": (_C_LIKE | K.F_TRIPLE_DQ, _CSHARP_KEYWORDS),
    "go": (_C_LIKE | K.F_BT | K.F_BT_RAW, _GO_KEYWORDS),
    "rust": (_NESTED_C | K.F_SQ | K.F_DQ | K.F_MULTILINE | K.F_RUST_CHAR, _RUST_KEYWORDS),
    "swift": (_NESTED_C | K.F_DQ | K.F_TRIPLE_DQ, _SWIFT_KEYWORDS),
    "kotlin": (_NESTED_C | K.F_SQ | K.F_DQ | K.F_TRIPLE_DQ, _KOTLIN_KEYWORDS),
    "scala": (_NESTED_C | K.F_SQ | K.F_DQ | K.F_TRIPLE_DQ, _SCALA_KEYWORDS),
    "php": (_C_LIKE | K.F_HASH | K.F_BT | K.F_MULTILINE, _PHP_KEYWORDS),
    "shell": (K.F_HASH | K.F_HASH_WORDSTART | K.F_SQ | K.F_DQ | K.F_BT | K.F_MULTILINE, _SHELL_KEYWORDS),
    "ruby": (K.F_HASH | K.F_SQ | K.F_DQ | K.F_BT | K.F_MULTILINE, _RUBY_KEYWORDS),
    "perl": (K.F_HASH | K.F_HASH_WORDSTART | K.F_SQ | K.F_DQ | K.F_BT | K.F_MULTILINE, _PERL_KEYWORDS),
    "r": (
        K.F_HASH | K.F_SQ | K.F_DQ | K.F_BT,
        "if else repeat while function for in next break TRUE FALSE NULL",
    ),
    # YAML values are often prose ("don't"), hence F_APOS_WORD; '#' inside a URL is no comment.
    "yaml": (K.F_HASH | K.F_HASH_WORDSTART | K.F_SQ | K.F_DQ | K.F_APOS_WORD, _TOML_YAML_KEYWORDS),
    "toml": (K.F_HASH | K.F_SQ | K.F_DQ | K.F_TRIPLE_SQ | K.F_TRIPLE_DQ, _TOML_YAML_KEYWORDS),
    "sql": (K.F_DASH | K.F_BLOCK_C | K.F_SQ | K.F_DQ | K.F_BT | K.F_MULTILINE | K.F_KW_CI, _SQL_KEYWORDS),
    "lua": (K.F_DASH | K.F_LUA_BLOCK | K.F_SQ | K.F_DQ, _LUA_KEYWORDS),
    # foldl' and x' are names, not the start of a char literal.
    "haskell": (K.F_DASH | K.F_HS_BLOCK | K.F_SQ | K.F_DQ | K.F_APOS_WORD, _HASKELL_KEYWORDS),
    # In Lisps ' is the quote operator, not a string delimiter.
    "lisp": (K.F_SEMI | K.F_DQ, _LISP_KEYWORDS),
}
# Unknown languages: names, numbers, '...'/"..." strings and punctuation; a ' right after a word
# character starts no string, so the apostrophe in "don't" does not swallow the line. '#' and
# '//' are comments only when they begin a line: in almost every language that uses either, a
# line that starts with one is a comment (C's #include is the exception, and dropping it from
# both copies of a file changes nothing), while mid-line they are too often operators, URLs or
# '$#'. Block comments are not guessed: '/*' also occurs in globs and paths.
_GENERIC_FLAGS = K.F_LINESTART | K.F_SQ | K.F_DQ | K.F_APOS_WORD

LANGUAGES = tuple(sorted(_LANGUAGE_SPECS))

_ALIASES = {
    "py": "python", "python3": "python",
    "js": "javascript", "jsx": "javascript", "node": "javascript",
    "ts": "typescript", "tsx": "typescript",
    "c++": "cpp", "cxx": "cpp",
    "c#": "csharp", "cs": "csharp",
    "golang": "go", "rs": "rust", "kt": "kotlin",
    "sh": "shell", "bash": "shell", "zsh": "shell", "ksh": "shell",
    "rb": "ruby", "pl": "perl", "yml": "yaml", "hs": "haskell",
    "clojure": "lisp", "scheme": "lisp", "racket": "lisp", "elisp": "lisp", "emacs-lisp": "lisp",
    "common-lisp": "lisp",
}  # fmt: skip

_EXTENSIONS = {
    "python": "py pyw pyi",
    "javascript": "js mjs cjs jsx",
    "typescript": "ts mts cts tsx",
    "java": "java",
    "c": "c h",
    "cpp": "cc cpp cxx c++ hpp hh hxx h++ ino",
    "csharp": "cs",
    "go": "go",
    "rust": "rs",
    "swift": "swift",
    "kotlin": "kt kts",
    "scala": "scala sc",
    "php": "php phtml",
    "shell": "sh bash zsh ksh",
    "ruby": "rb rake gemspec",
    "perl": "pl pm",
    "r": "r",
    "yaml": "yaml yml",
    "toml": "toml",
    "sql": "sql",
    "lua": "lua",
    "haskell": "hs lhs",
    "lisp": "lisp lsp cl el clj cljs cljc edn scm ss rkt",
}
_EXTENSION_TO_LANGUAGE = {ext: lang for lang, exts in _EXTENSIONS.items() for ext in exts.split()}
_FILENAME_TO_LANGUAGE = {
    "makefile": "shell", "gnumakefile": "shell", "dockerfile": "shell",
    "rakefile": "ruby", "gemfile": "ruby", "vagrantfile": "ruby",
}  # fmt: skip


def language_for_path(path: str) -> str | None:
    """Map a file path to a language name (see ``LANGUAGES``) by extension, or None."""
    name = os.path.basename(path.replace("\\", "/")).lower()
    if name in _FILENAME_TO_LANGUAGE:
        return _FILENAME_TO_LANGUAGE[name]
    _, dot, ext = name.rpartition(".")
    if not dot:
        return None
    return _EXTENSION_TO_LANGUAGE.get(ext)


def canonical_language(language: str | None) -> str | None:
    """The canonical name of a language or alias; None for unknown languages (generic tokeniser)."""
    if language is None:
        return None
    name = language.strip().lower()
    name = _ALIASES.get(name, name)
    return name if name in _LANGUAGE_SPECS else None


@functools.cache
def _language_tables(language: str | None) -> tuple[int, np.ndarray]:
    if language is None:
        return _GENERIC_FLAGS, K.keyword_table([])
    flags, words = _LANGUAGE_SPECS[language]
    if flags & K.F_KW_CI:
        words = words.lower()
    return flags, K.keyword_table(sorted({K.hash_bytes(w.encode("ascii")) for w in words.split()}))


# ---- tokens ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Tokens:
    """Per-token uint32 arrays of one document, all of the same length (see module docstring).

    The four arrays are rows of one contiguous (4, n) array, so slicing and indexing are cheap.
    """

    exact: np.ndarray
    abstract: np.ndarray
    line: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return int(self.exact.shape[0])

    @classmethod
    def _from_rows(cls, rows: np.ndarray) -> Tokens:
        return cls(exact=rows[0], abstract=rows[1], line=rows[2], weight=rows[3])


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")


def _token_rows(text: str | bytes, kind: str, language: str | None, pure: bool = False) -> np.ndarray:
    _check_kind(kind)
    if kind == "prose":
        if isinstance(text, bytes | bytearray | memoryview):
            text = decode(bytes(text))[0]
        return K.tokenize_prose(_prose_bytes(text), pure=pure)
    data, _ = _to_utf8(text)
    flags, keywords = _language_tables(canonical_language(language))
    return K.tokenize_code(data, flags, keywords, pure=pure)


def tokenize(text: str | bytes, *, kind: str, language: str | None = None) -> Tokens:
    """Tokenise a document.

    Args:
        text: The document, as text or as file bytes (decoded with ``decode``).
        kind: ``"code"`` or ``"prose"``.
        language: For code, a name from ``LANGUAGES`` or an alias (``"py"``, ``"c++"``, ...).
            None or an unknown name selects the generic tokeniser. Ignored for prose.

    Returns:
        The document's ``Tokens``.

    Raises:
        ValueError: If ``kind`` is unknown.
        BinaryInputError: If ``text`` is bytes that look binary.
    """
    return Tokens._from_rows(_token_rows(text, kind, language))
