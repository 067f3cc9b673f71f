"""Validation and normalisation of a work's metadata: SPDX licences and canonical locations.

Used by the forms (so errors show next to the field) and by the services (so no caller can skip
them).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

KNOWN_FORGES = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "sr.ht", "git.sr.ht"})
_HOST = re.compile(r"^(localhost|([a-z0-9-]+\.)+[a-z0-9-]+)(:\d+)?$")


@functools.cache
def _spdx():
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def normalise_licence(expression: str) -> str:
    """The SPDX expression in canonical form ('' stays ''); ValidationError naming unknown ids."""
    expression = expression.strip()
    if not expression:
        return ""
    info = _spdx().validate(expression)
    if info.invalid_symbols and any(info.invalid_symbols):
        names = ", ".join(sorted({s for s in info.invalid_symbols if s}))
        raise ValidationError(
            f"Unknown SPDX licence identifier: {names}. Use ids from https://spdx.org/licenses/ "
            f"such as MIT, Apache-2.0 or GPL-3.0-or-later.",
            code="unknown_licence",
        )
    if info.errors or not info.normalized_expression:
        raise ValidationError(
            f"'{expression}' is not a valid SPDX licence expression (e.g. 'MIT OR Apache-2.0').",
            code="invalid_licence",
        )
    return info.normalized_expression


def normalise_location(raw: str) -> tuple[str, str]:
    """(kind, normalised) for a URL, repository URL or bare domain.

    Normalised form: lower-case host without `www.`, no scheme, no trailing slash, no `.git`,
    no fragment; the path keeps its case (paths are case-sensitive on most servers).

    Kind: a bare host is a ``domain``; a URL ending in `.git`, a `git@host:owner/repo` address or
    `owner/repo` on a known forge is a ``repository``; anything else is a ``url``.
    """
    value = raw.strip()
    scp = re.match(r"^[\w.-]+@([\w.-]+):(.+)$", value)  # git@github.com:owner/repo.git
    if scp:
        value = f"ssh://{scp.group(1)}/{scp.group(2)}"
    if "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.port:
        host = f"{host}:{parts.port}"
    check = f"https://{host}{parts.path}"
    if parts.scheme not in ("http", "https", "ssh", "git") or not _HOST.match(host):
        raise ValidationError(f"'{raw.strip()}' is not a valid URL or domain.", code="invalid_url")
    try:
        URLValidator()(check)
    except ValidationError:
        raise ValidationError(f"'{raw.strip()}' is not a valid URL or domain.", code="invalid_url") from None
    host = host.removeprefix("www.")
    path = parts.path.rstrip("/")
    is_git = path.endswith(".git")
    path = path.removesuffix(".git").rstrip("/")
    normalised = host + path + (f"?{parts.query}" if parts.query else "")
    if not path and not parts.query:
        kind = "domain"
    elif is_git or scp or (host in KNOWN_FORGES and path.count("/") == 2):
        kind = "repository"
    else:
        kind = "url"
    return kind, normalised


def lookup_keys(raw: str) -> list[str]:
    """The normalised forms a URL can be registered under: itself, each parent path, its host.

    A file URL inside a registered repository (github.com/alice/proj/blob/main/x.py) finds the
    repository (github.com/alice/proj) and the domain; one indexed `IN` query serves all.
    """
    _, normalised = normalise_location(raw)
    base = normalised.split("?", 1)[0]
    keys = [normalised]
    while "/" in base:
        keys.append(base)
        base = base.rsplit("/", 1)[0]
    keys.append(base)
    return list(dict.fromkeys(keys))
