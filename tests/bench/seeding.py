"""A full registry for the benchmarks: servers, a database of its own, and 100,000 ready documents.

Shared by ``bench_filter_load`` (the filter API under load) and ``bench_scans`` (batch scans), so
both measure against the same kind of registry:

- :func:`ensure_servers` starts PostgreSQL and Redis on loopback the way ``.ci/run`` does, if
  they do not answer.
- :func:`create_database` drops and creates a database whose name must contain ``bench`` (never
  the registry's own); :func:`database_exists` lets a benchmark keep one between runs.
- :func:`setup_django` points Django at that database and migrates it.
- :func:`load_corpus` reads real code nobody on this project wrote (the Python standard library
  and site-packages, C headers, JavaScript of installed packages; see :mod:`tests.bench.corpus`),
  split into file-sized documents of about ``DOC_LINES`` lines, and edited copies of them
  (forks) when the machine holds fewer than asked for. Files are shuffled with the
  seed and dealt out whole: a tenth stay unregistered, so an "unrelated" query never comes from
  a registered file. The same seed gives the same documents, so a benchmark that keeps its
  database can read the corpus again and know what is registered without fingerprinting.
- :func:`register` fingerprints the documents in-process with the engine
  (``registry.engine.fingerprint_document_text``, the function the fingerprint task calls; one
  process per core) and writes them with ``bulk_create`` as ready documents, ``DOCS_PER_WORK``
  per work -- exactly the rows the task would have written. Registering 100,000 documents one
  by one through ``work_register`` and a task each would take hours. It also states the
  preferences a real registry holds: some works refuse generative-AI training, some refuse
  all AI training, some require attribution, and some authors refuse AI training by default.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import re
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DOC_LINES = 80  # the longest registered document, in lines: file-sized, as a repository's files are
DOCS_PER_WORK = 100
WORKS_PER_AUTHOR = 10
AUTHOR_EMAIL = "bench-author-{}@example.org"
LICENCES = ["MIT", "Apache-2.0", "GPL-3.0-only", "BSD-3-Clause", "CC-BY-4.0"]

# What share of the works state what (each drawn independently with the seed). A work's own
# "no" on train-ai also refuses train-genai (the vocabulary's hierarchy).
PREFERENCE_SHARES = {
    ("train-genai", "no"): 0.25,
    ("train-ai", "no"): 0.10,
    ("ai-use", "no"): 0.05,
    ("attribution", "yes"): 0.25,
}
DEFAULT_TRAIN_AI_NO_SHARE = 0.10  # authors whose default refuses AI training for all their works


def log(message: str, *, prog: str = "bench") -> None:
    print(f"[{prog} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Servers and the database ------------------------------------------------------------------


def _answers(command: list[str], expect: str | None = None) -> bool:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and (expect is None or done.stdout.strip() == expect)


def _wait(what: str, check) -> None:
    deadline = time.monotonic() + 60
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {what} did not answer within 60 s")
        time.sleep(1)


def ensure_servers(database_url: str, redis_url: str) -> None:
    """Start PostgreSQL and Redis on loopback as .ci/run does, if they are not answering."""
    db, redis = urlsplit(database_url), urlsplit(redis_url)
    pg = ["pg_isready", "-h", db.hostname or "127.0.0.1", "-p", str(db.port or 5432), "-q"]
    if not _answers(pg):
        log("starting PostgreSQL")
        versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
        if not versions:
            raise SystemExit("bench: PostgreSQL is not running and not installed (/etc/postgresql)")
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=True
        )
        _wait("PostgreSQL", lambda: _answers(pg))
    ping = ["redis-cli", "-h", redis.hostname or "127.0.0.1", "-p", str(redis.port or 6379), "ping"]
    if not _answers(ping, "PONG"):
        log("starting Redis")
        for directory in ("/var/lib/redis", "/var/log/redis"):
            os.makedirs(directory, exist_ok=True)
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
             "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
             "--logfile", "/var/log/redis/ci.log"],
            check=True,
        )  # fmt: skip
        _wait("Redis", lambda: _answers(ping, "PONG"))


def _bench_name(database_url: str) -> str:
    name = urlsplit(database_url).path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*bench[a-z0-9_]*", name):
        raise SystemExit(f"bench: refusing to use database {name!r}: its name must contain 'bench'")
    return name


def _maintenance(database_url: str):
    import psycopg

    parts = urlsplit(database_url)
    return psycopg.connect(
        dbname="postgres",
        user=parts.username or "postgres",
        password=parts.password,
        host=parts.hostname,
        port=parts.port or 5432,
        autocommit=True,
    )


def database_exists(database_url: str) -> bool:
    name = _bench_name(database_url)
    with _maintenance(database_url) as connection:
        return (
            connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        )


def create_database(database_url: str) -> None:
    """Drop and create the benchmark's database (never the registry's own: its name is checked)."""
    name = _bench_name(database_url)
    with _maintenance(database_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def setup_django(database_url: str, **environment: str) -> None:
    """Point this process's Django at `database_url` (and any other settings), then migrate."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.update(environment)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- The corpus --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    path: str
    language: str | None
    text: str


