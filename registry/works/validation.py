"""Validation and normalisation of a work's metadata: SPDX licences and canonical locations.

Used by the forms (so errors show next to the field) and by the services (so no caller can skip
them).
"""

from __future__ import annotations

import functools

from django.core.exceptions import ValidationError


@functools.cache
def _spdx():
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def normalise_licence(expression: str) -> str:
    """The SPDX expression in canonical form ('' stays ''); ValidationError naming unknown ids."""
    expression = expression.strip()
    if not expression:
        return ""
    from license_expression import ExpressionError

    try:
        info = _spdx().validate(expression)
    except (ExpressionError, AttributeError):
        # validate() reports most problems in `info`, but raises on characters no licence id
        # may hold (found by tests/registry/api/test_schemathesis.py); for some of those its own
        # error handling then fails with AttributeError (license-expression 30.4.4).
        raise ValidationError(
            f"'{expression}' is not a valid SPDX licence expression (e.g. 'MIT OR Apache-2.0').",
            code="invalid_licence",
        ) from None
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
    """(kind, normalised) for a URL, repository URL or bare domain; see `dedup.locations`.

    The rules live in `dedup.locations` so the offline filter normalises exactly as the
    registry does; here the engine's `InvalidLocation` becomes the form's ValidationError.
    Imported on use, like registry/engine.py does: importing `dedup` loads numpy and numba,
    which commands such as `migrate` do not need.
    """
    from dedup import locations

    try:
        return locations.normalise_location(raw)
    except locations.InvalidLocation as exc:
        raise ValidationError(str(exc), code="invalid_url") from None


def lookup_keys(raw: str) -> list[str]:
    """The normalised forms a URL can be registered under: itself, each parent path, its host.

    A file URL inside a registered repository (github.com/alice/proj/blob/main/x.py) finds the
    repository (github.com/alice/proj) and the domain; one indexed `IN` query serves all.
    """
    from dedup import locations

    return locations.parent_keys(normalise_location(raw)[1])
