"""Input readers for the command line: files, folders, JSON Lines and Parquet.

Every reader yields :class:`Record` tuples ``(id, text, language, source)`` and never loads a
whole corpus into memory: folders are walked lazily, JSON Lines are read line by line and Parquet
files record batch by record batch. Bad *items* inside an input (a binary file in a folder, a
malformed JSON line, a row without text) are not fatal: they are counted in a :class:`SkipLog`
with the reason and where it happened, so the command line can end with one honest summary such
as ``skipped 4: 3 binary, 1 malformed JSON (line 17)``. Bad *inputs* (a path that does not exist,
an unknown format, a Parquet file without the text column) raise :class:`InputError`, which the
command line turns into one ``error: ...`` line and exit status 2.

Bytes are decoded with :func:`dedup.tokenize.decode`, the engine's own decoder, so the text the
readers hand out is exactly what the engine would have decoded itself (and binary files are
recognised by the same rule everywhere).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from dedup.tokenize import BinaryInputError, canonical_language, decode, language_for_path

__all__ = [
    "FORMATS",
    "InputError",
    "Record",
    "SkipLog",
    "detect_format",
    "iter_files",
    "iter_jsonl",
    "iter_parquet",
    "iter_records",
]

#: Input formats the command line accepts; "auto" picks one per path with :func:`detect_format`.
FORMATS = ("auto", "files", "jsonl", "parquet")

JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")

#: Files larger than this are skipped ("too large") unless the caller raises the limit: one
#: minified bundle or data dump should not stall an index build.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024

# Directories that hold tool caches, never sources someone wants deduplicated. Hidden directories
# (".git", ".venv", ...) are skipped by the leading-dot rule.
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})

# How many skip locations to keep per reason for the summary; the count stays exact.
_MAX_EXAMPLES = 3


class InputError(Exception):
    """An input cannot be read at all (missing path, unknown format, missing column, ...)."""


class Record(NamedTuple):
    """One document to fingerprint.

    Attributes:
        id: The record's name in reports: a file path, or the id field of a JSONL/Parquet row
            (``"<file>:<line>"`` / ``"<file>#<row>"`` when the row has none).
        text: The decoded text.
        language: The programming language (``"python"``, ``"c"``, ...) or ``None`` for prose
            and unknown extensions.
        source: Where the record came from, for messages: the path, plus ``:line`` for JSONL
            and ``#row`` for Parquet.
    """

    id: str
    text: str
    language: str | None
    source: str


@dataclass
class SkipLog:
    """Counts skipped items by reason and keeps the first few locations of each."""

    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reason: str, where: str) -> None:
        self.counts[reason] += 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < _MAX_EXAMPLES:
            examples.append(where)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """One line, e.g. ``skipped 4: 3 binary, 1 malformed JSON (line 17)``."""
        if not self.total:
            return "skipped 0"
        parts = []
        for reason, count in sorted(self.counts.items(), key=lambda item: (-item[1], item[0])):
            where = ", ".join(self.examples.get(reason, []))
            more = ", ..." if count > len(self.examples.get(reason, [])) else ""
            parts.append(f"{count} {reason} ({where}{more})")
        return f"skipped {self.total}: " + ", ".join(parts)


def detect_format(path: Path) -> str:
    """The reader for one input path: a folder or other file is "files", else by suffix."""
    if path.is_dir():
        return "files"
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return "files"


def iter_records(
    paths: Sequence[str | os.PathLike],
    *,
    format: str = "auto",
    text_field: str = "text",
    id_field: str = "id",
    skipped: SkipLog | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[Record]:
    """Return an iterator over the records of every input path, in order.

    All paths are checked when this is called, before any record is read, so a typo in the last argument
    fails at once instead of after an hour of work on the first ones.

    Args:
        paths: Files, folders, ``.jsonl`` or ``.parquet`` files.
        format: One of :data:`FORMATS`; anything but "auto" applies to every path.
        text_field: JSONL key / Parquet column holding the text.
        id_field: JSONL key / Parquet column holding the record id (optional in the data).
        skipped: Where skipped items are counted; a fresh log is used when omitted.
        max_bytes: Files (and texts) larger than this are skipped as "too large".

    Raises:
        InputError: A path is missing, has an unknown format, or a Parquet file lacks the
            text column.
    """
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    skipped = skipped if skipped is not None else SkipLog()
    plan = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{raw}: no such file or directory")
        kind = detect_format(path) if format == "auto" else format
        if kind in ("jsonl", "parquet") and path.is_dir():
            raise InputError(f"{raw}: is a directory, but --format {kind} needs a file")
        if kind == "parquet":
            _check_parquet_columns(path, text_field)
        plan.append((path, kind))
    return _iter_plan(plan, text_field, id_field, skipped, max_bytes)


def _iter_plan(plan, text_field: str, id_field: str, skipped: SkipLog, max_bytes: int) -> Iterator[Record]:
    for path, kind in plan:
        if kind == "files":
            yield from iter_files(path, skipped=skipped, max_bytes=max_bytes)
        elif kind == "jsonl":
            yield from iter_jsonl(
                path, text_field=text_field, id_field=id_field, skipped=skipped, max_bytes=max_bytes
            )
        else:
            yield from iter_parquet(
                path, text_field=text_field, id_field=id_field, skipped=skipped, max_bytes=max_bytes
            )


# --- files and folders -------------------------------------------------------------------------


def iter_files(
    path: str | os.PathLike, *, skipped: SkipLog | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[Record]:
    """Yield one record per file: the file itself, or every file under a folder (sorted, recursive).

    Hidden directories (``.git``, ``.venv``...), ``__pycache__`` and ``node_modules`` are not
    entered and directory symlinks are not followed, so a walk cannot loop. The record id is the
    file's path as reached from ``path``.
    """
    skipped = skipped if skipped is not None else SkipLog()
    root = Path(path)
    if not root.exists():
        raise InputError(f"{path}: no such file or directory")
    if root.is_file():
        # A file named on the command line that cannot be read is the user's input being wrong,
        # not an item to skip quietly.
        try:
            data = root.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read file ({exc.strerror or exc})") from None
        record = _file_record(root, data, skipped, max_bytes)
        if record is not None:
            yield record
        return
    for file in _walk(root, skipped):
        try:
            if file.stat().st_size > max_bytes:
                skipped.add("too large", str(file))
                continue
            data = file.read_bytes()
        except OSError:
            skipped.add("unreadable", str(file))
            continue
        record = _file_record(file, data, skipped, max_bytes)
        if record is not None:
            yield record


def _walk(root: Path, skipped: SkipLog) -> Iterator[Path]:
    def on_error(exc: OSError) -> None:
        skipped.add("unreadable", str(exc.filename))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            file = Path(dirpath, name)
            if file.is_file():  # skip sockets, fifos and dangling links
                yield file


def _file_record(file: Path, data: bytes, skipped: SkipLog, max_bytes: int) -> Record | None:
    if len(data) > max_bytes:
        skipped.add("too large", str(file))
        return None
    text = _decode(data, skipped, str(file))
    if text is None:
        return None
    return Record(str(file), text, language_for_path(str(file)), str(file))


def _decode(data: bytes, skipped: SkipLog, where: str) -> str | None:
    try:
        text, _encoding = decode(data)
    except BinaryInputError:
        skipped.add("binary", where)
        return None
    if not text.strip():
        # An empty document would be an "exact match" of every other empty document; it says
        # nothing about copying, so it is left out and counted.
        skipped.add("empty", where)
        return None
    return text


# --- JSON Lines --------------------------------------------------------------------------------


def iter_jsonl(
    path: str | os.PathLike,
    *,
    text_field: str = "text",
    id_field: str = "id",
    skipped: SkipLog | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[Record]:
    """Yield one record per line of a JSON Lines file (one JSON object per line).

    The language is the object's ``"language"`` value when present, else guessed from the id's
    extension (ids are often paths). Malformed lines, non-object lines and objects without a
    string text are skipped with their line number; blank lines are ignored.
    """
    skipped = skipped if skipped is not None else SkipLog()
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    with handle:
        for lineno, raw in enumerate(handle, start=1):
            where = f"{path}:{lineno}"
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                skipped.add("malformed JSON", f"line {lineno}")
                continue
            if not isinstance(obj, dict):
                skipped.add("not a JSON object", f"line {lineno}")
                continue
            record = _row_record(obj, text_field, id_field, where, f"line {lineno}", skipped, max_bytes)
            if record is not None:
                yield record


# --- Parquet -----------------------------------------------------------------------------------


def _check_parquet_columns(path: Path, text_field: str) -> None:
    import pyarrow.parquet as pq  # imported here: pyarrow is slow to import and only needed here

    try:
        schema = pq.read_schema(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read as Parquet ({exc})") from None
    except Exception as exc:  # pyarrow raises ArrowInvalid (a ValueError) for non-Parquet bytes
        raise InputError(f"{path}: not a Parquet file ({exc})") from None
    if text_field not in schema.names:
        columns = ", ".join(schema.names) or "none"
        raise InputError(
            f"{path}: Parquet file has no column {text_field!r} (columns: {columns}); "
            "name the text column with --text-field"
        )


def iter_parquet(
    path: str | os.PathLike,
    *,
    text_field: str = "text",
    id_field: str = "id",
    skipped: SkipLog | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    batch_size: int = 1024,
) -> Iterator[Record]:
    """Yield one record per row of a Parquet file, streaming one record batch at a time.

    Only the text, id and ``language`` columns are read. A binary text column is decoded like a
    file; null texts are skipped with their row number.
    """
    import pyarrow.parquet as pq

    skipped = skipped if skipped is not None else SkipLog()
    path = Path(path)
    _check_parquet_columns(path, text_field)
    parquet = pq.ParquetFile(path)
    names = set(parquet.schema_arrow.names)
    columns = [c for c in dict.fromkeys([text_field, id_field, "language"]) if c in names]
    row = 0
    for batch in parquet.iter_batches(batch_size=batch_size, columns=columns):
        for obj in batch.to_pylist():
            where = f"{path}#{row}"
            record = _row_record(obj, text_field, id_field, where, f"row {row}", skipped, max_bytes)
            row += 1
            if record is not None:
                yield record


# --- shared by JSONL and Parquet rows ---------------------------------------------------------


def _row_record(
    obj: dict,
    text_field: str,
    id_field: str,
    where: str,
    short_where: str,
    skipped: SkipLog,
    max_bytes: int,
) -> Record | None:
    text = obj.get(text_field)
    if isinstance(text, bytes):
        if len(text) > max_bytes:
            skipped.add("too large", short_where)
            return None
        text = _decode(text, skipped, short_where)
        if text is None:
            return None
    elif not isinstance(text, str):
        reason = f"no {text_field!r} field" if text is None else f"{text_field!r} is not text"
        skipped.add(reason, short_where)
        return None
    elif len(text) > max_bytes:
        skipped.add("too large", short_where)
        return None
    elif not text.strip():
        skipped.add("empty", short_where)
        return None
    raw_id = obj.get(id_field)
    record_id = where if raw_id is None or raw_id == "" else str(raw_id)
    language = obj.get("language")
    if isinstance(language, str) and language:
        # Aliases ("py", "C++") become the engine's names; an unknown name is kept (lowercased)
        # so the record still counts as code for the tokeniser's generic rules.
        language = canonical_language(language) or language.strip().lower()
    else:
        language = language_for_path(record_id) if raw_id is not None else None
    return Record(record_id, text, language, where)
