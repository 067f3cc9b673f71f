"""Reading a scan upload into samples: JSON Lines, an archive of files, or a list in the request.

Two kinds of problem, kept apart on purpose:

- A problem with one sample (a malformed JSON line, a line without text, a text over the
  per-sample limit, binary content) becomes a *failed sample* carrying the reason and its line
  number: one bad line in a million must not throw away the other 999,999.
- A problem with the upload as a whole (too large, too many samples, not JSON Lines at all,
  empty, an unsafe archive) is an `IntakeError` whose message names the limit or the rule, and
  the API answers 400 with it.

Samples are produced lazily (`Intake.samples` is an iterator) so a large JSONL file is never
held in memory as a whole; the upload-level checks that can only be made at the end (no line
had a text at all) raise from the iterator, and the service's transaction rolls back whatever
was written. Archives are read through registry/works/archives.py with the registration limits.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings

from registry import engine
from registry.works import archives
from registry.works.services import archive_limits

# Languages that mean "read this as prose" rather than code.
PROSE_LANGUAGES = frozenset(
    {"text", "prose", "plain", "plaintext", "txt", "markdown", "md", "rst", "natural", "english", "en"}
)
PROSE_EXTENSIONS = (".txt", ".md", ".markdown", ".rst", ".text")
EXAMPLE_LINE = '{"id": "1", "text": "def add(a, b): ...", "language": "python"}'


class IntakeError(ValueError):
    """The upload as a whole cannot be scanned; the message says why, for the user."""


@dataclass(frozen=True)
class Sample:
    """One sample: `error` set means it failed at intake and `text` is not kept."""

    id: str
    text: str | None = None
    language: str | None = None
    error: str = ""

    def to_payload(self) -> dict:
        if self.error:
            return {"id": self.id, "error": self.error}
        return {"id": self.id, "text": self.text, "language": self.language}


@dataclass
class Intake:
    """What the service needs from an upload: the samples and what was left out."""

    source: str
    samples: Iterator[Sample]
    skipped: list[dict] = field(default_factory=list)  # archive files that are not samples


def max_scan_bytes() -> int:
    return settings.REGISTRY["MAX_SCAN_BYTES"]


def max_scan_samples() -> int:
    return settings.REGISTRY["MAX_SCAN_SAMPLES"]


def max_sample_bytes() -> int:
    return settings.REGISTRY["MAX_FILE_BYTES"]


def sample_problem(text: str) -> str:
    """Why a sample's text cannot be scanned, or "" (used at intake and again by the chunk task)."""
    if "\x00" in text:
        return "the text looks binary (it contains NUL characters)"
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_sample_bytes():
        return (
            f"the text is {archives.format_size(size)}; the limit per sample is "
            f"{archives.format_size(max_sample_bytes())}"
        )
    if not text.strip():
        return "the text is empty"
    return ""


