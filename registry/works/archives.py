"""Safe reading of uploaded repository archives (.zip, .tar.gz, .tgz).

Pure Python, no Django: the service passes the limits in. An archive is untrusted input, so:

- Paths: an absolute path, a drive letter or a `..` component rejects the whole archive (a
  registry never writes these to disk, but a path that tries to leave the archive says the
  upload was crafted, and the author should know which entry it was).
- Links and devices: symlinks, hardlinks, device files and FIFOs reject the archive.
- Bombs: the number of files, the total unpacked size and the compression ratio are capped.
  Declared sizes are checked first (cheap rejection) but never trusted: every entry is read in
  chunks and the bytes actually produced are counted against the same caps, so a header that
  lies does not help.
- Files larger than the per-file limit, empty files and version-control/build directories are
  skipped and reported; decoding (and skipping binary files) is the caller's job.

Every rejection is an `ArchiveError` whose message is written for the author.
"""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

CHUNK = 64 * 1024
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", ".tox"})


class ArchiveError(ValueError):
    """The archive cannot be registered; the message says why, for the author."""


def format_size(num_bytes: int) -> str:
    """A size for people: "6.2 MB", "12 KB", "900 bytes" (1 MB = 1024 * 1024 bytes)."""
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if num_bytes >= size:
            return f"{num_bytes / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{num_bytes} bytes"


@dataclass(frozen=True)
class Limits:
    """The caps an archive must respect (from settings.REGISTRY).

    `ratio_floor_bytes`: the compression-ratio cap applies once an entry (zip) or the archive
    (tar.gz) unpacks to more than this; small, very repetitive text files (fixtures, generated
    tables) compress well beyond any sane bomb ratio and are harmless at that size.
    """

    max_archive_bytes: int
    max_unpacked_bytes: int
    max_files: int
    max_ratio: int
    max_file_bytes: int
    ratio_floor_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class Entry:
    path: str
    data: bytes


@dataclass(frozen=True)
class Skip:
    path: str
    reason: str


@dataclass
class Contents:
    entries: list[Entry] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


def is_archive_name(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith((".zip", ".tar.gz", ".tgz"))


def read_archive(fileobj, *, name: str, size: int, limits: Limits) -> Contents:
    """Read the regular files of an archive into memory, enforcing `limits`.

    Args:
        fileobj: a seekable binary file.
        name: the uploaded file name; its extension selects the format.
        size: the archive's size in bytes.
        limits: the caps.

    Raises:
        ArchiveError: unsupported type, corrupt archive, or a limit or safety rule broken.
    """
    if size > limits.max_archive_bytes:
        raise ArchiveError(
            f"The archive is {format_size(size)}; the limit is {format_size(limits.max_archive_bytes)}."
        )
    lowered = name.lower()
    try:
        if lowered.endswith(".zip"):
            return _read_zip(fileobj, limits)
        if lowered.endswith((".tar.gz", ".tgz")):
            return _read_tar(fileobj, size, limits)
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError) as exc:
        raise ArchiveError(
            f"The archive {name} is corrupt or not a valid {_kind(lowered)} file ({exc})."
        ) from exc
    raise ArchiveError(f"{name} is not a supported archive; upload a .zip, .tar.gz or .tgz file.")


def _kind(lowered: str) -> str:
    return ".zip" if lowered.endswith(".zip") else ".tar.gz"


def check_path(path: str) -> str:
    """The path normalised to forward slashes; ArchiveError if absolute or leaving the archive."""
    cleaned = path.replace("\\", "/")
    if cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":"):
        raise ArchiveError(
            f"The archive contains an absolute path ({path}); only relative paths are accepted."
        )
    parts = PurePosixPath(cleaned).parts
    if ".." in parts:
        raise ArchiveError(
            f"The archive contains a path that leaves its folder ({path}); '..' is not accepted."
        )
    return "/".join(p for p in parts if p not in ("", "."))


def _skip_reason_for_path(path: str) -> str | None:
    if any(part in SKIPPED_DIRS for part in PurePosixPath(path).parts[:-1]):
        return "version-control or build directory"
    return None


