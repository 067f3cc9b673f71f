"""Register by fingerprint: a folder fingerprinted on the author's machine, only the prints sent.

:func:`build_fingerprint_payload` makes the body of ``POST /api/v1/works/fingerprints`` for a
folder with the engine parameters the server announced (``GET /api/v1/works/fingerprints``):
fingerprints, paths, languages and sizes, never a file's text. ``python -m dedup register``
(:mod:`dedup.remote`) and :meth:`dedup.client.Client.register_fingerprints` send it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dedup.client import RegistryError

__all__ = ["build_fingerprint_payload"]


@dataclass
class _Skips:
    """Every skipped file with its reason (dedup.io.SkipLog keeps only a few examples)."""

    items: list[dict] = field(default_factory=list)

    def log(self):
        from dedup.io import SkipLog

        items = self.items

        class _Log(SkipLog):
            def add(self, reason: str, where: str) -> None:
                super().add(reason, where)
                items.append({"path": where, "reason": reason})

        return _Log()


def _config_from(params: Mapping[str, Any]):
    from dedup.config import EngineConfig

    names = {f.name for f in fields(EngineConfig)}
    return EngineConfig(**{k: v for k, v in params["engine"].items() if k in names})


def _check_params(fp, expected: Mapping[str, Any]) -> None:
    got = {
        "kind": fp.kind,
        "scheme": fp.params.scheme,
        "seed": fp.params.seed,
        "num_perm": fp.params.num_perm,
        "shingle_size": fp.params.shingle_size,
        "normaliser_version": fp.params.normaliser_version,
        "channel": fp.params.channel,
        "winnow_k": fp.winnow_k,
        "winnow_window": fp.winnow_window,
    }
    for name, want in expected.items():
        if name in got and got[name] != want:
            raise RegistryError(
                "fingerprint_params_mismatch",
                f"this dedup fingerprints with {name}={got[name]!r} but the server needs {name}={want!r}; "
                "install the dedup version the server runs.",
            )


def build_fingerprint_payload(
    folder: str | os.PathLike,
    params: Mapping[str, Any],
    *,
    title: str,
    kind: str = "code",
    language: str | None = None,
    **metadata: Any,
) -> tuple[dict, list[dict]]:
    """The body of POST /api/v1/works/fingerprints for `folder`, and what was skipped.

    Only fingerprints, paths, languages and sizes go in it -- never a file's text.

    Args:
        params: the answer of GET /api/v1/works/fingerprints (engine parameters and limits).
        language: force one language for every file (default: from each file's extension).
    """
    from dedup.fingerprint import fingerprint
    from dedup.io import iter_files

    root = Path(folder)
    config = _config_from(params)
    expected = params.get("fingerprint_params", {}).get(kind, {})
    limits = params.get("limits", {})
    skips = _Skips()
    log = skips.log()
    documents = []
    max_documents = limits.get("max_documents")
    for record in iter_files(root, skipped=log, max_bytes=limits.get("max_file_bytes") or 16 * 1024 * 1024):
        lang = language or record.language
        fp = fingerprint(record.text, kind=kind, language=lang, config=config)
        if not documents:
            _check_params(fp, expected)  # the first is enough: every one is made the same way
        path = Path(record.id)
        relative = path.relative_to(root).as_posix() if root.is_dir() else path.name
        documents.append(
            {
                "path": relative,
                "language": lang or "",
                "fingerprint": base64.b64encode(fp.to_bytes()).decode("ascii"),
                "size_bytes": len(record.text.encode("utf-8")),
            }
        )
        if max_documents and len(documents) > max_documents:
            raise RegistryError(
                "invalid",
                f"{folder} has more than {max_documents} files to register; the server accepts "
                f"{max_documents} per work. Register sub-folders as separate works.",
            )
    skipped = [{"path": _relative(s["path"], root), "reason": s["reason"]} for s in skips.items]
    payload = {"title": title, "kind": kind, **metadata, "documents": documents, "skipped": skipped}
    return payload, skipped


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).name
