"""Signature throughput: bytes in, MinHash signature out, on one core.

Three pipelines over real source files, each timed end to end from the file's bytes:

* **engine**: :func:`dedup.signatures.signature` (numba kernels: tokenise, shingle, MinHash);
* **fallback**: the same call with the kernels' pure numpy/Python path, selected exactly the way
  ``DEDUP_NO_NUMBA=1`` selects it (``dedup._kernels.USE_NUMBA`` is read on every call);
* **reference**: what a user would write with datasketch alone: decode, ``re.findall`` tokens,
  space-joined 5-token shingles encoded to bytes, ``MinHash(num_perm=128).update_batch`` with
  datasketch's default sha1 hash.

The engine gets the whole standard library (tens of MB); the two slow pipelines get a
deterministic sample of files of about ``sample_mb``. Everything runs in this process on one
thread. Each figure is given twice: ``*_per_core`` divides by the process's CPU time
(``time.process_time``), which is what one core does even on a shared, loaded machine;
``*_wall`` divides by elapsed time. ``cpu_over_wall`` near 1 means the core was ours; well
below 1, other processes took it and the wall figures understate the engine.
"""

from __future__ import annotations

import random
import re
import time
from contextlib import contextmanager

from tests.bench.corpus import SourceFile

TOKEN = re.compile(r"\w+|[^\w\s]")


def reference_signature(data: bytes, num_perm: int = 128, shingle_size: int = 5):
    from datasketch import MinHash

    text = data.decode("utf-8", errors="replace")
    tokens = TOKEN.findall(text)
    shingles = [
        " ".join(tokens[i : i + shingle_size]).encode("utf-8")
        for i in range(max(1, len(tokens) - shingle_size + 1))
    ]
    m = MinHash(num_perm=num_perm)
    m.update_batch(shingles)
    return m


@contextmanager
def numba_disabled():
    import dedup._kernels as kernels

    saved = kernels.USE_NUMBA
    kernels.USE_NUMBA = False
    try:
        yield
    finally:
        kernels.USE_NUMBA = saved


def _sample(files: list[SourceFile], mb: float, seed: int) -> list[SourceFile]:
    rng = random.Random(seed)
    shuffled = files[:]
    rng.shuffle(shuffled)
    out, size = [], 0
    for f in shuffled:
        if size >= mb * 1e6:
            break
        out.append(f)
        size += len(f.data)
    return out


def _time(files: list[SourceFile], fn) -> tuple[float, float, int]:
    """(wall seconds, process CPU seconds, bytes) for ``fn`` over ``files``."""
    started, cpu_started = time.perf_counter(), time.process_time()
    for f in files:
        fn(f)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return wall, cpu, sum(len(f.data) for f in files)


def bench_signatures(python: list[SourceFile], others: list[SourceFile], *, quick: bool, seed: int) -> dict:
    from dedup.config import EngineConfig
    from dedup.signatures import signature
    from dedup.tokenize import language_for_path

    config = EngineConfig(num_perm=128, shingle_size=5)
    languages = {f.path: language_for_path(f.path) for f in python + others}

    def engine(f: SourceFile):
        return signature(f.data, kind="code", language=languages[f.path], config=config)

    # Warm-up: the first call of each kernel compiles it (or loads numba's on-disk cache). One
    # small file per language reaches every kernel specialisation the timed run will use.
    warm = {}
    for f in python + others:
        warm.setdefault(languages[f.path], f)
    started = time.perf_counter()
    for f in warm.values():
        engine(f)
    jit_s = time.perf_counter() - started
    started = time.perf_counter()
    for f in warm.values():
        engine(f)
    jit_s -= time.perf_counter() - started  # what remains is compile/cache-load time

    engine_files = _sample(python, 3.0, seed) if quick else python
    engine_wall, engine_cpu, engine_bytes = _time(engine_files, engine)
    engine_other = _sample(others, 1.0 if quick else 10.0, seed)
    other_wall, other_cpu, other_bytes = _time(engine_other, engine)

    slow = _sample(python, 0.1 if quick else 1.0, seed)
    # Import datasketch (and what it imports) before the clock starts: a one-off cost that would
    # otherwise dominate the small quick sample and flatter the speed-up.
    reference_signature(b"warm up")
    with numba_disabled():
        fallback_wall, fallback_cpu, fallback_bytes = _time(slow, engine)
    reference_wall, reference_cpu, reference_bytes = _time(slow, lambda f: reference_signature(f.data))
    # The ratio compares like with like: the engine on the very files the reference ran on,
    # repeated so that a sample this small still takes a measurable time.
    repeats = 10
    same_wall, same_cpu, same_bytes = _time(slow * repeats, engine)

    # What the registry computes per document is a whole fingerprint (the signature plus the
    # exact hash, the shingle set and the winnowing fingerprints for snippets): its rate too.
    from dedup.fingerprint import fingerprint

    def whole(f: SourceFile):
        return fingerprint(f.data, kind="code", language=languages[f.path], config=config)

    whole(slow[0])
    fp_wall, fp_cpu, fp_bytes = _time(engine_files, whole)

    mb = lambda n, s: n / 1e6 / s  # noqa: E731
    return {
        # MB per second of this process's CPU time: what one core does, whatever else the
        # (shared) machine is running. The *_wall figures divide by elapsed time instead and
        # drop when other processes take the core.
        "engine_mb_per_s_per_core": mb(engine_bytes, engine_cpu),
        "engine_mb_per_s_wall": mb(engine_bytes, engine_wall),
        "engine_mb": engine_bytes / 1e6,
        "engine_files": len(engine_files),
        "engine_other_languages_mb_per_s_per_core": mb(other_bytes, other_cpu),
        "engine_other_languages_mb_per_s_wall": mb(other_bytes, other_wall),
        "engine_other_languages_mb": other_bytes / 1e6,
        "fallback_mb_per_s_per_core": mb(fallback_bytes, fallback_cpu),
        "fallback_mb_per_s_wall": mb(fallback_bytes, fallback_wall),
        "reference_mb_per_s_per_core": mb(reference_bytes, reference_cpu),
        "reference_mb_per_s_wall": mb(reference_bytes, reference_wall),
        "slow_pipelines_mb": reference_bytes / 1e6,
        "engine_on_reference_files_mb_per_s_per_core": mb(same_bytes, same_cpu),
        "speedup_vs_reference": mb(same_bytes, same_cpu) / mb(reference_bytes, reference_cpu),
        "speedup_vs_reference_wall": mb(same_bytes, same_wall) / mb(reference_bytes, reference_wall),
        "fingerprint_mb_per_s_per_core": mb(fp_bytes, fp_cpu),
        "cpu_over_wall": (engine_cpu + other_cpu) / (engine_wall + other_wall),
        "jit_warmup_s": max(jit_s, 0.0),
    }
