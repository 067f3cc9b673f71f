"""A small client for the registry's HTTP API: filter datasets, register works.

    from dedup.client import Client

    client = Client("https://registry.example.org", api_key=os.environ["REGISTRY_API_KEY"])
    results = client.filter([{"id": "a", "text": "..."}], purpose="train-genai")
    keep = [r for r in results if r["decision"] != "exclude"]

Standard library only (``urllib.request``), so it installs wherever ``dedup`` does; it never
imports Django or the registry project.

Retries: a 429 is retried after the server's ``Retry-After`` (up to ``max_wait`` seconds, else
it is raised at once), 502/503/504 and connection errors with exponential backoff, at most
``max_retries`` times. Other 4xx answers are never retried: the same request would fail the same
way. Registrations (which write) are retried only when the server certainly did not act on
them: 429 (throttled before the view ran) and 503.

Registering by fingerprints (`register_fingerprints`) fingerprints a folder on this machine with
the engine parameters the server announces and uploads only the fingerprints: the text of the
files never leaves the machine.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_BATCH_SIZE", "Client", "RegistryError"]

#: Documents per filter request; the server refuses larger batches.
DEFAULT_BATCH_SIZE = 1000
#: Locations per lookup request (the server's default limit).
LOOKUP_BATCH_SIZE = 10_000
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# What a write may be retried on: the server answered before doing anything.
SAFE_RETRY_STATUSES_FOR_WRITES = frozenset({429, 503})
USER_AGENT = "dedup-client/1"


class RegistryError(Exception):
    """An error answer from the registry, or a problem found before sending.

    Attributes:
        code: the API's stable error code (``invalid``, ``rate_limited``, ...), or a client-side
            one: ``connection_error``, ``bad_response``, ``fingerprint_params_mismatch``,
            ``payload_too_large``.
        detail: what went wrong, for people.
        status: the HTTP status, or None when the request never got an answer.
        body: the decoded JSON error body (extra fields such as ``errors``), if any.
    """

    def __init__(self, code: str, detail: str, status: int | None = None, body: dict | None = None):
        super().__init__(f"{code}: {detail}" if status is None else f"{status} {code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status
        self.body = body or {}


@dataclass
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


class Client:
    """The registry API for dataset builders (``filter`` keys) and authors (``author`` keys).

    Args:
        base_url: the registry's address, e.g. ``https://registry.example.org``.
        api_key: an API key (``rk_...``); read it from the environment, never hard-code it.
        timeout: seconds to wait for each answer.
        max_retries: retries after a 429, 502, 503, 504 or connection error.
        batch_size: documents per filter/lookup request (at most the server's limit).
        max_wait: the longest single wait before a retry; a longer ``Retry-After`` is raised.
        backoff: the first backoff delay in seconds (doubled on each retry).
        sleep: how to wait (tests pass a fake; waiting is the only boundary faked).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 5,
        batch_size: int = DEFAULT_BATCH_SIZE,
        *,
        max_wait: float = 120.0,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries!r}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.batch_size = batch_size
        self.max_wait = max_wait
        self.backoff = backoff
        self.sleep = sleep

    def __repr__(self) -> str:  # never show the key
        return f"Client({self.base_url!r})"

    # --- dataset builders -------------------------------------------------------------------

    def filter(self, documents: Iterable[Mapping[str, Any] | str], purpose: str) -> list[dict]:
        """One decision per document (``allow``, ``attribute`` or ``exclude``) with its reasons.

        Args:
            documents: dicts with ``text`` (and optionally ``id``, ``url``, ``repository``,
                ``language``, ``kind``), or plain strings (texts). Sent in batches of ``batch_size``.
            purpose: a usage category: ``train-ai``, ``train-genai``, ``ai-use`` or ``search``.

        Returns:
            The server's results, in the order of `documents`.
        """
        docs = [{"text": d} if isinstance(d, str) else dict(d) for d in documents]
        results: list[dict] = []
        for start in range(0, len(docs), self.batch_size):
            answer = self._request(
                "POST",
                "/api/v1/filter",
                json_body={"purpose": purpose, "documents": docs[start : start + self.batch_size]},
            )
            results.extend(_results(answer))
        return results

    def lookup(self, items: Iterable[str], purpose: str | None = None) -> list[dict]:
        """What applies at URLs, repositories or domains, before downloading anything.

        Args:
            items: URLs, repository addresses or domains.
            purpose: with a purpose, each item gets a decision too.
        """
        batch = list(items)
        results: list[dict] = []
        for start in range(0, len(batch), LOOKUP_BATCH_SIZE):
            body: dict[str, Any] = {"items": batch[start : start + LOOKUP_BATCH_SIZE]}
            if purpose:
                body["purpose"] = purpose
            results.extend(_results(self._request("POST", "/api/v1/lookup", json_body=body)))
        return results

    def me(self) -> dict:
        """Who the key is: name, scope, organisation, rate limit."""
        return self._request("GET", "/api/v1/me")

    # --- authors ----------------------------------------------------------------------------

    def works(self, *, include_documents: bool = False) -> list[dict]:
        """Your works with their fingerprint state (and each document's, if asked)."""
        query = {"include": "documents"} if include_documents else None
        return self._request("GET", "/api/v1/works", query=query)["works"]

    def work(self, work_id: str, *, include_text: bool = False) -> dict:
        """One of your works; ``include_text`` returns the texts the registry keeps for you."""
        query = {"include": "text"} if include_text else None
        return self._request("GET", f"/api/v1/works/{_quote(work_id)}", query=query)

    def delete_work(self, work_id: str) -> None:
        self._request("DELETE", f"/api/v1/works/{_quote(work_id)}", write=True)

    def register_text(
        self, text: str, *, title: str, kind: str = "prose", name: str = "text", **metadata: Any
    ) -> dict:
        """Register a text; `metadata`: licence, attribution, locations, preferences, storage, language."""
        body = {"title": title, "kind": kind, "text": text, "name": name, **metadata}
        return self._request("POST", "/api/v1/works", json_body=body, write=True)

    def register_file(
        self,
        path: str | os.PathLike,
        *,
        title: str,
        kind: str = "code",
        source: str | None = None,
        **metadata: Any,
    ) -> dict:
        """Upload a text file or an archive (.zip, .tar.gz, .tgz); the server reads and keeps it."""
        path = Path(path)
        fields_ = {"title": title, "kind": kind, **metadata}
        if source:
            fields_["source"] = source
        body, content_type = _multipart(fields_, "file", path.name, path.read_bytes())
        return self._request("POST", "/api/v1/works", body=body, content_type=content_type, write=True)

    def fingerprint_params(self) -> dict:
        """The engine parameters the server fingerprints with, and its upload limits."""
        return self._request("GET", "/api/v1/works/fingerprints")

    def register_fingerprints(
        self,
        folder: str | os.PathLike,
        *,
        title: str,
        kind: str = "code",
        on_payload: Callable[[bytes], None] | None = None,
        **metadata: Any,
    ) -> dict:
        """Fingerprint `folder` here and register it by its fingerprints alone (no text is sent).

        Args:
            folder: a folder (or one file) to register.
            title, kind: the work's title and kind (``code`` or ``prose``).
            on_payload: called with the exact request body before it is sent (to show or
                audit what leaves the machine).
            metadata: licence, attribution, locations, preferences, language.

        Raises:
            RegistryError: ``fingerprint_params_mismatch`` when this dedup cannot fingerprint
                as the server does, ``payload_too_large``, or any API error.
        """
        from dedup.folder_fingerprints import build_fingerprint_payload  # it imports this module

        params = self.fingerprint_params()
        payload, _skipped = build_fingerprint_payload(folder, params, title=title, kind=kind, **metadata)
        body = json.dumps(payload, separators=(",", ":")).encode()
        limit = params.get("limits", {}).get("max_body_bytes")
        if limit and len(body) > limit:
            raise RegistryError(
                "payload_too_large",
                f"the fingerprints of {folder} take {len(body)} bytes; the server accepts {limit} per "
                "work. Register sub-folders as separate works.",
            )
        if on_payload is not None:
            on_payload(body)
        return self._request(
            "POST", "/api/v1/works/fingerprints", body=body, content_type="application/json", write=True
        )

    def preferences(self, work_id: str | None = None) -> dict:
        """Current values, effective decisions (with reasons) and history; defaults if no work."""
        return self._request("GET", _preferences_path(work_id))

    def set_preferences(
        self, values: Mapping[str, str], work_id: str | None = None, *, note: str = ""
    ) -> dict:
        """State ``{key: "yes" | "no" | "unset"}`` for a work, or as your default (no work)."""
        return self._request(
            "PATCH", _preferences_path(work_id), json_body={"values": dict(values), "note": note}, write=True
        )

    # --- transport ----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        content_type: str | None = None,
        query: Mapping[str, str] | None = None,
        write: bool = False,
    ) -> Any:
        if json_body is not None:
            body, content_type = json.dumps(json_body).encode(), "application/json"
        url = self.base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if content_type:
            headers["Content-Type"] = content_type
        retry_on = SAFE_RETRY_STATUSES_FOR_WRITES if write else RETRY_STATUSES
        attempt = 0
        while True:
            try:
                answer = self._send(method, url, body, headers)
            except (OSError, http.client.HTTPException) as exc:
                # A refused connection never reached the server, so even a write may be retried.
                if (write and not _refused(exc)) or attempt >= self.max_retries:
                    raise RegistryError("connection_error", f"{method} {url}: {_reason(exc)}") from exc
                self._wait(self._backoff(attempt))
                attempt += 1
                continue
            if answer.status in retry_on and attempt < self.max_retries:
                wait = self._retry_after(answer) if answer.status == 429 else None
                if wait is not None and wait > self.max_wait:
                    raise _error(answer)  # waiting that long is the caller's decision, not ours
                self._wait(wait if wait is not None else self._backoff(attempt))
                attempt += 1
                continue
            if answer.status >= 400:
                raise _error(answer)
            if answer.status == 204 or not answer.body:
                return None
            try:
                return json.loads(answer.body)
            except ValueError:
                raise RegistryError(
                    "bad_response",
                    f"{method} {url} answered {answer.status} with a body that is not JSON.",
                    answer.status,
                ) from None

    def _send(self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]) -> _Answer:
        """One HTTP exchange; an HTTP error status is an answer, not an exception."""
        request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only
                return _Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return _Answer(exc.code, exc.headers, exc.read())

    def _backoff(self, attempt: int) -> float:
        return min(self.max_wait, self.backoff * (2**attempt))

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.sleep(seconds)

    @staticmethod
    def _retry_after(answer: _Answer) -> float | None:
        value = answer.headers.get("Retry-After")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


