"""Hot loops of the engine: bytes -> tokens -> hashes, shingles and MinHash, compiled by numba.

Each kernel is written once, in the small subset of Python that numba compiles and that plain
CPython also runs, so the pure-Python fallback (numba missing, or ``DEDUP_NO_NUMBA=1``) runs the
*same source* and gives identical arrays. Tests compare the two (``*.py_func`` vs the compiled
dispatcher). The fallbacks for shingles and MinHash are vectorised numpy instead, because they are
on the path every fallback signature takes and numpy is fast enough there.

Integer arithmetic: all 32-bit hashing is done on int64 values with explicit ``& 0xFFFFFFFF``
masks. That gives the same low 32 bits in numba (where int64 multiplication wraps) and in CPython
(where it does not, but the mask cuts it) and avoids numba's uint64-with-int64 -> float64
promotion trap. The shingle and MinHash loops are the exception: they stay in unsigned 32-bit
lanes (with np.uint32 constants) so LLVM vectorises them.

Hash functions (documented because stored signatures depend on them; see NORMALISER_VERSION):

* token hash: FNV-1a 32 over the token's UTF-8 bytes, then the MurmurHash3 ``fmix32`` finaliser.
  FNV-1a is one xor and one multiply per byte; its low bits are weak on short tokens, and fmix32
  (a bijection) fixes the mixing for free.
* shingle hash: MurmurHash3_x86_32 (seed 0) of the little-endian bytes of the window's token
  hashes, i.e. four bytes per token; reproducible with any murmur3 implementation.
* MinHash: datasketch 2.0 "affine32": ``min_k(a_k * fmix32(h) + b_k mod 2**32)``.
"""

from __future__ import annotations

import os
import stat
import tempfile

import numpy as np

__all__ = [
    "USE_NUMBA",
    "tokenize_code",
    "tokenize_prose",
    "shingles",
    "minhash_into",
    "hash_bytes",
    "keyword_table",
]


def _private_cache_dir() -> str | None:
    """Return a temp directory only this user can write, or None if that cannot be made safe.

    numba's cache holds pickles that are loaded on import, so a directory another user could
    write into would let them run code in our process. We refuse anything not owned by us or
    writable by group/others.
    """
    path = os.path.join(tempfile.gettempdir(), f"dedup-numba-cache-{os.getuid()}")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        return None
    return path