def _split(path: str, text: str) -> list[tuple[str, str]]:
    """A file as documents of at most ``DOC_LINES`` lines (a short tail stays with the piece
    before it: on its own it is a file's closing braces and include guards, which no engine
    should call a copy of anything)."""
    lines = text.splitlines()
    if len(lines) <= DOC_LINES:
        return [(path, text)]
    starts = list(range(0, len(lines), DOC_LINES))
    if len(starts) > 1 and len(lines) - starts[-1] < DOC_LINES // 2:
        starts.pop()
    ends = starts[1:] + [len(lines)]
    return [
        (f"{path}#L{start + 1}", "\n".join(lines[start:end]))
        for start, end in zip(starts, ends, strict=True)
        if any(line.strip() for line in lines[start:end])
    ]


def load_corpus(
    n_registry: int, seed: int, *, unregistered_min: int = 2000, fill: bool = True
) -> tuple[list[Doc], list[Doc]]:
    """(registered documents, unregistered documents) from whole source files, split by file.

    Deterministic for a given machine and seed. A tenth of the files (at least enough for
    `unregistered_min` documents) stay unregistered. With `fill`, :func:`variants` make up the
    registered documents the machine's real code falls short of; without it the caller makes
    them (with :func:`variant`) where it needs them.
    """
    from dedup.tokenize import language_for_path
    from tests.bench import corpus

    # The standard library, site-packages' Python (python_stdlib skips site-packages and
    # other_languages takes only non-Python files there) and the other languages; distinct contents.
    seen: set[bytes] = set()
    site_packages = Path(sysconfig.get_paths()["purelib"])
    python = corpus._walk(corpus.stdlib_root(), {".py"}) + corpus._walk(site_packages, {".py"})
    files = corpus._read(python, lambda p: "python", min_bytes=200, max_bytes=512 * 1024, seen=seen)
    files += [
        f for f in corpus.other_languages(min_bytes=200, max_bytes=512 * 1024)
        if hashlib.sha1(f.data).digest() not in seen
    ]  # fmt: skip
    # Sorted by the path inside site-packages, not by where the venv lives, so that a clone in
    # another folder (CI's) deals out the same documents.
    files.sort(key=lambda f: str(f.path).replace(str(site_packages), "", 1))
    random.Random(seed).shuffle(files)

    registered: list[Doc] = []
    unregistered: list[Doc] = []
    for i, f in enumerate(files):
        bucket = unregistered if i % 10 == 0 else registered
        if bucket is registered and len(registered) >= n_registry:
            bucket = unregistered
        language = language_for_path(f.path)
        for path, text in _split(f.path, f.text):
            bucket.append(Doc(path, language, text))
        if len(registered) >= n_registry and len(unregistered) >= unregistered_min:
            break
    if fill and len(registered) < n_registry:
        registered += variants(registered, n_registry - len(registered), seed)
    return registered[:n_registry], unregistered


def variants(docs: list[Doc], count: int, seed: int) -> list[Doc]:
    """`count` edited copies of `docs` (forks: identifiers renamed, literals or lines changed).

    When the machine holds less real code than asked for, a registry still has many near-copies
    of the same files (forks, vendored copies), so the rest are made that way. They are
    registered after the real documents, in their own works.
    """
    if not docs:
        return []
    made = [variant(docs, i, seed) for i in range(count)]
    log(f"{len(docs)} real documents; {count} generated variants of them make up the rest")
    return made


