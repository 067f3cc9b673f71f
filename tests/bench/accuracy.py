"""Accuracy of the engine on the labelled set (see :mod:`tests.bench.labelled`).

Scoring, with the engine at its default :class:`~dedup.config.EngineConfig`:

* **documents**: a prediction is a (query, registered doc) pair reported with kind "exact" or
  "near-duplicate", over the type-1/2/3 copies and the unrelated files. The true pairs are
  (copy, its source). Precision, recall and F1 are over pairs, so a copy matched to the wrong
  file costs precision *and* recall. Recall is also given per copy type.
* **snippets**: a snippet is found when any match (of any kind) links the sample to its source
  document. For found snippets the line-range IoU is computed on both sides, between the lines
  the matches report for that document and the true range. Lines are compared as sets of
  *content lines* (not blank, not comment-only), because the engine's tokens never fall on blank
  or comment lines and a range that stops at the last code line is exactly right. Recall is
  given overall, for snippets of >= 10 lines, and for >= 10 lines with IoU >= 0.8 on both sides.
* **false matches**: unrelated files with any match at all, per 1,000 unrelated files. The
  labelled set has already removed files that share text with a registered file (see its
  docstring), so every match counted here is a genuine false alarm; the first few are listed
  with the lines involved so a reader can check.
"""

from __future__ import annotations

import time

import numpy as np

from tests.bench import labelled
from tests.bench.corpus import SourceFile

DOC_KINDS = ("exact", "near-duplicate")
BATCH = 256


def _code_set(text: str, language: str, ranges) -> set[int]:
    """1-based numbers of the code lines (see ``labelled.code_lines``) inside ``ranges``."""
    flags = labelled.code_lines(text, language)
    out: set[int] = set()
    for a, b in ranges:
        out |= {n for n in range(max(1, int(a)), min(int(b), len(flags)) + 1) if flags[n - 1]}
    return out


