"""``python -m dedup index build|info`` and ``python -m dedup scan``: an index on disk.

``index build`` reads files, folders, JSON Lines or Parquet (:mod:`dedup.io`), fingerprints every
record (a ``multiprocessing`` pool with ``--jobs``), adds the fingerprints to a
:class:`dedup.matcher.Matcher` and saves it with a document table and the configuration.
``scan`` fingerprints other inputs with the *index's* configuration and writes one JSONL or CSV
row per match. ``index info`` describes an index. Errors reach the user through
:func:`dedup.cli.main`.

An index directory holds:

* ``index.json``: format version, the :class:`~dedup.config.EngineConfig`, the ``--kind`` rule,
  the normaliser version, document and skip counts;
* ``docs.jsonl``: one line per document, ``{"doc_id", "id", "source", "language", "kind", ...}``
  (the engine only knows integer doc ids; this maps them back to paths and record ids);
* ``matcher/``: whatever :meth:`Matcher.save` writes.

It is written to a temporary sibling directory and renamed into place at the end, so an
interrupted build never leaves a half-written index behind.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from dedup.cli import UsageError, _add_input_arguments, _Parser, _progress
from dedup.config import EngineConfig
from dedup.io import Record, SkipLog, iter_records

INDEX_FORMAT = "dedup-index"
INDEX_VERSION = 1
KIND_CHOICES = ("auto", "code", "prose")
CHUNK = 64  # records per pool task: large enough to amortise pickling, small enough to balance


def add_commands(commands, fmt) -> None:
    """Add ``index build|info`` and ``scan`` to the command line's subparsers."""
    index = commands.add_parser(
        "index",
        help="build or describe an index",
        description="Build an index of registered documents, or describe one.",
        epilog="examples:\n  python -m dedup index build src/ --out registry.idx\n"
        "  python -m dedup index info registry.idx\n",
        formatter_class=fmt,
    )
    index_commands = index.add_subparsers(dest="index_command", metavar="ACTION", parser_class=_Parser)
    index_commands.required = True

    build = index_commands.add_parser(
        "build",
        help="fingerprint inputs and save an index",
        description="Fingerprint every record of the inputs and save them as an index directory.",
        epilog="examples:\n  python -m dedup index build src/ lib/ --out registry.idx --jobs 4\n"
        "  python -m dedup index build works.parquet --out registry.idx \\\n"
        "      --text-field body --id-field work_id\n",
        formatter_class=fmt,
    )
    _add_input_arguments(build)
    build.set_defaults(run=build_command)
    build.add_argument("--out", required=True, metavar="DIR", help="index directory to create")
    build.add_argument("--force", action="store_true", help="replace DIR if it already holds an index")
    build.add_argument(
        "--kind",
        choices=KIND_CHOICES,
        default="auto",
        help="tokenise as code or prose; auto: code when the language is known from the extension "
        "or a 'language' field, prose otherwise (default: auto)",
    )
    defaults = EngineConfig()
    for name, kind, text in (
        ("num_perm", int, "MinHash permutations"),
        ("seed", int, "MinHash seed"),
        ("shingle_size", int, "tokens per shingle"),
        ("threshold", float, "Jaccard threshold for near-duplicates"),
        ("min_snippet_chars", int, "smallest snippet reported, in non-whitespace characters"),
    ):
        build.add_argument(
            "--" + name.replace("_", "-"),
            type=kind,
            default=getattr(defaults, name),
            metavar="N" if kind is int else "X",
            help=f"{text} (default: {getattr(defaults, name)})",
        )

    info = index_commands.add_parser(
        "info",
        help="describe an index",
        description="Print an index's configuration and document counts.",
        epilog="example:\n  python -m dedup index info registry.idx\n",
        formatter_class=fmt,
    )
    info.add_argument("index_dir", metavar="DIR")
    info.add_argument("--json", action="store_true", help="print the description as JSON")
    info.set_defaults(run=info_command)

    scan = commands.add_parser(
        "scan",
        help="find matches of inputs in an index",
        description="Fingerprint every record of the inputs with the index's configuration and write\n"
        "one row per match: query id, registered document, kind (exact, near-duplicate,\n"
        "snippet), estimated and verified similarity, and the matching line ranges on both\n"
        "sides. A summary (scanned, matched, skipped with reasons) goes to stderr.",
        epilog="examples:\n  python -m dedup scan submissions/ --index registry.idx --output matches.jsonl\n"
        "  python -m dedup scan dump.jsonl --index registry.idx --output-format csv > matches.csv\n",
        formatter_class=fmt,
    )
    _add_input_arguments(scan)
    scan.add_argument("--index", required=True, metavar="DIR", help="index directory (from index build)")
    scan.add_argument("--output", default="-", metavar="FILE", help="where to write matches; - is stdout")
    scan.add_argument("--output-format", choices=("jsonl", "csv"), default="jsonl")
    scan.set_defaults(run=scan_command)


def _resolve_kind(rule: str, record: Record) -> str:
    if rule != "auto":
        return rule
    return "code" if record.language else "prose"


