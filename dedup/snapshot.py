"""A registry snapshot on disk: open and verify it, merge a delta into it, filter records with it.

Pure Python (no Django): the dataset builder runs this on their own machines. The format is
described in :mod:`dedup.snapshot_format`. The decisions come from :func:`dedup.policy.decide`,
the same rule the service's ``POST /api/v1/filter`` applies, and the matches from the same
readings the service makes (:func:`readings`), so a document gets the same verdict offline as
over HTTP against the same registry version.

    snap = Snapshot.open("registry.snap")            # checks every file's sha256
    for record, verdict in snap.filter_records(records, "train-genai"):
        ...
    snap = snap.merge("delta.snap")                    # upserts and removals, a new version
"""

from __future__ import annotations

import gc
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from dedup.config import EngineConfig
from dedup.locations import LocationIndex
from dedup.readings import readings
from dedup.snapshot_format import (
    DELTA,
    FULL,
    MATCHER_DIR,
    SnapshotError,
    read_fingerprints,
    read_jsonl,
    read_manifest,
    replace_dir,
    temp_dir_beside,
    write_jsonl,
    write_manifest,
)

__all__ = ["KINDS", "Item", "Snapshot", "SnapshotError", "readings"]

KINDS = ("code", "prose")
QUERY_CHUNK = 256  # records per Matcher.query_batch: amortises the index passes, bounds memory
# As registry.filtering.selectors.MAX_EVIDENCE_PER_WORK: a document may copy many files of one
# registered repository; the first few (best first) explain why. The parity test holds them equal.
MAX_EVIDENCE_PER_WORK = 5


@dataclass(frozen=True)
class Item:
    """What the filter needs of one record: its text, language hint, kind and location fields.

    ``kind`` (``code`` or ``prose``) reads the text one way only; None reads it both ways, as
    the filter API does for a document without a kind.
    """

    text: str
    language: str | None = None
    url: str | None = None
    repository: str | None = None
    kind: str | None = None


def language_hint(*, language: str | None, kind: str | None, url: str | None, record_id: str | None):
    """The language a record is read in: its own, or one guessed from its url's or id's file name.

    The filter API's rule (``registry.filtering.selectors._language_hint``), so both sides read a
    document the same way.
    """
    from urllib.parse import urlsplit

    from dedup.tokenize import language_for_path

    if language:
        return language.lower()
    if kind == "prose":
        return None
    for name in (url, record_id):
        if name:
            try:
                path = urlsplit(name).path
            except ValueError:
                continue
            guessed = language_for_path(path) if path else None
            if guessed:
                return guessed
    return None