def pack_payload(samples: Iterable[Sample]) -> bytes:
    """A chunk's samples as zlib-compressed JSON (ScanChunk.payload)."""
    data = json.dumps([s.to_payload() for s in samples], ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(data.encode("utf-8"), 6)


def unpack_payload(blob: bytes) -> list[dict]:
    return json.loads(zlib.decompress(bytes(blob)).decode("utf-8"))


def check_size(size: int, what: str = "The upload") -> None:
    if size > max_scan_bytes():
        raise IntakeError(
            f"{what} is {archives.format_size(size)}; the limit is {archives.format_size(max_scan_bytes())}. "
            "Split it into several scans."
        )


def _too_many() -> IntakeError:
    n = max_scan_samples()
    return IntakeError(f"The upload has more than {n:,} samples; the limit is {n:,} per scan. Split it.")


def _language(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("'language' must be a string")
    return value.strip().lower() or None


# --- JSON Lines ----------------------------------------------------------------------------------


def read_jsonl(fileobj, *, size: int, name: str = "the file") -> Intake:
    """Samples from a JSON Lines upload: one {"id", "text", "language"?} object per line.

    Raises (at once) IntakeError for a file over the size limit or one that is binary; the
    iterator raises IntakeError for too many samples, an empty file, or a file in which no
    line was a JSON object with a text.
    """
    check_size(size, f"The file {name}")
    head = fileobj.read(8192)
    fileobj.seek(0)
    if b"\x00" in head:
        raise IntakeError(
            f"{name} is not a JSON Lines file (it looks binary). Upload one JSON object per line, e.g. "
            f"{EXAMPLE_LINE}, or a .zip / .tar.gz of files."
        )
    return Intake(source="jsonl", samples=_jsonl_samples(fileobj, name))


def _jsonl_samples(fileobj, name: str) -> Iterator[Sample]:
    count = 0
    non_blank = objects = with_text = 0
    first_problem = ""
    for number, raw in enumerate(fileobj, start=1):
        if not raw.strip():
            continue
        non_blank += 1
        sample = _jsonl_line(raw, number)
        kind = sample[1]
        if kind != "not-json":
            objects += 1
        if kind == "ok":
            with_text += 1
        elif not first_problem:
            first_problem = sample[0].error
        count += 1
        if count > max_scan_samples():
            raise _too_many()
        yield sample[0]
    if non_blank == 0:
        raise IntakeError(f"{name} is empty. Upload one JSON object per line, e.g. {EXAMPLE_LINE}.")
    if objects == 0:
        raise IntakeError(
            f"{name} is not a JSON Lines file: no line is a JSON object ({first_problem}). "
            f"Upload one JSON object per line, e.g. {EXAMPLE_LINE}."
        )
    if with_text == 0:
        raise IntakeError(
            f'No line of {name} has a "text" field with the sample ({first_problem}). '
            f"Each line must be a JSON object such as {EXAMPLE_LINE}."
        )


def _jsonl_line(raw: bytes, number: int) -> tuple[Sample, str]:
    """(sample, how it went): "ok", "not-json" or "bad" (a JSON value that is not a usable sample)."""
    where = f"line {number}"
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        return Sample(id=where, error=f"{where}: not UTF-8 ({exc.reason} at byte {exc.start})"), "not-json"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return Sample(
            id=where, error=f"{where}: not valid JSON ({exc.msg} at column {exc.colno})"
        ), "not-json"
    if not isinstance(obj, dict):
        return Sample(
            id=where, error=f"{where}: expected a JSON object, got {type(obj).__name__}"
        ), "not-json"
    sample_id = obj.get("id")
    sample_id = where if sample_id is None or sample_id == "" else str(sample_id)[:500]
    text = obj.get("text")
    if not isinstance(text, str):
        problem = 'no "text" field' if text is None else '"text" is not a string'
        return Sample(id=sample_id, error=f"{where}: {problem}"), "bad"
    try:
        language = _language(obj.get("language"))
    except ValueError as exc:
        return Sample(id=sample_id, error=f"{where}: {exc}"), "bad"
    problem = sample_problem(text)
    if problem:
        return Sample(id=sample_id, error=f"{where}: {problem}"), "ok"
    return Sample(id=sample_id, text=text, language=language), "ok"


# --- Archives ------------------------------------------------------------------------------------


def read_archive(fileobj, *, name: str, size: int) -> Intake:
    """Each text file of a .zip / .tar.gz as one sample (id: its path; language: its extension).

    The registration limits and safety rules apply (registry/works/archives.py): path traversal,
    links, bombs and the size caps reject the upload with the rule named. Binary, empty and
    over-sized files and build directories are skipped and counted, not failed.
    """
    check_size(size, f"The archive {name}")
    try:
        contents = archives.read_archive(fileobj, name=name, size=size, limits=archive_limits())
    except archives.ArchiveError as exc:
        raise IntakeError(str(exc)) from None
    skipped = [{"path": s.path, "reason": s.reason} for s in contents.skipped]
    samples = []
    for entry in contents.entries:
        try:
            text, _encoding = engine.decode(entry.data)
        except engine.BinaryInputError:
            skipped.append({"path": entry.path, "reason": "binary file"})
            continue
        if not text.strip():
            skipped.append({"path": entry.path, "reason": "only whitespace"})
            continue
        samples.append(Sample(id=entry.path[:500], text=text, language=_language_for_path(entry.path)))
    if len(samples) > max_scan_samples():
        raise _too_many()
    if not samples:
        raise IntakeError(f"The archive {name} has no text files to scan ({len(skipped)} skipped).")
    return Intake(source="archive", samples=iter(samples), skipped=skipped)


def _language_for_path(path: str) -> str | None:
    if path.lower().endswith(PROSE_EXTENSIONS):
        return "text"
    return engine.language_for_path(path)


# --- Samples in the request ----------------------------------------------------------------------


def read_samples(items: list[dict]) -> Intake:
    """Samples sent in the request body (already shaped by the API's serializer)."""
    if not items:
        raise IntakeError('The request has no samples; send at least one {"id", "text"} object.')
    if len(items) > max_scan_samples():
        raise _too_many()
    samples = []
    for number, item in enumerate(items):
        text = item["text"]
        sample_id = str(item.get("id") or f"sample {number}")[:500]
        problem = sample_problem(text)
        if problem:
            samples.append(Sample(id=sample_id, error=f"sample {number}: {problem}"))
        else:
            samples.append(Sample(id=sample_id, text=text, language=_language(item.get("language"))))
    return Intake(source="samples", samples=iter(samples))


def read_upload(upload) -> Intake:
    """An uploaded file (Django UploadedFile): an archive by its extension, JSON Lines otherwise."""
    name = upload.name or "the upload"
    if archives.is_archive_name(name):
        return read_archive(upload, name=name, size=upload.size)
    return read_jsonl(upload, size=upload.size, name=name)


def query_kinds(language: str | None) -> tuple[tuple[str, ...], str | None]:
    """How the engine should read a sample: (kinds, code language).

    A known code language reads the sample as code in that language; a prose language as prose;
    no language (or one the tokenizer does not know) both ways, like a lookup.
    """
    if language in PROSE_LANGUAGES:
        return ("prose",), None
    if language:
        return ("code",), language
    return ("code", "prose"), None