# --- fingerprinting, optionally in a process pool ----------------------------------------------


def _fingerprint_chunk(job: tuple[EngineConfig, list[tuple[str, str, str | None]]]) -> list:
    """Worker: fingerprints of one chunk; a record the engine rejects becomes its error message."""
    from dedup.fingerprint import fingerprint

    config, items = job
    out = []
    for text, kind, language in items:
        try:
            out.append(fingerprint(text, kind=kind, language=language, config=config))
        except ValueError as exc:
            out.append(str(exc) or type(exc).__name__)
    return out


def _fingerprints(
    records: Iterable[Record], *, config: EngineConfig, kind_rule: str, jobs: int, skipped: SkipLog
) -> Iterator[tuple[Record, str, object]]:
    """Yield ``(record, kind, fingerprint)`` in input order; engine rejections are skipped."""

    def chunks() -> Iterator[tuple[list[Record], list[str]]]:
        it = iter(records)
        while batch := list(islice(it, CHUNK)):
            yield batch, [_resolve_kind(kind_rule, r) for r in batch]

    def results(pairs):
        for batch, kinds, fps in pairs:
            for record, kind, fp in zip(batch, kinds, fps, strict=True):
                if isinstance(fp, str):
                    skipped.add("rejected by the engine", record.source)
                    continue
                yield record, kind, fp

    def jobs_of(batches):
        for batch, kinds in batches:
            yield batch, kinds, (config, [(r.text, k, r.language) for r, k in zip(batch, kinds, strict=True)])

    if jobs == 1:
        yield from results((b, k, _fingerprint_chunk(job)) for b, k, job in jobs_of(chunks()))
        return
    import multiprocessing

    # Records are read here, in the main process, so reader errors and the skip log stay in one
    # place; at most 2 * jobs chunks are in flight, so memory stays bounded on huge inputs.
    def paired():
        in_flight: deque = deque()
        with multiprocessing.get_context().Pool(jobs) as pool:
            for batch, kinds, job in jobs_of(chunks()):
                in_flight.append((batch, kinds, pool.apply_async(_fingerprint_chunk, (job,))))
                if len(in_flight) >= 2 * jobs:
                    batch, kinds, result = in_flight.popleft()
                    yield batch, kinds, result.get()
            while in_flight:
                batch, kinds, result = in_flight.popleft()
                yield batch, kinds, result.get()

    yield from results(paired())


# --- index build / info ------------------------------------------------------------------------