class Snapshot:
    """An opened snapshot directory (use :meth:`open`)."""

    def __init__(self, path: Path, manifest: dict, works: dict, docs: dict, matchers: dict) -> None:
        from dedup.policy import WorkPolicy  # noqa: F401 - fail early if the rule is missing

        self.path = path
        self.manifest = manifest
        self.works = works  # work id -> WorkPolicy
        self.docs = docs  # doc id -> {"work_id", "kind", "language"}
        self.matchers = matchers  # kind -> Matcher (full snapshots only)
        self.config = EngineConfig(**manifest["engine"]["config"])
        self.locations = LocationIndex(
            (loc, work_id) for work_id, policy in works.items() for loc in policy.locations
        )

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | Path, *, verify: bool = True, mmap: bool = True, populate: bool = False
    ) -> Snapshot:
        """Open the snapshot at ``path`` after checking its files against the manifest.

        With ``populate``, the mapped registry is paged in at once (when it fits in memory; see
        :meth:`dedup.matcher.Matcher.populate`): worth it before filtering a large corpus.

        Raises:
            SnapshotError: missing, corrupt (names the file), another format, or built with a
                normaliser this dedup does not have.
        """
        from dedup.matcher import Matcher
        from dedup.policy import WorkPolicy
        from dedup.tokenize import NORMALISER_VERSION

        path = Path(path)
        manifest = read_manifest(path, verify=verify)
        engine = manifest.get("engine", {})
        if engine.get("normaliser_version") != NORMALISER_VERSION:
            raise SnapshotError(
                f"{path} was built with normaliser version {engine.get('normaliser_version')}, this "
                f"dedup has {NORMALISER_VERSION}: upgrade dedup or download a new snapshot"
            )
        try:
            works = {d["work_id"]: WorkPolicy.from_dict(d) for d in read_jsonl(path / "works.jsonl")}
            docs = {
                int(d["doc_id"]): {"work_id": d["work_id"], "kind": d["kind"], "language": d.get("language")}
                for d in read_jsonl(path / "docs.jsonl")
            }
        except (KeyError, TypeError) as exc:
            raise SnapshotError(f"{path}: a works/docs row lacks {exc}; download it again") from None
        matchers = {}
        if manifest.get("kind") == FULL:
            for kind in KINDS:
                where = path / MATCHER_DIR / kind
                try:
                    matchers[kind] = Matcher.load(where, mmap=mmap)
                    if populate:
                        matchers[kind].populate()
                except (OSError, ValueError, KeyError) as exc:
                    raise SnapshotError(f"{where}: cannot load the matcher ({exc})") from None
        return cls(path, manifest, works, docs, matchers)

    @property
    def version(self) -> int:
        return int(self.manifest["version"])

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def purposes(self) -> list[str]:
        return list(self.manifest.get("purposes", []))

    def info(self) -> dict:
        size = sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())
        keep = ("kind", "version", "since", "created_at", "purposes", "counts", "engine", "code_languages")
        return {"path": str(self.path), "bytes_on_disk": size, **{k: self.manifest.get(k) for k in keep}}

    # -- merging a delta -----------------------------------------------------------------------

    def merge(self, delta_dir: str | Path, *, out: str | Path | None = None) -> Snapshot:
        """Apply the delta at ``delta_dir`` and write the result as a new full snapshot.

        Every work the delta names (upserted or removed) loses its local documents first; an
        upserted work then gets the delta's documents. The result goes to ``out`` (default: this
        snapshot's own directory), built in a temporary sibling and renamed into place, so an
        interrupted merge leaves the old snapshot as it was.

        Raises:
            SnapshotError: the delta is corrupt, not a delta, does not start at this snapshot's
                version, or was made with other engine parameters.
        """
        from dedup.fingerprint import Fingerprint
        from dedup.matcher import Matcher
        from dedup.policy import WorkPolicy

        if self.kind != FULL:
            raise SnapshotError(f"{self.path} is a delta; merge deltas into a full snapshot")
        delta_dir = Path(delta_dir)
        delta = read_manifest(delta_dir)
        if delta.get("kind") != DELTA:
            raise SnapshotError(f"{delta_dir} is not a delta (kind {delta.get('kind')!r})")
        if delta.get("since") != self.version:
            raise SnapshotError(
                f"{delta_dir} is a delta since version {delta.get('since')}, but {self.path} is at "
                f"version {self.version}; download a delta with since={self.version} or a full snapshot"
            )
        if delta["engine"] != self.manifest["engine"]:
            raise SnapshotError(
                f"{delta_dir} was made with other engine parameters than {self.path}; "
                "download a full snapshot"
            )
        upserts = {d["work_id"]: WorkPolicy.from_dict(d) for d in read_jsonl(delta_dir / "works.jsonl")}
        removed = {d["work_id"] for d in read_jsonl(delta_dir / "removed.jsonl")}
        new_docs = {
            int(d["doc_id"]): {"work_id": d["work_id"], "kind": d["kind"], "language": d.get("language")}
            for d in read_jsonl(delta_dir / "docs.jsonl")
        }
        touched = removed | set(upserts)
        # Writable copies: the merge changes them, and the mmapped originals must stay intact
        # until the new snapshot is in place.
        matchers = {kind: Matcher.load(self.path / MATCHER_DIR / kind, mmap=False) for kind in KINDS}
        docs = dict(self.docs)
        for doc_id, row in self.docs.items():
            if row["work_id"] in touched:
                matchers[row["kind"]].remove(doc_id)
                del docs[doc_id]
        for doc_id, blob in read_fingerprints(delta_dir / "fingerprints.bin"):
            row = new_docs.get(doc_id)
            if row is None or row["work_id"] not in upserts:
                raise SnapshotError(f"{delta_dir}: document {doc_id} belongs to no upserted work")
            try:
                fp = Fingerprint.from_bytes(blob)
                matchers[row["kind"]].add(doc_id, fp)
            except ValueError as exc:
                raise SnapshotError(f"{delta_dir}: fingerprint of document {doc_id}: {exc}") from None
            docs[doc_id] = row
        works = {w: p for w, p in self.works.items() if w not in touched}
        works.update(upserts)
        target = Path(out) if out is not None else self.path
        manifest = {
            **{k: v for k, v in self.manifest.items() if k not in ("files", "counts")},
            "version": delta["version"],
            "created_at": delta["created_at"],
            "since": None,
            "merged_from": [self.version, delta["version"]],
            "code_languages": delta.get("code_languages", self.manifest.get("code_languages", [])),
            "purposes": delta.get("purposes", self.purposes),
        }
        tmp = temp_dir_beside(target)
        try:
            write_full(tmp, manifest=manifest, works=works.values(), docs=docs, matchers=matchers)
            replace_dir(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return Snapshot.open(target)

    # -- filtering -----------------------------------------------------------------------------

    def check_purpose(self, purpose: str) -> None:
        from dedup.policy import check_purpose

        try:
            check_purpose(purpose, self.purposes)
        except ValueError as exc:
            raise SnapshotError(str(exc)) from None

    def filter_records(self, items: Iterable[Item], purpose: str, *, chunk: int = QUERY_CHUNK) -> Iterator:
        """One :class:`dedup.policy.Verdict` per item, in order.

        Raises:
            SnapshotError: ``purpose`` is not in the snapshot's vocabulary.
        """
        if self.kind != FULL:
            raise SnapshotError(f"{self.path} is a delta; merge it into a full snapshot to filter with it")
        self.check_purpose(purpose)
        it = iter(items)
        while batch := list(islice(it, chunk)):
            yield from self.decide_batch(batch, purpose)

    def decide_batch(self, items: Sequence[Item], purpose: str) -> list:
        from dedup.policy import decide

        # A batch allocates tens of thousands of short-lived objects (matches, evidence, reasons),
        # none of them in a cycle, and each of the collections they would trigger walks the
        # opened snapshot's million document rows: the cyclic collector waits for the batch.
        collecting = gc.isenabled()
        gc.disable()
        try:
            found = self.match_batch(items)
            # Most documents of a corpus match nothing and come from no registered location:
            # their verdict is the same (frozen) allow, decided once per batch, not built again
            # per document.
            nothing = decide(purpose, (), purposes=self.purposes)
            out = []
            for item, doc_matches in zip(items, found, strict=True):
                if not doc_matches and not item.url and not item.repository:
                    out.append(nothing)
                    continue
                hits = self._hits(item, doc_matches)
                out.append(decide(purpose, hits, purposes=self.purposes))
            return out
        finally:
            if collecting:
                gc.enable()

    def match_batch(self, items: Sequence[Item]) -> list[dict[int, tuple[str, object]]]:
        """Per item, the best match per registered document: ``{doc_id: (channel, Match)}``."""
        from dedup.fingerprint import fingerprint

        present = [k for k in KINDS if k in self.matchers and len(self.matchers[k])]
        queries: dict[str, list[tuple[int, object]]] = {k: [] for k in KINDS}
        for i, item in enumerate(items):
            kinds = (item.kind,) if item.kind else KINDS
            plan = readings(item.text, item.language, kinds_present=present, kinds=kinds)
            for kind, lang in plan:
                try:
                    fp = fingerprint(item.text, kind=kind, language=lang, config=self.config)
                except ValueError:
                    continue  # the engine rejects this reading (binary...): nothing to match
                queries[kind].append((i, fp))
        found: list[dict[int, tuple[str, object]]] = [{} for _ in items]
        docs = self.docs
        for kind, pairs in queries.items():
            if not pairs:
                continue
            results = self.matchers[kind].query_batch([fp for _i, fp in pairs])
            for (i, _fp), matches in zip(pairs, results, strict=True):
                if not matches:
                    continue
                best = found[i]
                for m in matches:
                    if m.doc_id not in docs:
                        continue
                    old = best.get(m.doc_id)
                    if old is None or (m.verified, m.matched_chars) > (old[1].verified, old[1].matched_chars):
                        best[m.doc_id] = (kind, m)
        return found

    def _hits(self, item: Item, doc_matches: dict[int, tuple[str, object]]) -> list:
        """(WorkPolicy, Evidence) pairs as the filter API makes them: the matched documents best
        first, at most `MAX_EVIDENCE_PER_WORK` per work, then each location rule that applies."""
        from dedup.policy import Evidence

        # doc ids are unique, so two entries differ before their matches are ever compared
        ordered = sorted([(-m.verified, -m.matched_chars, d, m) for d, (_c, m) in doc_matches.items()])
        hits = []
        per_work: dict[str, int] = {}
        works, docs = self.works, self.docs
        for _v, _c, doc_id, m in ordered:
            work_id = docs[doc_id]["work_id"]
            seen = per_work.get(work_id, 0)
            if seen >= MAX_EVIDENCE_PER_WORK:
                continue
            policy = works.get(work_id)
            if policy is None:
                continue
            per_work[work_id] = seen + 1
            hits.append((policy, Evidence.from_match(m)))
        for raw in (item.url, item.repository):
            # The same registered location reached through both fields is one piece of evidence:
            # decide() merges equal evidence.
            for key, work_id in self.locations.match(raw):
                if work_id in self.works:
                    hits.append((self.works[work_id], Evidence.at_location(key)))
        return hits


def write_full(root: Path, *, manifest: dict, works: Iterable, docs: dict, matchers: dict) -> dict:
    """Write a full snapshot into the empty directory ``root`` (used by the service and merge).

    Args:
        manifest: everything but ``kind``, ``counts`` and ``files``.
        works: :class:`dedup.policy.WorkPolicy` objects.
        docs: ``{doc_id: {"work_id", "kind", "language"}}``.
        matchers: ``{kind: Matcher}`` for both kinds.
    """
    root.mkdir(parents=True, exist_ok=True)
    n_works = write_jsonl(root / "works.jsonl", (w.to_dict() for w in sorted(works, key=lambda w: w.work_id)))
    n_docs = write_jsonl(
        root / "docs.jsonl", ({"doc_id": doc_id, **row} for doc_id, row in sorted(docs.items()))
    )
    for kind in KINDS:
        matchers[kind].save(root / MATCHER_DIR / kind)
    counts = {"works": n_works, "documents": n_docs}
    return write_manifest(root, {**manifest, "kind": FULL, "counts": counts})