# --- helpers ----------------------------------------------------------------------------------


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _preferences_path(work_id: str | None) -> str:
    return (
        "/api/v1/preferences/defaults" if work_id is None else f"/api/v1/works/{_quote(work_id)}/preferences"
    )


def _refused(exc: Exception) -> bool:
    return isinstance(exc, ConnectionRefusedError) or isinstance(
        getattr(exc, "reason", None), ConnectionRefusedError
    )


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc) or type(exc).__name__


def _results(answer: Any) -> list[dict]:
    if isinstance(answer, list):
        return answer
    if isinstance(answer, dict) and isinstance(answer.get("results"), list):
        return answer["results"]
    raise RegistryError("bad_response", "expected a list of results in the answer")


def _error(answer: _Answer) -> RegistryError:
    try:
        data = json.loads(answer.body)
    except ValueError:
        data = None
    if isinstance(data, dict) and "code" in data:
        return RegistryError(str(data["code"]), str(data.get("detail", "")), answer.status, data)
    text = answer.body[:200].decode("utf-8", "replace").strip()
    return RegistryError("http_error", f"HTTP {answer.status}: {text or 'no body'}", answer.status)


def _multipart(fields_: Mapping[str, Any], file_field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body; lists become repeated fields, dicts JSON."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []

    def add(name: str, value: str) -> None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )

    for name, value in fields_.items():
        if isinstance(value, list | tuple):
            for item in value:
                add(name, str(item))
        elif isinstance(value, dict):
            add(name, json.dumps(value))
        elif value is not None:
            add(name, str(value))
    safe_name = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{safe_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