class _Budget:
    """Counts the bytes actually unpacked against the caps."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.total = 0
        self.files = 0

    def count_file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise ArchiveError(
                f"The archive has more than {self.limits.max_files} files; "
                f"the limit is {self.limits.max_files}."
            )

    def add(self, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_unpacked_bytes:
            raise ArchiveError(
                f"The archive unpacks to more than {format_size(self.limits.max_unpacked_bytes)}; "
                f"the limit is {format_size(self.limits.max_unpacked_bytes)}."
            )


def _too_large(size: int, limits: Limits) -> str:
    return f"the file is {format_size(size)}; the limit is {format_size(limits.max_file_bytes)}"


def _ratio_error(what: str, ratio: float, limits: Limits) -> ArchiveError:
    return ArchiveError(
        f"{what} expands {ratio:.0f} times its compressed size; the limit is {limits.max_ratio} times "
        f"(this looks like a zip bomb)."
    )


def _read_limited(stream, *, path: str, declared: int | None, budget: _Budget, on_chunk=None) -> bytes:
    """Read `stream` in chunks, never trusting `declared`."""
    chunks = []
    got = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        got += len(chunk)
        budget.add(len(chunk))
        if declared is not None and got > declared:
            raise ArchiveError(
                f"The archive entry {path} is larger than its header says; the archive was rejected."
            )
        if got > budget.limits.max_file_bytes:
            # Header said it was small enough, the bytes say otherwise.
            raise ArchiveError(
                f"The archive entry {path} is larger than its header says "
                f"(over {format_size(budget.limits.max_file_bytes)}); the archive was rejected."
            )
        if on_chunk is not None:
            on_chunk(got)
        chunks.append(chunk)
    return b"".join(chunks)


def _read_zip(fileobj, limits: Limits) -> Contents:
    contents = Contents()
    budget = _Budget(limits)
    with zipfile.ZipFile(fileobj) as zf:
        infos = zf.infolist()
        # Cheap checks on the declared sizes first: refuse before reading a single byte.
        files = [i for i in infos if not i.is_dir()]
        if len(files) > limits.max_files:
            raise ArchiveError(f"The archive has {len(files)} files; the limit is {limits.max_files}.")
        declared_total = sum(i.file_size for i in files)
        if declared_total > limits.max_unpacked_bytes:
            raise ArchiveError(
                f"The archive unpacks to {format_size(declared_total)}; "
                f"the limit is {format_size(limits.max_unpacked_bytes)}."
            )
        for info in infos:
            path = check_path(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise ArchiveError(
                    f"The archive contains a symbolic link ({info.filename}); links are not accepted."
                )
            if mode and (
                stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
            ):
                raise ArchiveError(
                    f"The archive contains a special file ({info.filename}); only files are accepted."
                )
            if info.is_dir() or not path:
                continue
            budget.count_file()
            if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                raise _ratio_error(
                    f"The archive entry {path}", info.file_size / max(info.compress_size, 1), limits
                )
            reason = _skip_reason_for_path(path)
            if reason is None and info.flag_bits & 0x1:
                reason = "encrypted"
            if reason is None and info.file_size > limits.max_file_bytes:
                reason = _too_large(info.file_size, limits)
            if reason is None and info.file_size == 0:
                reason = "empty"
            if reason is not None:
                contents.skipped.append(Skip(path, reason))
                continue

            def check_ratio(got: int, info=info, path=path) -> None:
                if got > limits.ratio_floor_bytes and got > limits.max_ratio * max(info.compress_size, 1):
                    raise _ratio_error(f"The archive entry {path}", got / max(info.compress_size, 1), limits)

            with zf.open(info) as stream:
                data = _read_limited(
                    stream, path=path, declared=info.file_size, budget=budget, on_chunk=check_ratio
                )
            contents.entries.append(Entry(path, data))
    return contents


def _read_tar(fileobj, size: int, limits: Limits) -> Contents:
    contents = Contents()
    budget = _Budget(limits)
    # Stream mode ("r|gz") reads forward only: no member list is built up front, so a tar with
    # millions of headers is stopped by the file count as soon as it passes the cap.
    with tarfile.open(fileobj=fileobj, mode="r|gz") as tf:
        for member in tf:
            path = check_path(member.name)
            if member.issym() or member.islnk():
                raise ArchiveError(
                    f"The archive contains a link ({member.name} -> {member.linkname}); "
                    "links are not accepted."
                )
            if member.isdev():
                raise ArchiveError(
                    f"The archive contains a special file ({member.name}); only files are accepted."
                )
            if member.isdir() or not path:
                continue
            if not member.isfile():
                contents.skipped.append(Skip(path, "not a regular file"))
                continue
            budget.count_file()
            reason = _skip_reason_for_path(path)
            if reason is None and member.size > limits.max_file_bytes:
                reason = _too_large(member.size, limits)
            if reason is None and member.size == 0:
                reason = "empty"
            if reason is not None:
                contents.skipped.append(Skip(path, reason))
                continue
            if budget.total + member.size > limits.max_unpacked_bytes:
                raise ArchiveError(
                    f"The archive unpacks to more than {format_size(limits.max_unpacked_bytes)}; "
                    f"the limit is {format_size(limits.max_unpacked_bytes)}."
                )
            before = budget.total

            def check_ratio(got: int, before=before, path=path) -> None:
                # gzip compresses the whole stream, so the ratio is for the archive as a whole.
                total = before + got
                if total > limits.ratio_floor_bytes and total > limits.max_ratio * max(size, 1):
                    raise _ratio_error("The archive", total / max(size, 1), limits)

            stream = tf.extractfile(member)
            data = _read_limited(stream, path=path, declared=member.size, budget=budget, on_chunk=check_ratio)
            contents.entries.append(Entry(path, data))
    return contents


def read_archive_bytes(data: bytes, *, name: str, limits: Limits) -> Contents:
    """`read_archive` for bytes already in memory (tests, the demo seeder)."""
    return read_archive(io.BytesIO(data), name=name, size=len(data), limits=limits)
