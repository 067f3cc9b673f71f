"""The benchmark corpus: real source code nobody on this project wrote.

Python comes from the standard library of the running interpreter (``Path(os.__file__).parent``,
without ``site-packages``); the other languages come from whatever installed packages happen to
ship sources (JavaScript in ``/usr/lib/node_modules``, C headers in ``/usr/include``, Cython in
the virtualenv, ...). What exists differs between machines, so the benchmark records how many
files of each language it found instead of assuming.

Files are read once, deduplicated by exact content (the same header shipped by two packages is
one document, not two), and kept in memory as bytes with their path and language.
"""

from __future__ import annotations

import hashlib
import os
import sysconfig
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Extension -> language label used in the benchmark's own per-language counts. The engine gets
# its language from dedup.tokenize.language_for_path, like every other caller.
OTHER_LANGUAGES = {
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".pyx": "cython",
    ".pxd": "cython",
    ".java": "java",
    ".go": "go",
    ".rs": "rust",
}

OTHER_ROOTS = ("/usr/include", "/usr/lib", "/usr/share", "/usr/local/include", "/usr/local/lib")


@dataclass(frozen=True)
class SourceFile:
    path: str
    language: str  # the benchmark's label: "python", "javascript", "c", ...
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def stdlib_root() -> Path:
    return Path(os.__file__).parent


def _walk(root: Path, suffixes: set[str]) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        # site-packages holds third-party code, not the standard library; hidden and cache
        # directories hold nothing anyone wrote by hand.
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and d not in ("site-packages", "__pycache__")
        )
        for name in sorted(filenames):
            if os.path.splitext(name)[1].lower() in suffixes:
                found.append(Path(dirpath, name))
    return found


def _read(paths: list[Path], language_of, *, min_bytes: int, max_bytes: int, seen: set[bytes]):
    files = []
    for path in paths:
        try:
            size = path.stat().st_size
            if not (min_bytes <= size <= max_bytes):
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if b"\0" in data:
            continue
        digest = hashlib.sha1(data).digest()
        if digest in seen:
            continue
        seen.add(digest)
        files.append(SourceFile(str(path), language_of(path), data))
    return files


def python_stdlib(*, min_bytes: int = 1, max_bytes: int = 4 * 1024 * 1024) -> list[SourceFile]:
    """Every ``.py`` file of the standard library (distinct contents), sorted by path."""
    seen: set[bytes] = set()
    paths = _walk(stdlib_root(), {".py"})
    return _read(paths, lambda p: "python", min_bytes=min_bytes, max_bytes=max_bytes, seen=seen)


def other_languages(*, min_bytes: int = 1, max_bytes: int = 1024 * 1024) -> list[SourceFile]:
    """Non-Python sources found in installed packages (distinct contents), sorted by path."""
    roots = [Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["platlib"])]
    roots += [Path(r) for r in OTHER_ROOTS]
    seen: set[bytes] = set()
    visited: set[Path] = set()
    files = []
    stdlib = stdlib_root().resolve()
    for root in roots:
        if not root.is_dir():
            continue
        resolved = root.resolve()
        if resolved in visited or resolved == stdlib:
            continue
        visited.add(resolved)
        paths = _walk(root, set(OTHER_LANGUAGES))
        files += _read(
            paths,
            lambda p: OTHER_LANGUAGES[p.suffix.lower()],
            min_bytes=min_bytes,
            max_bytes=max_bytes,
            seen=seen,
        )
    return files


def language_counts(files: list[SourceFile]) -> dict[str, int]:
    return dict(sorted(Counter(f.language for f in files).items()))


def total_bytes(files: list[SourceFile]) -> int:
    return sum(len(f.data) for f in files)
