"""The offline command line: download a registry snapshot, filter a corpus against it.

    python -m dedup snapshot pull --server https://registry.example.org --out registry.snap
    python -m dedup snapshot info registry.snap
    python -m dedup filter corpus.jsonl --snapshot registry.snap --purpose train-genai \\
        --kept kept.jsonl --dropped dropped.jsonl --report report.json

``filter`` reads files, folders, JSON Lines or Parquet (the readers of :mod:`dedup.io`), decides
each record with :meth:`dedup.snapshot.Snapshot.filter_records` (the rule the registry's
``POST /api/v1/filter`` applies), and writes the records unchanged to ``--kept`` or
``--dropped``; a dropped or attributed record gains a ``_registry`` field with the decision and
the reasons. Output files are written under temporary names and renamed at the end, so an
interrupted run leaves no half-written output. Registered by :mod:`dedup.cli`, which also turns
errors into one ``error:`` line (exit status 2 for bad usage or input, 1 for a failure while
working).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from dedup.io import FORMATS, InputError, Record, SkipLog, detect_format, iter_files
from dedup.snapshot_format import DELTA, SnapshotError

COMMANDS = ("snapshot", "filter")
CHUNK = 256  # records per decision batch (and per pool task with --jobs)
API_KEY_ENV = "REGISTRY_API_KEY"


def _usage(message: str) -> Exception:
    from dedup.cli import UsageError

    return UsageError(message)


# --- the parsers --------------------------------------------------------------------------------


def add_commands(commands, fmt) -> None:
    """Add ``snapshot`` and ``filter`` to the command line's subparsers."""
    from dedup.cli import _add_quiet

    snapshot = commands.add_parser(
        "snapshot",
        help="download, merge or describe a registry snapshot",
        description="A snapshot holds the registry's works that restrict some purpose: their\n"
        "preferences and fingerprints, never a text. Filter a corpus against it offline.",
        epilog="examples:\n"
        "  REGISTRY_API_KEY=rk_... python -m dedup snapshot pull --server https://registry.example.org \\\n"
        "      --out registry.snap\n"
        "  python -m dedup snapshot info registry.snap\n",
        formatter_class=fmt,
    )
    actions = snapshot.add_subparsers(dest="snapshot_command", metavar="ACTION")
    actions.required = True
    pull = actions.add_parser(
        "pull",
        help="download a snapshot (or only what changed since the one in --out)",
        description=f"Download a snapshot from the registry with the API key in ${API_KEY_ENV} (a key\n"
        "with the 'filter' scope). When --out already holds a snapshot, only the changes since\n"
        "its version are downloaded and merged into it.",
        formatter_class=fmt,
    )
    pull.add_argument(
        "--server", required=True, metavar="URL", help="the registry, e.g. https://registry.example.org"
    )
    pull.add_argument("--out", required=True, metavar="DIR", help="snapshot directory to create or update")
    pull.add_argument(
        "--since",
        default="auto",
        metavar="auto|full|V",
        help="auto: a delta from the version in --out if there is one (default); full: always "
        "download everything; V: a delta from version V",
    )
    _add_quiet(pull)
    pull.set_defaults(run=run)
    info = actions.add_parser("info", help="check and describe a snapshot", formatter_class=fmt)
    info.add_argument("snapshot_dir", metavar="DIR")
    info.add_argument("--json", action="store_true", help="print the description as JSON")
    _add_quiet(info)
    info.set_defaults(run=run)
    merge = actions.add_parser("merge", help="apply a downloaded delta to a snapshot", formatter_class=fmt)
    merge.add_argument("delta_dir", metavar="DELTA")
    merge.add_argument("--into", required=True, metavar="DIR", help="the full snapshot to update")
    _add_quiet(merge)
    merge.set_defaults(run=run)

    flt = commands.add_parser(
        "filter",
        help="split a corpus into kept and dropped records with a snapshot",
        description="Decide every record of the inputs for a purpose with a registry snapshot: the\n"
        "same decision the registry's filter API gives. Kept and dropped records are written\n"
        "with their original fields; a dropped or attributed record gains '_registry' (the\n"
        "decision and the works behind it). The report counts decisions, works and skipped\n"
        "records with reasons.",
        epilog="example:\n  python -m dedup filter corpus.jsonl --snapshot registry.snap \\\n"
        "      --purpose train-genai --kept kept.jsonl --dropped dropped.jsonl --report report.json\n",
        formatter_class=fmt,
    )
    flt.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders, .jsonl or .parquet files")
    source = flt.add_mutually_exclusive_group(required=True)
    source.add_argument("--snapshot", metavar="DIR", help="decide offline with a snapshot ('snapshot pull')")
    source.add_argument(
        "--server",
        metavar="URL",
        help="decide through the registry's filter API instead (key from --key-env); the same "
        "decisions as --snapshot, for comparing the two or for small corpora",
    )
    flt.add_argument(
        "--key-env",
        default=API_KEY_ENV,
        metavar="NAME",
        help="with --server: the environment variable holding the API key (default: REGISTRY_API_KEY)",
    )
    flt.add_argument("--purpose", required=True, help="the intended use, e.g. train-genai")
    flt.add_argument("--kept", required=True, metavar="FILE", help="kept records (.jsonl, or .parquet)")
    flt.add_argument("--dropped", required=True, metavar="FILE", help="dropped records (.jsonl, or .parquet)")
    flt.add_argument("--report", metavar="FILE", help="write a JSON report here")
    flt.add_argument(
        "--attribute-as",
        choices=("keep", "drop"),
        default="keep",
        help="where records whose works require attribution go (default: keep, with _registry)",
    )
    flt.add_argument("--format", choices=FORMATS, default="auto", help="input format (default: by extension)")
    flt.add_argument(
        "--text-field", default="text", metavar="NAME", help="key/column of the text (default: text)"
    )
    flt.add_argument(
        "--id-field", default="id", metavar="NAME", help="key/column of the record id (default: id)"
    )
    flt.add_argument("--url-field", default="url", metavar="NAME", help="key/column of a URL (default: url)")
    flt.add_argument(
        "--repository-field", default="repository", metavar="NAME", help="key/column of a repository"
    )
    flt.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes (default: 1)")
    _add_quiet(flt)
    flt.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        if args.command == "filter":
            return _filter(args)
        if args.snapshot_command == "pull":
            return _pull(args)
        if args.snapshot_command == "merge":
            return _merge(args)
        return _info(args)
    except SnapshotError as exc:
        raise _usage(str(exc)) from None
    except Exception as exc:
        from dedup.client import RegistryError

        if not isinstance(exc, RegistryError):
            raise
        # A refusal of the request itself (bad key, unknown purpose) is bad input; no answer or
        # a server error is a failure while working.
        if exc.status is not None and 400 <= exc.status < 500:
            raise _usage(f"the registry refused the request: {exc}") from None
        raise OSError(f"the registry did not answer: {exc}") from None