def _iou(a: set[int], b: set[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def bench_accuracy(files: list[SourceFile], *, quick: bool, seed: int, progress) -> dict:
    from dedup import verify
    from dedup.config import EngineConfig
    from dedup.fingerprint import fingerprint
    from dedup.matcher import Matcher
    from dedup.tokenize import language_for_path

    started = time.perf_counter()
    data = labelled.build(files, sizes=labelled.QUICK if quick else labelled.FULL, seed=seed)
    generate_s = time.perf_counter() - started
    config = EngineConfig()

    def fp(text: str, path: str):
        return fingerprint(text, kind="code", language=language_for_path(path), config=config)

    progress(f"  indexing {len(data.registered)} registered files")
    started = time.perf_counter()
    matcher = Matcher(config)
    registered = [fp(f.text, f.path) for f in data.registered]
    for doc_id, r in enumerate(registered):
        matcher.add(doc_id, r)
    index_s = time.perf_counter() - started

    progress(f"  querying {len(data.samples)} samples")
    started = time.perf_counter()
    results: list[list] = []
    queries = []
    for i in range(0, len(data.samples), BATCH):
        batch = [fp(s.text, s.path) for s in data.samples[i : i + BATCH]]
        results += matcher.query_batch(batch)
        queries += batch
    query_s = time.perf_counter() - started

    report: dict = {
        "registered": len(data.registered),
        "registered_python": sum(f.language == "python" for f in data.registered),
        "samples": len(data.samples),
        "generate_s": generate_s,
        "index_s": index_s,
        "query_s": query_s,
    }
    report.update(_score_documents(data, results))
    # How hard the copies are: the share whose true Jaccard with their source (the engine's own
    # shingles, the channel its signature estimates) reaches the threshold, i.e. the recall a
    # perfect near-duplicate search could reach.
    for kind in ("type1", "type2", "type3"):
        js = [
            verify.jaccard(q.shingles, registered[s.source].shingles)
            for s, q in zip(data.samples, queries, strict=True)
            if s.kind == kind
        ]
        report[f"{kind}_share_jaccard_at_threshold"] = float(np.mean([j >= config.threshold for j in js]))
    report.update(_score_snippets(data, results, config.min_snippet_chars))
    report.update(_score_unrelated(data, results))
    report["rejected_candidates"] = data.rejected
    report["notes"] = [
        "registered files are mutually distinct (no shared 4-line window, shape Jaccard < "
        f"{labelled.SHAPE_RELATED}); negatives share no 4-line window (>= 80 non-space chars) with a "
        f"registered file and are not same-shape siblings in its directory; rejected: {data.rejected}",
        "snippet IoU is over code lines (not blank, not comments, not inside docstrings) of the ranges",
        "doc_* figures count only exact/near-duplicate matches; doc_*_any_kind also counts a snippet "
        "match to the right document that covers >= half of the copy's lines",
    ]
    return report


def _score_documents(data: labelled.LabelledSet, results) -> dict:
    out = {}
    for variant in ("", "_any_kind"):
        predicted: set[tuple[int, int]] = set()
        truth: set[tuple[int, int]] = set()
        per_type: dict[str, list[int]] = {}
        for i, (sample, matches) in enumerate(zip(data.samples, results, strict=True)):
            if sample.kind == "snippet":
                continue
            n_lines = max(1, len(sample.text.splitlines()))
            docs = {
                m.doc_id
                for m in matches
                if m.kind in DOC_KINDS or (variant and _covered(m.sample_lines) >= 0.5 * n_lines)
            }
            predicted |= {(i, d) for d in docs}
            if sample.source is not None:
                truth.add((i, sample.source))
                per_type.setdefault(sample.kind, []).append(int(sample.source in docs))
        tp = len(predicted & truth)
        precision = tp / len(predicted) if predicted else 1.0
        recall = tp / len(truth) if truth else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.update(
            {f"doc_precision{variant}": precision, f"doc_recall{variant}": recall, f"doc_f1{variant}": f1}
        )
        for kind, hits in sorted(per_type.items()):
            out[f"doc_recall{variant}_{kind}"] = float(np.mean(hits))
    return out


def _covered(ranges) -> int:
    return sum(int(b) - int(a) + 1 for a, b in ranges)


def _score_snippets(data: labelled.LabelledSet, results, min_chars: int) -> dict:
    found_all, found_10, good_10, iou_sample, iou_doc, short = [], [], [], [], [], 0
    for sample, matches in zip(data.samples, results, strict=True):
        if sample.kind != "snippet":
            continue
        doc_text = data.registered[sample.source].text
        language = data.registered[sample.source].language
        lo, hi = sample.sample_range
        true_sample = _code_set(sample.text, language, [sample.sample_range])
        true_doc = _code_set(doc_text, language, [sample.doc_range])
        if sum(len(line.replace(" ", "")) for line in sample.text.splitlines()[lo - 1 : hi]) < min_chars:
            short += 1  # below the engine's minimum snippet size: not findable by design
        mine = [m for m in matches if m.doc_id == sample.source]
        found = bool(mine)
        found_all.append(found)
        is_long = hi - lo + 1 >= 10
        if found:
            s_iou = _iou(
                _code_set(sample.text, language, [r for m in mine for r in m.sample_lines]), true_sample
            )
            d_iou = _iou(_code_set(doc_text, language, [r for m in mine for r in m.doc_lines]), true_doc)
            if is_long:
                iou_sample.append(s_iou)
                iou_doc.append(d_iou)
        if is_long:
            found_10.append(found)
            good_10.append(found and s_iou >= 0.8 and d_iou >= 0.8)
    mean = lambda xs: float(np.mean(xs)) if xs else 0.0  # noqa: E731
    return {
        "snippets": len(found_all),
        "snippets_10plus": len(found_10),
        "snippets_below_min_chars": short,
        "snippet_recall": mean(found_all),
        "snippet_recall_10plus": mean(found_10),
        "snippet_recall_10plus_iou80": mean(good_10),
        "snippet_iou_10plus_mean": mean([min(a, b) for a, b in zip(iou_sample, iou_doc, strict=True)]),
        "snippet_iou_sample_mean": mean(iou_sample),
        "snippet_iou_doc_mean": mean(iou_doc),
    }


def _score_unrelated(data: labelled.LabelledSet, results) -> dict:
    n = flagged = shape_alike = 0
    examples = []
    for sample, matches in zip(data.samples, results, strict=True):
        if sample.kind != "unrelated":
            continue
        n += 1
        if matches:
            flagged += 1
            shape_alike += sample.shape_jaccard >= labelled.SHAPE_RELATED
            if len(examples) < 10:
                m = matches[0]
                examples.append(
                    f"{sample.path} lines {list(m.sample_lines)} ~ {data.registered[m.doc_id].path} "
                    f"lines {list(m.doc_lines)} ({m.kind}, verified {m.verified:.2f})"
                )
    return {
        "unrelated": n,
        "unrelated_with_matches": flagged,
        "false_matches_per_1000_unrelated": 1000 * flagged / n if n else 0.0,
        # of those, files with the same shape as a registered file in another directory (e.g.
        # two unrelated headers that are both lists of "#define NAME number")
        "false_matches_same_shape_per_1000_unrelated": 1000 * shape_alike / n if n else 0.0,
        "false_match_examples": examples,
    }
