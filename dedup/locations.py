"""Canonical locations: URLs, repositories and domains in the one form the registry stores.

Shared by the service (registering a work's locations, the lookup and filter APIs) and the
offline side (filtering a corpus against a snapshot), so both compare the same strings. Pure
Python: no Django, no network.

The normalised form is the lower-case host without ``www.`` (and with its port if one was
given), then the path without a trailing slash or ``.git``, then ``?query`` if there was one;
no scheme, no fragment, no user info. Paths keep their case: most servers treat them as
case-sensitive. ``https://www.Example.org/Blog/`` and ``http://example.org/Blog`` are both
``example.org/Blog``.

A location *applies* to a URL when it is the URL itself, one of its parent paths or its host:
a file inside a registered repository (``github.com/alice/proj/blob/main/x.py``) is covered by
the repository (``github.com/alice/proj``) and by a registered domain (``github.com``).
`lookup_keys` lists those forms so one indexed ``IN`` query (or one dict probe each) finds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = [
    "DOMAIN",
    "KINDS",
    "KNOWN_FORGES",
    "MAX_LENGTH",
    "REPOSITORY",
    "URL",
    "InvalidLocation",
    "LocationIndex",
    "lookup_keys",
    "normalise_location",
    "parent_keys",
    "path_of",
]

URL, REPOSITORY, DOMAIN = "url", "repository", "domain"
KINDS = (URL, REPOSITORY, DOMAIN)
KNOWN_FORGES = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "sr.ht", "git.sr.ht"})
MAX_LENGTH = 2000  # what registry.works.models.Location.normalised holds

_SCP = re.compile(r"^[\w.-]+@([\w.-]+):(.+)$")  # git@github.com:owner/repo.git
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_IPV4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
_SCHEMES = ("http", "https", "ssh", "git")


class InvalidLocation(ValueError):
    """The text is not a URL, repository address or domain; the message quotes it."""


def _invalid(raw: str) -> InvalidLocation:
    shown = raw.strip()
    if len(shown) > 200:
        shown = shown[:200] + "…"
    return InvalidLocation(f"'{shown}' is not a valid URL or domain.")


def _valid_host(host: str) -> bool:
    if host == "localhost":
        return True
    ip = _IPV4.match(host)
    if ip:
        return all(int(octet) <= 255 for octet in ip.groups())
    labels = host.split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels) and bool(_TLD.match(labels[-1]))


def normalise_location(raw: str) -> tuple[str, str]:
    """(kind, normalised) for a URL, repository address or bare domain.

    Kind: a bare host is a ``domain``; a URL ending in ``.git``, a ``git@host:owner/repo``
    address or ``owner/repo`` on a known forge is a ``repository``; anything else is a ``url``.

    Raises:
        InvalidLocation: not a http(s)/ssh/git URL or a host name (the message quotes the input).
    """
    if not isinstance(raw, str):
        raise InvalidLocation(f"A location must be text, not {type(raw).__name__}.")
    value = raw.strip()
    if not value or len(value) > MAX_LENGTH or any(c.isspace() or ord(c) < 32 for c in value):
        raise _invalid(raw)
    scp = _SCP.match(value)
    if scp:
        value = f"ssh://{scp.group(1)}/{scp.group(2)}"
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:  # a port that is not a number, or brackets that do not close
        raise _invalid(raw) from None
    host = (parts.hostname or "").rstrip(".")
    try:
        # International names in their ASCII (punycode) form, so both spellings meet.
        host = host.encode("idna").decode("ascii").lower() if not host.isascii() else host.lower()
    except UnicodeError:
        raise _invalid(raw) from None
    if parts.scheme not in _SCHEMES or not _valid_host(host):
        raise _invalid(raw)
    if port:
        host = f"{host}:{port}"
    host = host.removeprefix("www.")
    path = parts.path.rstrip("/")
    is_git = path.endswith(".git")
    path = path.removesuffix(".git").rstrip("/")
    normalised = host + path + (f"?{parts.query}" if parts.query else "")
    if len(normalised) > MAX_LENGTH:
        raise _invalid(raw)
    if not path and not parts.query:
        kind = DOMAIN
    elif is_git or scp or (host in KNOWN_FORGES and path.count("/") == 2):
        kind = REPOSITORY
    else:
        kind = URL
    return kind, normalised


def parent_keys(normalised: str) -> list[str]:
    """An already normalised location, then each parent path (nearest first), then its host."""
    base = normalised.split("?", 1)[0]
    keys = [normalised]
    while "/" in base:
        keys.append(base)
        base = base.rsplit("/", 1)[0]
    keys.append(base)
    return list(dict.fromkeys(keys))


def lookup_keys(raw: str) -> list[str]:
    """The normalised forms a location can be registered under: itself, each parent path, its host.

    Raises:
        InvalidLocation: as `normalise_location`.
    """
    return parent_keys(normalise_location(raw)[1])


def path_of(normalised: str) -> str:
    """The path part of a normalised location, as robots.txt writes it: ``/`` for a bare host."""
    without_query = normalised.split("?", 1)[0]
    _, slash, path = without_query.partition("/")
    return "/" + path if slash else "/"


class LocationIndex:
    """Registered locations in memory: which works apply to a URL (the offline side's lookup).

    >>> index = LocationIndex([("github.com/alice/proj", "w1")])
    >>> index.match("https://github.com/alice/proj/blob/main/x.py")
    [('github.com/alice/proj', 'w1')]
    """

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self._by_key: dict[str, list[str]] = {}
        for normalised, work_id in entries:
            self.add(normalised, work_id)

    def add(self, normalised: str, work_id: str) -> None:
        works = self._by_key.setdefault(normalised, [])
        if work_id not in works:
            works.append(work_id)

    def __len__(self) -> int:
        return len(self._by_key)

    def match(self, raw: str | None) -> list[tuple[str, str]]:
        """(registered location, work id) pairs that apply to `raw`, the most specific first.

        An empty or unparseable `raw` matches nothing: a bad URL in a corpus is no reason to
        stop filtering it.
        """
        if not raw:
            return []
        try:
            keys = lookup_keys(raw)
        except InvalidLocation:
            return []
        return [(key, work_id) for key in keys for work_id in self._by_key.get(key, ())]