def _configure_numba_cache() -> bool:
    """Make ``cache=True`` work when the installed package directory is read-only.

    numba writes its cache next to the source (``__pycache__``) and otherwise falls back to a
    user-wide directory under $HOME, which service accounts often lack. Only when the caller has
    not chosen a NUMBA_CACHE_DIR and the package directory is not writable do we point numba at
    a private temp directory. Returns False when no safe cache location exists (compile without
    caching then).
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return True
    pkg = os.path.dirname(os.path.abspath(__file__))
    pycache = os.path.join(pkg, "__pycache__")
    target = pycache if os.path.isdir(pycache) else pkg
    if os.access(target, os.W_OK):
        return True
    path = _private_cache_dir()
    if path is None:
        return False
    os.environ["NUMBA_CACHE_DIR"] = path
    try:  # numba reads the variable at import; if it is already imported, tell its config too.
        import numba.core.config as numba_config

        numba_config.CACHE_DIR = path
    except ImportError:
        pass
    return True


USE_NUMBA = os.environ.get("DEDUP_NO_NUMBA", "") not in ("1", "true", "yes")
if USE_NUMBA:
    _CACHE_OK = _configure_numba_cache()
    try:
        import numba
    except ImportError:  # the engine works without numba, only slower
        USE_NUMBA = False

if USE_NUMBA:

    def _jit(fn):
        if _CACHE_OK:
            try:
                return numba.njit(cache=True, nogil=True)(fn)
            except RuntimeError:  # "no locator available": no writable cache dir after all
                pass
        return numba.njit(cache=False, nogil=True)(fn)

else:

    def _jit(fn):
        return fn


# ---- byte classes ----------------------------------------------------------------------------

C_OTHER, C_WS, C_NL, C_WORD, C_DIGIT = 0, 1, 2, 3, 4


def _class_table(prose: bool) -> np.ndarray:
    table = np.zeros(256, dtype=np.uint8)
    for b in b" \t\r\x0b\x0c":
        table[b] = C_WS
    table[10] = C_NL
    for b in range(ord("a"), ord("z") + 1):
        table[b] = C_WORD
        table[b - 32] = C_WORD
    for b in range(ord("0"), ord("9") + 1):
        table[b] = C_DIGIT
    # Non-ASCII bytes are word characters: code may use Unicode identifiers, and prose has been
    # stripped of non-word Unicode characters in Python before it reaches the kernel.
    table[0x80:] = C_WORD
    if not prose:
        table[ord("_")] = C_WORD
        table[ord("$")] = C_WORD  # $ starts/continues names in JS, PHP, shell, Perl
    return table


CLASS_CODE = _class_table(prose=False)
CLASS_PROSE = _class_table(prose=True)

# ---- language flags ----------------------------------------------------------------------------

F_HASH = 1 << 0  # '#' line comments
F_HASH_WORDSTART = 1 << 1  # ... only at the start of a word (shell, perl, yaml: $#, ${#x}, url#frag)
F_SLASH = 1 << 2  # '//' line comments
F_BLOCK_C = 1 << 3  # '/* */' block comments
F_BLOCK_NEST = 1 << 4  # ... which nest (rust, swift, kotlin, scala)
F_DASH = 1 << 5  # '--' line comments
F_HS_BLOCK = 1 << 6  # '{- -}' nested block comments (haskell)
F_LUA_BLOCK = 1 << 7  # '--[[ ]]' block comments (lua)
F_SEMI = 1 << 8  # ';' line comments (lisp)
F_SQ = 1 << 9  # '...' strings
F_DQ = 1 << 10  # "..." strings
F_BT = 1 << 11  # `...` strings, may span lines
F_BT_RAW = 1 << 12  # ... without backslash escapes (go raw strings)
F_TRIPLE_SQ = 1 << 13  # '''...'''
F_TRIPLE_DQ = 1 << 14  # """..."""
F_MULTILINE = 1 << 15  # ' and " strings may span lines (shell, php, ruby, perl, sql)
F_RUST_CHAR = 1 << 16  # 'a is a lifetime, 'a' a char literal
F_APOS_WORD = 1 << 17  # a ' right after a word character is not a string (don't, x')
F_LINESTART = 1 << 18  # '#' and '//' are comments only as the first thing on a line (generic)
F_KW_CI = 1 << 19  # keywords are case-insensitive (sql)

T_PUNCT, T_IDENT, T_NUM, T_STR = 0, 1, 2, 3

# ---- hashing -----------------------------------------------------------------------------------


@_jit
def fmix32(h):
    """MurmurHash3 32-bit finaliser on an int in [0, 2**32); returns an int in [0, 2**32)."""
    h = h & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


@_jit
def _hash_range(buf, start, end, lower):
    """FNV-1a 32 + fmix32 of buf[start:end]; ASCII-lowercased first when ``lower``."""
    h = 0x811C9DC5
    for j in range(start, end):
        b = buf[j]
        if lower and 65 <= b <= 90:
            b += 32
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return fmix32(h)


def hash_bytes(data: bytes) -> int:
    """The token hash of ``data`` (FNV-1a 32 + fmix32), computed in Python."""
    fn = getattr(_hash_range, "py_func", _hash_range)
    return fn(data, 0, len(data), False)


# The token hash of every one-byte token, looked up instead of computed: half the tokens of code
# are single punctuation characters.
_BYTE_HASH = np.array([hash_bytes(bytes([b])) for b in range(256)], dtype=np.int64)
ID_HASH = hash_bytes(b"<ID>")  # '<' is always its own token, so no real token hashes to these
STR_HASH = hash_bytes(b"<STR>")
NUM_HASH = hash_bytes(b"<NUM>")


def keyword_table(hashes: list[int]) -> np.ndarray:
    """An open-addressing set of keyword hashes for ``_is_keyword`` (0 marks an empty slot).

    A table probe is one load for almost every identifier (most are not keywords and land on an
    empty slot); a binary search was ~6 unpredictable branches and cost ~15% of the tokenizer.
    """
    size = 8
    while size < 4 * len(hashes):
        size *= 2
    table = np.zeros(size, dtype=np.uint32)
    for h in hashes:
        if h == 0:  # cannot happen for the fixed keyword lists (checked at import); 0 means empty
            raise ValueError("a keyword hashes to 0, which keyword_table reserves for empty slots")
        j = h & (size - 1)
        while table[j] not in (0, h):
            j = (j + 1) & (size - 1)
        table[j] = h
    return table


@_jit
def _is_keyword(table, h):
    mask = len(table) - 1
    j = h & mask
    while True:
        v = table[j]
        if v == 0:
            return False
        if v == h:
            return True
        j = (j + 1) & mask


@_jit
def _skip_to_eol(buf, n, i):
    while i < n and buf[i] != 10:
        i += 1
    return i


@_jit
def _skip_block(buf, n, i, open0, open1, close0, close1, nest):
    """Skip a block comment opened at buf[i:i+2]; return the index after its end, or -1 if it
    is never closed (the caller then skips only the opener: see _tokenize_code_impl)."""
    depth = 1
    i += 2
    while i < n:
        b = buf[i]
        if b == close0 and i + 1 < n and buf[i + 1] == close1:
            depth -= 1
            i += 2
            if depth == 0:
                return i
        elif nest and b == open0 and i + 1 < n and buf[i + 1] == open1:
            depth += 1
            i += 2
        else:
            i += 1
    return -1


@_jit
def _count_newlines(buf, start, end):
    """Newlines in buf[start:end] (a block comment skipped in one go)."""
    count = 0
    for j in range(start, end):
        if buf[j] == 10:
            count += 1
    return count


# ---- tokenisers ----------------------------------------------------------------------------------


# Why the tokenisers are resumable: growing the output array inside the scanning loop (``out =
# bigger``) makes numba reference-count ``out`` on every iteration of that loop, whitespace bytes
# included, and those are atomic read-modify-writes: they took more than half the tokeniser's time.
# So each kernel writes into an ``out`` it is given and never replaces, stops when ``out`` is
# full, and keeps everything it needs to carry on in a small int64 ``state`` array; the driver
# (``_run_resumable``) grows ``out`` and calls it again. The saved state is exactly the scanning
# loop's variables at the top of an iteration, so stopping and resuming anywhere gives the same
# tokens as one uninterrupted pass (tests force stops all over texts of every kind to prove it).

# Slots of the code tokeniser's state.
_CS_I, _CS_LINE, _CS_LINE_START = 0, 1, 2
_CS_OPEN_BLOCK, _CS_OPEN_TRIPLE_DQ, _CS_OPEN_TRIPLE_SQ = 3, 4, 5
_CS_OPEN_MULTI_DQ, _CS_OPEN_MULTI_SQ, _CS_OPEN_MULTI_BT = 6, 7, 8
_CS_SIZE = 9


def _code_state(n: int) -> np.ndarray:
    state = np.empty(_CS_SIZE, dtype=np.int64)
    state[_CS_I] = 0
    state[_CS_LINE] = 1
    state[_CS_LINE_START] = 1  # only whitespace since the last newline
    # An opener that is never closed (a fragment that starts inside a docstring or a comment, so
    # its closing quote reads as an opener) must not swallow the rest of the text: the opener
    # alone becomes a token (strings) or is skipped (comments) and scanning resumes after it.
    # Once a scan from position p finds no closer, no later opener of that kind can find one
    # either (nesting comments aside, where it is a safe approximation): these marks keep a text
    # full of stray openers linear. n + 1 means "none seen yet".
    state[_CS_OPEN_BLOCK:] = n + 1
    return state


@_jit
def _tokenize_code_impl(buf, n, cls, flags, kw, out, count, state):
    """Tokenise UTF-8 source code into ``out``; see tokenize.py for the token model.

    ``out`` is uint32[4, cap] with rows exact, abstract, line, weight; tokens are written from
    column ``count``. Returns the new count: either the text is done (``state[_CS_I] >= n``) or
    ``out`` is full and the call is to be repeated with a bigger ``out`` and the same ``state``.
    """
    cap = out.shape[1]
    kw_ci = (flags & F_KW_CI) != 0
    i = int(state[_CS_I])
    line = int(state[_CS_LINE])
    line_start = state[_CS_LINE_START] != 0
    open_block = int(state[_CS_OPEN_BLOCK])
    open_triple_dq = int(state[_CS_OPEN_TRIPLE_DQ])
    open_triple_sq = int(state[_CS_OPEN_TRIPLE_SQ])
    open_multi_dq = int(state[_CS_OPEN_MULTI_DQ])
    open_multi_sq = int(state[_CS_OPEN_MULTI_SQ])
    open_multi_bt = int(state[_CS_OPEN_MULTI_BT])
    while i < n:
        if count == cap:  # full: save the loop's state and let the driver grow ``out``
            break
        c = buf[i]
        k = cls[c]
        if k == C_WS:
            i += 1
            continue
        # Lines are counted where newlines are consumed: here, in skipped block comments and in
        # string tokens (line comments stop before their newline). A token's line is the line
        # of its first byte.
        if k == C_NL:
            line += 1
            line_start = True
            i += 1
            continue
        nxt = buf[i + 1] if i + 1 < n else 0
        # -- comments
        if c == 35:  # '#'
            if flags & F_HASH:
                if not (flags & F_HASH_WORDSTART) or i == 0:
                    i = _skip_to_eol(buf, n, i)
                    continue
                p = buf[i - 1]
                if cls[p] == C_WS or cls[p] == C_NL or p == 59 or p == 124 or p == 38 or p == 40:
                    i = _skip_to_eol(buf, n, i)
                    continue
            elif (flags & F_LINESTART) and line_start:
                i = _skip_to_eol(buf, n, i)
                continue
        elif c == 47:  # '/'
            if nxt == 47 and ((flags & F_SLASH) or ((flags & F_LINESTART) and line_start)):
                i = _skip_to_eol(buf, n, i)
                continue
            if nxt == 42 and (flags & F_BLOCK_C):
                j = (
                    -1
                    if i >= open_block
                    else _skip_block(buf, n, i, 47, 42, 42, 47, (flags & F_BLOCK_NEST) != 0)
                )
                if j < 0:
                    open_block = min(open_block, i)
                    j = i + 2
                line += _count_newlines(buf, i, j)
                i = j
                continue
        elif c == 45:  # '-'
            if nxt == 45 and (flags & F_DASH):
                if (flags & F_LUA_BLOCK) and i + 3 < n and buf[i + 2] == 91 and buf[i + 3] == 91:
                    j = _skip_block(buf, n, i + 2, 91, 91, 93, 93, False)
                    j = j if j >= 0 else i + 4
                    line += _count_newlines(buf, i, j)
                    i = j
                else:
                    i = _skip_to_eol(buf, n, i)
                continue
        elif c == 123:  # '{'
            if nxt == 45 and (flags & F_HS_BLOCK):
                j = _skip_block(buf, n, i, 123, 45, 45, 125, True)
                j = j if j >= 0 else i + 2
                line += _count_newlines(buf, i, j)
                i = j
                continue
        elif c == 59:  # ';'
            if flags & F_SEMI:
                i = _skip_to_eol(buf, n, i)
                continue
        line_start = False
        # -- the token
        start = i
        kind = T_PUNCT
        end = i + 1
        if c == 39 or c == 34 or c == 96:  # ' " `
            is_str = False
            if c == 39:
                is_str = (flags & F_SQ) != 0
            elif c == 34:
                is_str = (flags & F_DQ) != 0
            else:
                is_str = (flags & F_BT) != 0
            if is_str and c == 39 and (flags & F_APOS_WORD) and i > 0:
                pk = cls[buf[i - 1]]
                if pk == C_WORD or pk == C_DIGIT:
                    is_str = False
            if is_str and c == 39 and (flags & F_RUST_CHAR) and nxt != 92 and cls[nxt] == C_WORD:
                # 'a' is a char literal, 'a (and 'static) a lifetime label.
                j = i + 1
                chars = 0
                while j < n and (cls[buf[j]] == C_WORD or cls[buf[j]] == C_DIGIT):
                    if (buf[j] & 0xC0) != 0x80:
                        chars += 1
                    j += 1
                if not (chars == 1 and j < n and buf[j] == 39):
                    is_str = False
            if is_str:
                kind = T_STR
                triple = (c == 39 and (flags & F_TRIPLE_SQ) != 0) or (c == 34 and (flags & F_TRIPLE_DQ) != 0)
                if triple and nxt == c and i + 2 < n and buf[i + 2] == c:
                    closed = False
                    j = i + 3
                    if i < (open_triple_dq if c == 34 else open_triple_sq):
                        while j < n:
                            b = buf[j]
                            if b == 92:
                                j += 2
                            elif b == c and j + 2 < n and buf[j + 1] == c and buf[j + 2] == c:
                                j += 3
                                closed = True
                                break
                            else:
                                j += 1
                    if not closed:  # never closed: the opener alone is the token
                        if c == 34:
                            open_triple_dq = min(open_triple_dq, i)
                        else:
                            open_triple_sq = min(open_triple_sq, i)
                        j = i + 3
                else:
                    multiline = c == 96 or (flags & F_MULTILINE) != 0
                    raw = c == 96 and (flags & F_BT_RAW) != 0
                    j = i + 1
                    closed = False
                    open_multi = open_multi_dq if c == 34 else (open_multi_sq if c == 39 else open_multi_bt)
                    if not (multiline and i >= open_multi):
                        while j < n:
                            b = buf[j]
                            if b == 92 and not raw:
                                j += 2
                            elif b == c:
                                j += 1
                                closed = True
                                break
                            elif b == 10 and not multiline:
                                break  # unterminated: stop at the line end to limit the damage
                            else:
                                j += 1
                    if multiline and not closed:  # never closed: the opener alone is the token
                        if c == 34:
                            open_multi_dq = min(open_multi_dq, i)
                        elif c == 39:
                            open_multi_sq = min(open_multi_sq, i)
                        else:
                            open_multi_bt = min(open_multi_bt, i)
                        j = i + 1
                end = j if j < n else n
        elif k == C_WORD:
            # Hashed (FNV-1a, as below) while scanned: one pass over the bytes, not two.
            kind = T_IDENT
            h = ((0x811C9DC5 ^ c) * 0x01000193) & 0xFFFFFFFF
            weight = 1 if (c & 0xC0) != 0x80 else 0
            j = i + 1
            while j < n:
                b = buf[j]
                kj = cls[b]
                if kj != C_WORD and kj != C_DIGIT:
                    break
                h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
                if (b & 0xC0) != 0x80:
                    weight += 1
                j += 1
            end = j
            h = fmix32(h)
        elif k == C_DIGIT:
            kind = T_NUM
            hexnum = c == 48 and (nxt == 120 or nxt == 88)
            j = i + 1
            while j < n:
                b = buf[j]
                kj = cls[b]
                if (kj == C_WORD or kj == C_DIGIT) and b < 128:
                    j += 1
                elif b == 46 and j + 1 < n and cls[buf[j + 1]] == C_DIGIT:
                    j += 1
                elif (
                    (b == 43 or b == 45)
                    and not hexnum
                    and (buf[j - 1] | 32) == 101
                    and j + 1 < n
                    and cls[buf[j + 1]] == C_DIGIT
                ):
                    j += 1
                else:
                    break
            end = j
        # -- hash (FNV-1a + fmix32) and weight (non-whitespace characters) of buf[start:end]
        newlines = 0
        if kind == T_IDENT:
            pass  # hashed while scanned
        elif end == start + 1:
            h = _BYTE_HASH[c]
            weight = 1 if (c & 0xC0) != 0x80 else 0
        else:
            h = 0x811C9DC5
            weight = 0
            for j in range(start, end):
                b = buf[j]
                h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
                kj = cls[b]
                if (b & 0xC0) != 0x80 and kj != C_WS and kj != C_NL:
                    weight += 1
                if kj == C_NL:
                    newlines += 1
            h = fmix32(h)
        # -- emit
        if kind == T_IDENT:
            if kw_ci:
                hl = _hash_range(buf, start, end, True)
                a = hl if _is_keyword(kw, hl) else ID_HASH
            else:
                a = h if _is_keyword(kw, h) else ID_HASH
        elif kind == T_NUM:
            a = NUM_HASH
        elif kind == T_STR:
            a = STR_HASH
        else:
            a = h
        out[0, count] = h
        out[1, count] = a
        out[2, count] = line
        out[3, count] = weight
        count += 1
        line += newlines
        i = end
    state[_CS_I] = i
    state[_CS_LINE] = line
    state[_CS_LINE_START] = 1 if line_start else 0
    state[_CS_OPEN_BLOCK] = open_block
    state[_CS_OPEN_TRIPLE_DQ] = open_triple_dq
    state[_CS_OPEN_TRIPLE_SQ] = open_triple_sq
    state[_CS_OPEN_MULTI_DQ] = open_multi_dq
    state[_CS_OPEN_MULTI_SQ] = open_multi_sq
    state[_CS_OPEN_MULTI_BT] = open_multi_bt
    return count


# Slots of the prose tokeniser's state.
_PS_I, _PS_LINE, _PS_SIZE = 0, 1, 2


def _prose_state(n: int) -> np.ndarray:
    state = np.empty(_PS_SIZE, dtype=np.int64)
    state[_PS_I] = 0
    state[_PS_LINE] = 1
    return state


@_jit
def _tokenize_prose_impl(buf, n, cls, out, count, state):
    """Words of already-normalised prose: runs of ASCII alphanumerics and non-ASCII bytes.

    Resumable like ``_tokenize_code_impl``: writes into ``out`` from ``count``, returns the new
    count, and stops early (``state[_PS_I] < n``) when ``out`` is full.
    """
    cap = out.shape[1]
    i = int(state[_PS_I])
    line = int(state[_PS_LINE])
    while i < n:
        k = cls[buf[i]]
        if k != C_WORD and k != C_DIGIT:
            if buf[i] == 10:
                line += 1
            i += 1
            continue
        if count == cap:  # full, and a word starts here: let the driver grow ``out``
            break
        h = 0x811C9DC5
        weight = 0
        while i < n:
            b = buf[i]
            k = cls[b]
            if k != C_WORD and k != C_DIGIT:
                break
            h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
            if (b & 0xC0) != 0x80:
                weight += 1
            i += 1
        h = fmix32(h)
        out[0, count] = h
        out[1, count] = h
        out[2, count] = line
        out[3, count] = weight
        count += 1
    state[_PS_I] = i
    state[_PS_LINE] = line
    return count


def _run_resumable(kernel, args: tuple, n: int, state: np.ndarray, cap: int) -> np.ndarray:
    """Run a resumable tokeniser (``kernel(*args, out, count, state)``) to the end of its text.

    ``out`` starts with ``cap`` columns and doubles whenever the kernel stops because it is full.
    Returns the (4, ntokens) result as one contiguous array.
    """
    out = np.empty((4, max(cap, 1)), dtype=np.uint32)
    count = kernel(*args, out, 0, state)
    while state[0] < n:  # slot 0 is the scan position in every tokeniser's state
        bigger = np.empty((4, 2 * out.shape[1]), dtype=np.uint32)
        bigger[:, :count] = out[:, :count]
        out = bigger
        count = kernel(*args, out, count, state)
    return np.ascontiguousarray(out[:, :count])


def _initial_cap(n: int) -> int:
    # Code runs 4-10 bytes a token (the standard library: 7.3), prose a little more; n // 4 makes
    # a second kernel call rare and costs no memory that is not touched (the rows are filled from
    # the start and the rest of an untouched allocation is never paged in).
    return n // 4 + 64


def tokenize_code(
    data: bytes, flags: int, keywords: np.ndarray, *, pure: bool = False, cap: int | None = None
) -> np.ndarray:
    """uint32[4, ntokens] (exact, abstract, line, weight) of UTF-8 source code.

    ``cap`` (initial output columns) is for tests that force the kernel to stop and resume.
    """
    n = len(data)
    cap = _initial_cap(n) if cap is None else cap
    if pure or not USE_NUMBA:
        fn = getattr(_tokenize_code_impl, "py_func", _tokenize_code_impl)
        return _run_resumable(fn, (data, n, CLASS_CODE.tobytes(), flags, keywords), n, _code_state(n), cap)
    buf = np.frombuffer(data, dtype=np.uint8)
    return _run_resumable(_tokenize_code_impl, (buf, n, CLASS_CODE, flags, keywords), n, _code_state(n), cap)


def tokenize_prose(data: bytes, *, pure: bool = False, cap: int | None = None) -> np.ndarray:
    """uint32[4, ntokens] of normalised UTF-8 prose (``cap`` as in ``tokenize_code``)."""
    n = len(data)
    cap = _initial_cap(n) if cap is None else cap
    if pure or not USE_NUMBA:
        fn = getattr(_tokenize_prose_impl, "py_func", _tokenize_prose_impl)
        return _run_resumable(fn, (data, n, CLASS_PROSE.tobytes()), n, _prose_state(n), cap)
    buf = np.frombuffer(data, dtype=np.uint8)
    return _run_resumable(_tokenize_prose_impl, (buf, n, CLASS_PROSE), n, _prose_state(n), cap)


# ---- shingles ------------------------------------------------------------------------------------


# uint32 constants: numba keeps uint32 (op) uint32 unsigned (it widens to uint64, and the
# np.uint32() casts truncate back, i.e. mod 2**32); a plain int literal would make it signed,
# and uint64 with int64 gives float64.
_U13, _U15, _U16, _U17, _U19 = (np.uint32(v) for v in (13, 15, 16, 17, 19))
_MURMUR_C1, _MURMUR_C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
_MURMUR_M, _MURMUR_N = np.uint32(5), np.uint32(0xE6546B64)
_FMIX_C1, _FMIX_C2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)


@_jit
def _shingles_nb(tokens, k):
    # The same column-at-a-time order as _shingles_np, for speed: each token's murmur block
    # mix is computed once (not once per window it is in), and every loop below runs over
    # independent windows in uint32 lanes, which LLVM vectorises.
    n = tokens.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.uint32)
    width = k if n >= k else n
    m = n - width + 1
    mixed = np.empty(n, dtype=np.uint32)
    for i in range(n):
        k1 = np.uint32(tokens[i] * _MURMUR_C1)
        k1 = np.uint32((k1 << _U15) | (k1 >> _U17))
        mixed[i] = np.uint32(k1 * _MURMUR_C2)
    out = np.zeros(m, dtype=np.uint32)  # murmur3's seed, 0
    for j in range(width):
        for s in range(m):
            h = np.uint32(out[s] ^ mixed[s + j])
            h = np.uint32((h << _U13) | (h >> _U19))
            out[s] = np.uint32(h * _MURMUR_M + _MURMUR_N)
    length = np.uint32(width * 4)  # bytes hashed
    for s in range(m):
        h = np.uint32(out[s] ^ length)
        h = np.uint32(h ^ (h >> _U16))
        h = np.uint32(h * _FMIX_C1)
        h = np.uint32(h ^ (h >> _U13))
        h = np.uint32(h * _FMIX_C2)
        out[s] = np.uint32(h ^ (h >> _U16))
    return out


def _fmix32_np(h: np.ndarray) -> np.ndarray:
    """fmix32 on a uint32 array (numpy wraps uint32 multiplication, which is the mod 2**32)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _shingles_np(tokens: np.ndarray, k: int) -> np.ndarray:
    n = tokens.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.uint32)
    width = min(k, n)
    m = n - width + 1
    h = np.zeros(m, dtype=np.uint32)
    for j in range(width):
        k1 = tokens[j : j + m].astype(np.uint32) * np.uint32(0xCC9E2D51)
        k1 = (k1 << np.uint32(15)) | (k1 >> np.uint32(17))
        k1 = k1 * np.uint32(0x1B873593)
        h ^= k1
        h = (h << np.uint32(13)) | (h >> np.uint32(19))
        h = h * np.uint32(5) + np.uint32(0xE6546B64)
    h ^= np.uint32(width * 4)
    return _fmix32_np(h)