# --- snapshot info / merge --------------------------------------------------------------------


def _info(args: argparse.Namespace) -> int:
    from dedup.snapshot import Snapshot

    snap = Snapshot.open(args.snapshot_dir)
    info = snap.info()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    counts = ", ".join(f"{v} {k}" for k, v in (info["counts"] or {}).items())
    print(f"snapshot   {info['path']}  ({info['bytes_on_disk'] / 1e6:.1f} MB on disk, checksums ok)")
    print(f"version    {info['version']} ({info['kind']}), created {info['created_at']}")
    print(f"contents   {counts}")
    print(f"purposes   {', '.join(info['purposes'] or [])}")
    print("engine     " + ", ".join(f"{k}={v}" for k, v in info["engine"]["config"].items()))
    return 0


def _merge(args: argparse.Namespace) -> int:
    from dedup.snapshot import Snapshot

    merged = Snapshot.open(args.into).merge(args.delta_dir)
    if not args.quiet:
        print(f"merged: {args.into} is now at version {merged.version}", file=sys.stderr)
    return 0


# --- snapshot pull ----------------------------------------------------------------------------


def _pull(args: argparse.Namespace) -> int:
    from dedup.snapshot import Snapshot

    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise _usage(f"set {API_KEY_ENV} to an API key with the 'filter' scope (create one on the registry)")
    out = Path(args.out)
    current = None
    if args.since == "auto":
        if (out / "manifest.json").exists():
            current = Snapshot.open(out)
    elif args.since != "full":
        if not args.since.isdigit():
            raise _usage(f"--since must be auto, full or a version number, not {args.since!r}")
        current = Snapshot.open(out)
        if current.version != int(args.since):
            raise _usage(f"--since {args.since}, but {out} is at version {current.version}")
    if out.exists() and current is None and out.is_file():
        raise _usage(f"{out} is a file; --out must be a directory")
    since = current.version if current is not None else None
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.pull.", dir=out.parent))
    try:
        got = _download(args.server, key, since, work, quiet=args.quiet)
        if got is None and since is not None:  # the server does not know that version: start over
            if not args.quiet:
                print(
                    f"version {since} is unknown to the server; downloading a full snapshot", file=sys.stderr
                )
            since, current = None, None
            got = _download(args.server, key, None, work, quiet=args.quiet)
        root = _extract(got, work / "x")
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("kind") == DELTA:
            if current is None:
                raise SnapshotError("the server sent a delta for a full snapshot request")
            snap = current.merge(root)
            what = f"merged the changes since version {since}"
        else:
            Snapshot.open(root)  # verify before replacing anything
            from dedup.snapshot_format import replace_dir

            replace_dir(root, out)
            snap = Snapshot.open(out)
            what = "downloaded a full snapshot"
        if not args.quiet:
            counts = ", ".join(f"{v} {k}" for k, v in manifest.get("counts", {}).items())
            print(f"{what}: {out} is at version {snap.version} ({counts})", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _download(server: str, key: str, since: int | None, work: Path, *, quiet: bool) -> Path | None:
    """Fetch the archive into ``work``; None when the server rejects ``since``."""
    import urllib.error
    import urllib.request

    url = server.rstrip("/") + "/api/v1/snapshot" + (f"?since={since}" if since is not None else "")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}", "Accept": "*/*"})
    target = work / "snapshot.tar.gz"
    try:
        with urllib.request.urlopen(request, timeout=600) as response, target.open("wb") as handle:
            size = int(response.headers.get("Content-Length") or 0) or None
            from tqdm import tqdm

            disable = quiet or not sys.stderr.isatty()
            with tqdm(
                total=size, unit="B", unit_scale=True, desc="downloading", file=sys.stderr, disable=disable
            ) as bar:
                while block := response.read(1 << 20):
                    handle.write(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        if exc.code == 400 and since is not None and "since" in body.get("errors", {}):
            return None
        detail = body.get("detail") or exc.reason
        raise _usage(f"{url}: {exc.code} {body.get('code', '')}: {detail}".replace(":  ", ": ")) from None
    except urllib.error.URLError as exc:
        raise OSError(f"{url}: cannot reach the registry ({exc.reason})") from None
    return target


def _extract(archive: Path, dest: Path) -> Path:
    """Unpack the server's archive safely (plain files and folders under ``snapshot/`` only)."""
    dest.mkdir(parents=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if not parts or parts[0] != "snapshot" or ".." in parts or member.name.startswith("/"):
                    raise SnapshotError(f"the archive holds an unexpected entry {member.name!r}")
                if not (member.isfile() or member.isdir()):
                    raise SnapshotError(f"the archive holds a link or device {member.name!r}")
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SnapshotError(f"the downloaded archive is damaged ({exc}); try again") from None
    return dest / "snapshot"


# --- filter -----------------------------------------------------------------------------------


def _records(args, skipped: SkipLog) -> Iterator[tuple[dict, Record]]:
    """(original fields, Record) per record of the inputs, reusing :mod:`dedup.io`'s rules."""
    from dedup.io import iter_records

    iter_records(
        args.inputs, format=args.format, text_field=args.text_field, skipped=SkipLog()
    )  # checks paths
    for raw in args.inputs:
        path = Path(raw)
        kind = detect_format(path) if args.format == "auto" else args.format
        if kind == "files":
            for r in iter_files(path, skipped=skipped):
                yield {"id": r.id, "text": r.text, "language": r.language}, r
        elif kind == "jsonl":
            yield from _jsonl_rows(path, args, skipped)
        else:
            yield from _parquet_rows(path, args, skipped)


def _jsonl_rows(path: Path, args, skipped: SkipLog) -> Iterator[tuple[dict, Record]]:
    from dedup.io import DEFAULT_MAX_BYTES, _row_record

    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                skipped.add("malformed JSON", f"{path}:{lineno}")
                continue
            if not isinstance(obj, dict):
                skipped.add("not a JSON object", f"{path}:{lineno}")
                continue
            where = f"{path}:{lineno}"
            record = _row_record(
                obj, args.text_field, args.id_field, where, where, skipped, DEFAULT_MAX_BYTES
            )
            if record is not None:
                yield obj, record


def _parquet_rows(path: Path, args, skipped: SkipLog) -> Iterator[tuple[dict, Record]]:
    import pyarrow.parquet as pq

    from dedup.io import DEFAULT_MAX_BYTES, _row_record

    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for obj in batch.to_pylist():
            where = f"{path}#{row}"
            record = _row_record(
                obj, args.text_field, args.id_field, where, where, skipped, DEFAULT_MAX_BYTES
            )
            row += 1
            if record is not None:
                yield obj, record


def _item(obj: dict, record: Record, args):
    from dedup.snapshot import Item, language_hint

    def field(name):
        value = obj.get(name)
        return value if isinstance(value, str) and value else None

    url, kind = field(args.url_field), field("kind")
    kind = kind if kind in ("code", "prose") else None
    # As the filter API takes it: the record's own language field, else a guess from the file
    # name in its url or id. (Files from a folder carry the reader's guess in "language".)
    language = language_hint(language=field("language"), kind=kind, url=url, record_id=field(args.id_field))
    return Item(record.text, language, url, field(args.repository_field), kind)


# Worker side of --jobs: each process opens the snapshot once (memory-mapped, so the pages are
# shared through the page cache) and decides whole chunks.
_WORKER_SNAPSHOT = None


def _worker_init(path: str) -> None:
    global _WORKER_SNAPSHOT
    from dedup.snapshot import Snapshot

    _WORKER_SNAPSHOT = Snapshot.open(path, verify=False, populate=True)


def _worker_decide(job: tuple[list, str]) -> list[dict]:
    items, purpose = job
    return [v.to_dict() for v in _WORKER_SNAPSHOT.decide_batch(items, purpose)]


class _RemoteDecider:
    """Decides through the registry's `POST /api/v1/filter` (``--server``) instead of a snapshot.

    It stands in for a `Snapshot` in `_filter`, so both paths write the same kept, dropped and
    report files and can be compared record by record.
    """

    kind = "server"

    def __init__(self, server: str, key: str):
        from dedup.client import Client

        self.client = Client(server, key)
        self.path = server
        self.version = None

    def check_purpose(self, purpose: str) -> None:
        pass  # the server answers an unknown purpose with 400 unknown_purpose

    def decide_batch(self, items, purpose: str) -> list[dict]:
        documents = [
            {
                k: v
                for k, v in (
                    ("text", item.text),
                    ("language", item.language),
                    ("url", item.url),
                    ("repository", item.repository),
                    ("kind", item.kind),
                )
                if v is not None
            }
            for item in items
        ]
        answers = self.client.filter(documents, purpose)
        return [{"decision": r["decision"], "reasons": r["reasons"]} for r in answers]


def _open_decider(args: argparse.Namespace):
    if args.server:
        import os

        key = os.environ.get(args.key_env)
        if not key:
            raise _usage(f"set the API key in the environment variable {args.key_env} (see --key-env)")
        return _RemoteDecider(args.server, key)
    from dedup.snapshot import Snapshot

    # populated: a corpus worth filtering offline touches most of the registry's pages anyway
    return Snapshot.open(args.snapshot, populate=True)


def _verdicts(snap, args, pairs: Iterator[tuple[dict, Record]]) -> Iterator[tuple[dict, Record, dict]]:
    def chunks():
        while batch := list(islice(pairs, CHUNK)):
            yield batch, [_item(obj, r, args) for obj, r in batch]

    if isinstance(snap, _RemoteDecider):
        for batch, items in chunks():
            for (obj, record), verdict in zip(batch, snap.decide_batch(items, args.purpose), strict=True):
                yield obj, record, verdict
        return
    if args.jobs == 1:
        for batch, items in chunks():
            for (obj, record), verdict in zip(batch, snap.decide_batch(items, args.purpose), strict=True):
                yield obj, record, verdict.to_dict()
        return
    import multiprocessing

    in_flight: deque = deque()
    with multiprocessing.get_context().Pool(args.jobs, _worker_init, (str(snap.path),)) as pool:
        for batch, items in chunks():
            in_flight.append((batch, pool.apply_async(_worker_decide, ((items, args.purpose),))))
            while len(in_flight) >= 2 * args.jobs:
                done, result = in_flight.popleft()
                yield from ((obj, r, v) for (obj, r), v in zip(done, result.get(), strict=True))
        while in_flight:
            done, result = in_flight.popleft()
            yield from ((obj, r, v) for (obj, r), v in zip(done, result.get(), strict=True))


def _filter(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise _usage("--jobs must be at least 1")
    snap = _open_decider(args)
    snap.check_purpose(args.purpose)
    if snap.kind == DELTA:
        raise _usage(f"{args.snapshot} is a delta; merge it into a full snapshot with 'snapshot merge'")
    outputs = [Path(args.kept), Path(args.dropped)] + ([Path(args.report)] if args.report else [])
    if len({p.resolve() for p in outputs}) < len(outputs):
        raise _usage("--kept, --dropped and --report must be different files")
    for p in outputs:
        if p.is_dir():
            raise _usage(f"{p} is a directory; name a file")
    skipped = SkipLog()
    pairs = _records(args, skipped)
    started = time.perf_counter()
    decisions: Counter = Counter()
    works: dict[str, dict] = {}
    kept = dropped = 0
    drop = {"exclude"} | ({"attribute"} if args.attribute_as == "drop" else set())
    with (
        _Output(args.kept) as kept_out,
        _Output(args.dropped) as dropped_out,
        _progress(args.quiet, "filtering") as bar,
    ):
        for obj, _record, verdict in _verdicts(snap, args, pairs):
            decision = verdict["decision"]
            decisions[decision] += 1
            row = dict(obj)
            if decision != "allow" or verdict["reasons"]:  # allowed, but it matched registered works
                row["_registry"] = {"decision": decision, "purpose": args.purpose, **_compact(verdict)}
                if snap.version is not None:
                    row["_registry"]["snapshot_version"] = snap.version
            for reason in verdict["reasons"]:
                w = reason["work"]
                entry = works.setdefault(
                    w["id"],
                    {"title": w["title"], "owner": w["owner"], "decision": reason["decision"], "records": 0},
                )
                entry["records"] += 1
            if decision in drop:
                dropped_out.write(row)
                dropped += 1
            else:
                kept_out.write(row)
                kept += 1
            bar.update()
    seconds = time.perf_counter() - started
    read = kept + dropped
    report = {
        "snapshot": {"path": str(snap.path), "version": snap.version} if not args.server else None,
        "server": args.server,
        "purpose": args.purpose,
        "attribute_as": args.attribute_as,
        "inputs": list(args.inputs),
        "counts": {
            "read": read + skipped.total,
            "decided": read,
            "kept": kept,
            "dropped": dropped,
            "skipped": skipped.total,
        },
        "decisions": {d: decisions.get(d, 0) for d in ("allow", "attribute", "exclude")},
        "works": dict(sorted(works.items())),
        "skipped": {
            reason: {"count": count, "examples": skipped.examples.get(reason, [])}
            for reason, count in sorted(skipped.counts.items())
        },
        "seconds": round(seconds, 3),
        "records_per_second": round(read / seconds, 1) if seconds > 0 else None,
    }
    if args.report:
        _write_atomic(Path(args.report), json.dumps(report, indent=2) + "\n")
    if not args.quiet:
        d = report["decisions"]
        print(
            f"decided {read} records in {seconds:.1f}s: kept {kept}, dropped {dropped} "
            f"(allow {d['allow']}, attribute {d['attribute']}, exclude {d['exclude']})",
            file=sys.stderr,
        )
        print(skipped.summary(), file=sys.stderr)
    return 0


def _compact(verdict: dict) -> dict:
    return {"reasons": verdict["reasons"]}


def _progress(quiet: bool, desc: str):
    from tqdm import tqdm

    return tqdm(
        desc=desc, unit=" docs", file=sys.stderr, disable=quiet or not sys.stderr.isatty(), leave=False
    )


def _write_atomic(path: Path, text: str) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    Path(name).replace(path)


class _Output:
    """Records to a JSONL (or, by extension, Parquet) file, renamed into place only on success."""

    PARQUET_BATCH = 1000

    def __init__(self, target: str) -> None:
        self.path = Path(target)
        self.parquet = self.path.name.lower().endswith((".parquet", ".pq"))
        self.rows: list[dict] = []
        self.writer = None

    def __enter__(self) -> _Output:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        self.tmp = Path(name)
        self.handle = os.fdopen(fd, "wb" if self.parquet else "w", encoding=None if self.parquet else "utf-8")
        return self

    def write(self, row: dict) -> None:
        if not self.parquet:
            self.handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            return
        if "_registry" in row:
            row = {**row, "_registry": json.dumps(row["_registry"], ensure_ascii=False)}
        self.rows.append(row)
        if len(self.rows) >= self.PARQUET_BATCH:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.rows:
            return
        if self.writer is None:
            names = dict.fromkeys(k for row in self.rows for k in row)
            names.setdefault("_registry")
            table = pa.Table.from_pylist([{k: r.get(k) for k in names} for r in self.rows])
            schema = table.schema.set(
                table.schema.get_field_index("_registry"), pa.field("_registry", pa.string())
            )
            self.writer = pq.ParquetWriter(self.handle, schema)
            self.schema = schema
        table = pa.Table.from_pylist(self.rows, schema=self.schema)
        self.writer.write_table(table)
        self.rows.clear()

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None and self.parquet:
                self._flush()
                if self.writer is None:  # no rows: an empty file with just the column
                    import pyarrow as pa
                    import pyarrow.parquet as pq

                    pq.write_table(pa.table({"_registry": pa.array([], pa.string())}), self.handle)
                else:
                    self.writer.close()
        finally:
            self.handle.close()
        if exc_type is None:
            self.tmp.replace(self.path)
        else:
            self.tmp.unlink(missing_ok=True)


__all__ = ["COMMANDS", "InputError", "add_commands", "run"]
