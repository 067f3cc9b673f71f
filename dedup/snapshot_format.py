"""The snapshot format: writing and verifying the files of a registry snapshot (no Django).

A snapshot is what a dataset builder downloads to filter a corpus offline: the works that
restrict some purpose, with their preferences and fingerprints, and never a text. It is a
directory (served over HTTP as a ``.tar.gz``):

* ``manifest.json``: ``format`` (``registry-snapshot``), ``format_version``, ``kind`` (``full`` or
  ``delta``), the registry ``version`` it shows, ``since`` (the version a delta starts from;
  ``null`` for a full snapshot), ``created_at``, the ``engine`` parameters (the
  :class:`~dedup.config.EngineConfig` plus the normaliser version), the ``purposes`` the
  registry's vocabulary knows, ``code_languages`` (see below), ``counts``, and ``files``: the
  size and sha256 of every other file, so a truncated download or a flipped bit is caught before
  a corpus is filtered against it.
* ``works.jsonl``: one :meth:`dedup.policy.WorkPolicy.to_dict` per work.
* ``docs.jsonl``: ``{"doc_id", "work_id", "kind", "language"}`` per registered document (the
  engine only knows integer document ids; this maps them back to works).
* full snapshots: ``matcher/code/`` and ``matcher/prose/``, each a :meth:`dedup.matcher.Matcher.save`
  directory. There are two because the service keeps one matcher per kind (``registry.engine``):
  the snippet index's boilerplate rule counts documents *per matcher*, so one shared matcher
  could suppress a k-gram the service would not, and the two sides would disagree.
* deltas: ``removed.jsonl`` (``{"work_id"}`` of works no longer in the snapshot: deleted, or no
  longer restricting anything) and ``fingerprints.bin`` (the upserted documents' fingerprints,
  :meth:`~dedup.fingerprint.Fingerprint.to_bytes` framed by :func:`write_fingerprints`), which
  :meth:`dedup.snapshot.Snapshot.merge` adds to the local matchers. A work in ``works.jsonl`` of
  a delta replaces the local copy *with all its documents*.

``code_languages`` lists the languages of the registry's code documents. The service reads a
code document without a language hint once per such language (``registry.engine``); the offline
filter must read it the same way to find the same matches.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

FORMAT = "registry-snapshot"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FULL, DELTA = "full", "delta"
MATCHER_DIR = "matcher"

__all__ = [
    "DELTA",
    "FORMAT",
    "FORMAT_VERSION",
    "FULL",
    "MANIFEST",
    "MATCHER_DIR",
    "SnapshotError",
    "file_checksums",
    "read_fingerprints",
    "read_jsonl",
    "read_manifest",
    "replace_dir",
    "temp_dir_beside",
    "write_fingerprints",
    "write_jsonl",
    "write_manifest",
]

_FRAME = struct.Struct("<qI")  # doc id, length of the fingerprint bytes


class SnapshotError(ValueError):
    """A snapshot cannot be used: missing, corrupt, of another format, or incompatible."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_checksums(root: Path) -> dict[str, dict]:
    """``{relative path: {"bytes", "sha256"}}`` for every file under ``root`` but the manifest."""
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel != MANIFEST:
            out[rel] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
    return out


def write_manifest(root: Path, manifest: dict) -> dict:
    """Add the checksums of every file under ``root`` to ``manifest`` and write it."""
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, **manifest}
    manifest["files"] = file_checksums(root)
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return manifest


def read_manifest(root: Path, *, verify: bool = True) -> dict:
    """The manifest of the snapshot at ``root``, its files checked against their checksums.

    Raises:
        SnapshotError: no such directory, no or corrupt manifest, another format or version, a
            file missing, truncated or changed (the message names the file).
    """
    root = Path(root)
    if not root.is_dir():
        raise SnapshotError(f"{root}: no such snapshot directory")
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(
            f"{root} is not a snapshot (no {MANIFEST}); download one with 'python -m dedup snapshot pull'"
        ) from None
    except ValueError:
        raise SnapshotError(f"{root / MANIFEST} is corrupt (not JSON); download the snapshot again") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SnapshotError(f"{root} is not a registry snapshot ({MANIFEST} has no format {FORMAT!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise SnapshotError(
            f"{root} has snapshot format version {manifest.get('format_version')!r}; this dedup reads "
            f"version {FORMAT_VERSION}: download a new snapshot (or upgrade dedup)"
        )
    if verify:
        for rel, expected in manifest.get("files", {}).items():
            path = root / rel
            if not path.is_file():
                raise SnapshotError(f"{path}: missing from the snapshot; download it again")
            if path.stat().st_size != expected["bytes"] or sha256_file(path) != expected["sha256"]:
                raise SnapshotError(
                    f"{path}: corrupt (its checksum does not match {MANIFEST}); download the snapshot again"
                )
    return manifest


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n


def read_jsonl(path: Path) -> Iterator[dict]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    raise SnapshotError(f"{path}:{lineno}: not JSON; download the snapshot again") from None


def write_fingerprints(path: Path, items: Iterable[tuple[int, bytes]]) -> int:
    """Write ``(doc id, Fingerprint.to_bytes())`` pairs, each framed by its id and length."""
    n = 0
    with path.open("wb") as handle:
        for doc_id, blob in items:
            handle.write(_FRAME.pack(int(doc_id), len(blob)))
            handle.write(blob)
            n += 1
    return n


def read_fingerprints(path: Path) -> Iterator[tuple[int, bytes]]:
    if not path.exists():
        return
    with path.open("rb") as handle:
        while head := handle.read(_FRAME.size):
            if len(head) < _FRAME.size:
                raise SnapshotError(f"{path}: truncated; download the snapshot again")
            doc_id, size = _FRAME.unpack(head)
            blob = handle.read(size)
            if len(blob) < size:
                raise SnapshotError(f"{path}: truncated; download the snapshot again")
            yield doc_id, blob


def temp_dir_beside(target: Path) -> Path:
    """A fresh temporary directory next to ``target`` (same file system: renames are atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))


def replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``; an old ``target`` is removed only once ``new`` is in place.

    Between the two renames ``target`` is briefly missing; a reader then gets a clear "no such
    snapshot" error rather than a half-written one.
    """
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