def shingles(tokens: np.ndarray, k: int, *, pure: bool = False) -> np.ndarray:
    """uint32 MurmurHash3 of each window of ``k`` token hashes (see module docstring)."""
    tokens = np.ascontiguousarray(tokens, dtype=np.uint32)
    if pure or not USE_NUMBA:
        return _shingles_np(tokens, k)
    return _shingles_nb(tokens, k)


# ---- MinHash -------------------------------------------------------------------------------------


# The MinHash kernel works in two steps.
#
# 1. fmix32 every hash and drop repeats with a small direct-mapped table: a value equal to the
#    one last stored in its slot is dropped. Code repeats itself (on the abstract channel three
#    shingles in four are repeats), and the filter costs ~2 ns a value against ~12 ns for 128
#    permutations. It is lossy on purpose: two values that share a slot can both survive, which
#    only costs time, because min is idempotent and a value seen twice changes no minimum. That
#    keeps it free of branches and of probing, and the result exact.
# 2. The affine permutations of the survivors, eight values at a time, so that each ``out[p]``
#    is loaded and stored once per eight values instead of once per value (the loop over p is
#    vectorised by LLVM; loads and stores of ``out`` were what bounded it).
#
# Arithmetic: uint32 * uint32 widens in numba; the cast back truncates, i.e. mod 2**32, and LLVM
# narrows the whole expression to 32-bit vector lanes.