def build_command(args: argparse.Namespace) -> int:
    from dedup.matcher import Matcher
    from dedup.tokenize import NORMALISER_VERSION

    try:
        config = EngineConfig(
            num_perm=args.num_perm,
            seed=args.seed,
            shingle_size=args.shingle_size,
            threshold=args.threshold,
            min_snippet_chars=args.min_snippet_chars,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.out)
    if out.exists() and not (out.is_dir() and (args.force or not any(out.iterdir()))):
        what = "an existing directory" if out.is_dir() else "a file"
        raise UsageError(f"{out} is {what}; choose another --out or pass --force to replace it")
    skipped = SkipLog()
    records = iter_records(
        args.inputs, format=args.format, text_field=args.text_field, id_field=args.id_field, skipped=skipped
    )
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        matcher = Matcher(config)
        kinds: Counter = Counter()
        languages: Counter = Counter()
        with (tmp / "docs.jsonl").open("w", encoding="utf-8") as docs, _progress(args, "indexing") as bar:
            for doc_id, (record, kind, fp) in enumerate(
                _fingerprints(records, config=config, kind_rule=args.kind, jobs=args.jobs, skipped=skipped)
            ):
                matcher.add(doc_id, fp)
                row = {"doc_id": doc_id, "id": record.id, "source": record.source}
                row.update(language=record.language, kind=kind, lines=fp.num_lines, tokens=fp.num_tokens)
                docs.write(json.dumps(row, ensure_ascii=False) + "\n")
                kinds[kind] += 1
                languages[record.language or "none"] += 1
                bar.update()
        matcher.save(tmp / "matcher")
        manifest = {
            "format": INDEX_FORMAT,
            "version": INDEX_VERSION,
            "config": config.as_dict(),
            "kind": args.kind,
            "normaliser_version": NORMALISER_VERSION,
            "documents": len(matcher),
            "kinds": dict(kinds),
            "languages": dict(languages),
            "skipped": dict(skipped.counts),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (tmp / "index.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not args.quiet:
        seconds = time.perf_counter() - started
        print(f"indexed {len(matcher)} documents into {out} in {seconds:.1f}s", file=sys.stderr)
        print(skipped.summary(), file=sys.stderr)
    return 0


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``; an old ``target`` is removed only once ``new`` is in place."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _load_manifest(index_dir: Path) -> dict:
    path = index_dir / "index.json"
    if not index_dir.is_dir():
        raise UsageError(f"{index_dir}: no such index directory")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"{index_dir} is not an index (no index.json); build one with 'index build'"
        ) from None
    except ValueError:
        raise UsageError(f"{path} is corrupt (not JSON); rebuild the index") from None
    if manifest.get("format") != INDEX_FORMAT or manifest.get("version") != INDEX_VERSION:
        raise UsageError(
            f"{index_dir} has index format {manifest.get('format')!r} version {manifest.get('version')!r}; "
            f"this dedup reads {INDEX_FORMAT!r} version {INDEX_VERSION}: rebuild the index"
        )
    return manifest


def _load_docs(index_dir: Path) -> dict[int, dict]:
    docs = {}
    with (index_dir / "docs.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            docs[row["doc_id"]] = row
    return docs


def info_command(args: argparse.Namespace) -> int:
    index_dir = Path(args.index_dir)
    manifest = _load_manifest(index_dir)
    size = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    info = {"path": str(index_dir), "bytes_on_disk": size, **manifest}
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"index      {index_dir}  ({size / 1e6:.1f} MB on disk, created {manifest.get('created')})")
    print(f"documents  {manifest['documents']}  kinds {_counts(manifest.get('kinds', {}))}")
    print(f"languages  {_counts(manifest.get('languages', {}))}")
    print(f"kind rule  {manifest['kind']}, normaliser version {manifest['normaliser_version']}")
    print("config     " + ", ".join(f"{k}={v}" for k, v in manifest["config"].items()))
    if manifest.get("skipped"):
        print(f"skipped    {_counts(manifest['skipped'])}")
    return 0


def _counts(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) or "-"


# --- scan --------------------------------------------------------------------------------------

OUTPUT_FIELDS = (
    "query_id",
    "query_source",
    "doc_id",
    "doc",
    "doc_source",
    "kind",
    "estimated",
    "verified",
    "matched_chars",
    "query_lines",
    "doc_lines",
)


def scan_command(args: argparse.Namespace) -> int:
    from dedup.matcher import Matcher
    from dedup.tokenize import NORMALISER_VERSION

    index_dir = Path(args.index)
    manifest = _load_manifest(index_dir)
    if manifest["normaliser_version"] != NORMALISER_VERSION:
        raise UsageError(
            f"{index_dir} was built with normaliser version {manifest['normaliser_version']}, "
            f"this dedup has {NORMALISER_VERSION}: rebuild the index"
        )
    config = EngineConfig(**manifest["config"])
    docs = _load_docs(index_dir)
    matcher = Matcher.load(index_dir / "matcher", mmap=True)
    skipped = SkipLog()
    records = iter_records(
        args.inputs, format=args.format, text_field=args.text_field, id_field=args.id_field, skipped=skipped
    )
    scanned = matched = total = 0
    by_kind: Counter = Counter()
    with _open_output(args.output) as handle, _progress(args, "scanning") as bar:
        writer = _writer(handle, args.output_format)
        fps = _fingerprints(
            records, config=config, kind_rule=manifest["kind"], jobs=args.jobs, skipped=skipped
        )
        while batch := list(islice(fps, 256)):
            results = matcher.query_batch([fp for _record, _kind, fp in batch])
            for (record, _kind, _fp), matches in zip(batch, results, strict=True):
                scanned += 1
                matched += bool(matches)
                for match in matches:
                    total += 1
                    by_kind[match.kind] += 1
                    writer(_row(record, match, docs.get(match.doc_id, {})))
            bar.update(len(batch))
    if not args.quiet:
        kinds = f" ({_counts(by_kind)})" if by_kind else ""
        print(f"scanned {scanned}, matched {matched}: {total} matches{kinds}", file=sys.stderr)
        print(skipped.summary(), file=sys.stderr)
    return 0


def _row(record: Record, match, doc: dict) -> dict:
    return {
        "query_id": record.id,
        "query_source": record.source,
        "doc_id": match.doc_id,
        "doc": doc.get("id"),
        "doc_source": doc.get("source"),
        "kind": match.kind,
        "estimated": round(float(match.estimated), 4),
        "verified": round(float(match.verified), 4),
        "matched_chars": int(match.matched_chars),
        "query_lines": [list(r) for r in match.sample_lines],
        "doc_lines": [list(r) for r in match.doc_lines],
    }


class _open_output:
    """stdout, or a temporary file renamed over FILE only when the scan finished."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.tmp: Path | None = None

    def __enter__(self):
        if self.target == "-":
            return sys.stdout
        path = Path(self.target)
        if path.is_dir():
            raise UsageError(f"--output {path} is a directory")
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
        self.tmp = Path(name)
        self.handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        return self.handle

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.tmp is None:
            sys.stdout.flush()
            return
        self.handle.close()
        if exc_type is None:
            self.tmp.replace(self.target)
        else:
            self.tmp.unlink(missing_ok=True)


def _writer(handle, output_format: str):
    if output_format == "jsonl":
        return lambda row: handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    writer = csv.DictWriter(handle, fieldnames=OUTPUT_FIELDS, lineterminator="\n")
    writer.writeheader()

    def write(row: dict) -> None:
        row = dict(row)
        for key in ("query_lines", "doc_lines"):
            row[key] = ";".join(f"{a}-{b}" for a, b in row[key])
        writer.writerow(row)

    return write