def variant(docs: list[Doc], i: int, seed: int) -> Doc:
    """The `i`-th edited copy of `docs`: the same for the same arguments in any process, so a
    pool of processes can each make its own share of a million without one making them all."""
    from tests.bench import labelled

    rng = _variant_rng(i, seed)
    doc = docs[rng.randrange(len(docs))]
    donor = docs[rng.randrange(len(docs))]
    edit = (labelled.type2, labelled.type3)[i % 2]
    text = edit(doc.text, doc.language or "", rng, donor=donor.text)
    return Doc(f"fork-{i}/{doc.path}", doc.language, text)


def variant_language(docs: list[Doc], i: int, seed: int) -> str | None:
    """The language of ``variant(docs, i, seed)`` without making its text."""
    return docs[_variant_rng(i, seed).randrange(len(docs))].language


def _variant_rng(i: int, seed: int) -> random.Random:
    return random.Random(seed * 1_000_003 + i)


def window(rng: random.Random, text: str, low: int, high: int) -> str:
    """A run of `low`..`high` consecutive lines of `text` (all of it when shorter), drawn with `rng`."""
    lines = text.splitlines()
    n = min(len(lines), rng.randint(low, high))
    start = rng.randrange(0, max(1, len(lines) - n + 1))
    return "\n".join(lines[start : start + n])


def paths_digest(docs: list[Doc]) -> str:
    """sha1 of the documents' paths: which files the machine held when a registry was made (a
    package installed since changes them, so a kept registry is no longer the same)."""
    return hashlib.sha1("\n".join(d.path for d in docs).encode()).hexdigest()


# --- Registering -------------------------------------------------------------------------------


def _default_sigterm() -> None:
    """In a pool process: SIGTERM kills it at once, as it should.

    Leaving the pool (``Pool.terminate``) stops its processes with SIGTERM. A benchmark that
    unwinds on SIGTERM (``bench_filter_load``: ``sys.exit`` from a handler, to stop gunicorn)
    would pass that handler on through the fork, and an idle pool process would then unwind
    through multiprocessing's exit hooks, where it could wait forever on a lock the pool holds
    (seen in CI: the filter benchmark's smoke test hung with its parent waiting on the child).
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _fingerprint(doc: tuple[str, str | None]):
    from registry import engine

    text, language = doc
    try:
        fp = engine.fingerprint_document_text(text, "code", language)
    except Exception:  # noqa: BLE001 - a document the engine refuses is left out and counted
        return None
    return fp.to_bytes(), fp.exact_hash, fp.num_lines, fp.num_tokens


def work_location(index: int) -> str:
    """The canonical location registered for the benchmark's work number `index`."""
    return f"https://github.com/bench-author-{index // WORKS_PER_AUTHOR}/project-{index}"


def _preferences(n_works: int, authors: list, works: list, seed: int) -> tuple[list, dict]:
    from registry.preferences.models import PreferenceStatement

    rng = random.Random(seed + 101)
    statements = []
    counts: dict[str, int] = {}
    for author in authors:
        if rng.random() < DEFAULT_TRAIN_AI_NO_SHARE:
            statements.append(
                PreferenceStatement(owner=author, work=None, key="train-ai", value="no", note="bench default")
            )
            counts["default train-ai=no (authors)"] = counts.get("default train-ai=no (authors)", 0) + 1
    for work in works:
        for (key, value), share in PREFERENCE_SHARES.items():
            if rng.random() < share:
                statements.append(
                    PreferenceStatement(owner_id=work.owner_id, work=work, key=key, value=value, note="bench")
                )
                label = f"{key}={value} (works)"
                counts[label] = counts.get(label, 0) + 1
    return statements, counts