_FILTER_MAX_SLOTS = 1 << 14  # 64 KiB of table: stays in L1/L2 whatever the document's size


@_jit
def _mixed_distinct(hashes):
    """fmix32 of ``hashes`` with most repeats dropped: returns (values, count)."""
    n = hashes.shape[0]
    size = 64
    while size < n and size < _FILTER_MAX_SLOTS:
        size *= 2
    mask = size - 1
    table = np.empty(size, dtype=np.uint32)
    for j in range(size):
        # (j + 1) & mask lives in another slot, so an unused slot matches no value.
        table[j] = (j + 1) & mask
    values = np.empty(n, dtype=np.uint32)
    m = 0
    for i in range(n):
        hv = np.uint32(fmix32(np.int64(hashes[i])))
        j = hv & mask
        values[m] = hv
        m += table[j] != hv  # keep it unless its slot says it was just seen
        table[j] = hv
    return values, m


@_jit
def _minhash_nb(hashes, a, b, out):
    values, m = _mixed_distinct(hashes)
    num_perm = a.shape[0]
    m8 = m - m % 8
    for i in range(0, m8, 8):
        h0, h1, h2, h3 = values[i], values[i + 1], values[i + 2], values[i + 3]
        h4, h5, h6, h7 = values[i + 4], values[i + 5], values[i + 6], values[i + 7]
        for p in range(num_perm):
            ap = a[p]
            bp = b[p]
            v0 = min(np.uint32(ap * h0 + bp), np.uint32(ap * h1 + bp))
            v2 = min(np.uint32(ap * h2 + bp), np.uint32(ap * h3 + bp))
            v4 = min(np.uint32(ap * h4 + bp), np.uint32(ap * h5 + bp))
            v6 = min(np.uint32(ap * h6 + bp), np.uint32(ap * h7 + bp))
            v = min(min(v0, v2), min(v4, v6))
            if v < out[p]:
                out[p] = v
    for i in range(m8, m):
        hv = values[i]
        for p in range(num_perm):
            v = np.uint32(a[p] * hv + b[p])
            if v < out[p]:
                out[p] = v


_CHUNK = 2048  # rows per broadcast block: keeps the (rows, num_perm) temporary in cache


def _minhash_np(hashes: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    for s in range(0, hashes.shape[0], _CHUNK):
        hv = _fmix32_np(hashes[s : s + _CHUNK])[:, None]
        phv = hv * a + b
        np.minimum(out, phv.min(axis=0), out=out)


def minhash_into(hashes: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray, *, pure: bool = False):
    """Lower ``out`` (uint32[num_perm]) to the affine32 MinHash of ``hashes``, in place."""
    hashes = np.ascontiguousarray(hashes, dtype=np.uint32)
    if pure or not USE_NUMBA:
        _minhash_np(hashes, a, b, out)
    else:
        _minhash_nb(hashes, a, b, out)