def register(docs: list[Doc], *, processes: int, seed: int = 1, preferences: bool = True) -> dict:
    """Fingerprint `docs` in `processes` processes and bulk-insert them as ready documents.

    Works hold `DOCS_PER_WORK` consecutive documents each and belong to authors
    ``bench-author-<n>@example.org`` (`WORKS_PER_AUTHOR` works each); work number i is located
    at `work_location(i)`. With `preferences`, statements are written as described in the
    module docstring (deterministic with `seed`).
    """
    import multiprocessing

    from django.contrib.auth import get_user_model
    from django.db import connections, transaction
    from django.utils import timezone

    from registry.preferences.models import PreferenceStatement
    from registry.works.models import Document, Location, Work

    started = time.perf_counter()
    connections.close_all()  # the forked processes must not share this process's connection
    with multiprocessing.get_context("fork").Pool(processes, initializer=_default_sigterm) as pool:
        results = pool.map(_fingerprint, [(d.text, d.language) for d in docs], chunksize=256)
    fingerprint_s = time.perf_counter() - started

    started = time.perf_counter()
    User = get_user_model()
    n_works = math.ceil(len(docs) / DOCS_PER_WORK)
    n_authors = math.ceil(n_works / WORKS_PER_AUTHOR)
    now = timezone.now()
    skipped = 0
    with transaction.atomic():
        authors = User.objects.bulk_create(
            User(email=AUTHOR_EMAIL.format(i), public_name=f"Bench Author {i}", password="!")
            for i in range(n_authors)
        )
        works = Work.objects.bulk_create(
            Work(
                owner=authors[i // WORKS_PER_AUTHOR],
                title=f"Bench work {i}",
                kind=Work.Kind.CODE,
                licence=LICENCES[i % len(LICENCES)],
                attribution=f"Bench Author {i // WORKS_PER_AUTHOR}, project {i}",
                storage=Work.Storage.FINGERPRINTS,
                source=Work.Source.ARCHIVE,
            )
            for i in range(n_works)
        )
        Location.objects.bulk_create(
            Location(work=work, kind=Location.Kind.REPOSITORY, url=work_location(i),
                     normalised=work_location(i).removeprefix("https://"))
            for i, work in enumerate(works)
        )  # fmt: skip
        counts: dict[str, int] = {}
        if preferences:
            statements, counts = _preferences(n_works, authors, works, seed)
            PreferenceStatement.objects.bulk_create(statements)
        batch = []
        for i, (doc, result) in enumerate(zip(docs, results, strict=True)):
            if result is None:
                skipped += 1
                continue
            blob, exact_hash, num_lines, num_tokens = result
            batch.append(
                Document(
                    work=works[i // DOCS_PER_WORK],
                    path=doc.path,
                    language=doc.language or "",
                    size_bytes=len(doc.text.encode()),
                    state=Document.State.READY,
                    fingerprint=blob,
                    exact_hash=exact_hash,
                    num_lines=num_lines,
                    num_tokens=num_tokens,
                    fingerprinted_at=now,
                )
            )
            if len(batch) >= 2000:
                Document.objects.bulk_create(batch)
                batch = []
        Document.objects.bulk_create(batch)
    insert_s = time.perf_counter() - started
    return {
        "documents": len(docs) - skipped,
        "refused_by_engine": skipped,
        "works": len(works),
        "authors": len(authors),
        "preferences": counts,
        "fingerprint_s": round(fingerprint_s, 2),
        "insert_s": round(insert_s, 2),
        "processes": processes,
        "method": (
            f"fingerprinted in-process with registry.engine.fingerprint_document_text ({processes} "
            "processes), inserted with bulk_create as ready Documents (no fingerprint tasks)"
        ),
    }


def registered_count() -> int:
    """Ready documents of the benchmark's authors already in the database."""
    from registry.works.models import Document

    return Document.objects.filter(
        state=Document.State.READY, work__owner__email__startswith="bench-author-"
    ).count()


def stored_fingerprints_fit() -> bool:
    """Whether the stored fingerprints can still be compared with the engine's.

    The engine's format and parameters change as it is tuned; a kept benchmark database with
    older fingerprints would be loaded as an empty matcher (every document skipped), so reuse
    checks one fingerprint first.
    """
    from registry import engine
    from registry.works.models import Document

    blob = Document.objects.filter(state=Document.State.READY).values_list("fingerprint", flat=True).first()
    if blob is None:
        return False
    try:
        fp = engine.fingerprint_from_bytes(blob)
    except ValueError:
        return False
    return engine.fingerprint_params(fp) == engine.expected_fingerprint_params(fp.kind)
