"""How the authors' API answers errors: the services' ValidationErrors mapped to the API's
stable codes (registry/api/errors.py) and to the field each is about.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.request import Request

from registry.api.errors import ErrorCode
from registry.works.archives import format_size, is_archive_name
from registry.works.validation import normalise_licence


class ApiError(Exception):
    """An error answer in the API's shape, raised from anywhere inside a view."""

    def __init__(self, code: ErrorCode, detail: str, **extra):
        super().__init__(detail)
        self.code, self.detail, self.extra = code, detail, extra


def messages_by_field(exc: DjangoValidationError, default_field: str) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for m in DjangoValidationError(errs).messages]
            for field, errs in exc.error_dict.items()
        }
    return {default_field: [str(m) for m in exc.messages]}


def invalid(exc: DjangoValidationError, default_field: str = "non_field_errors") -> ApiError:
    errors = messages_by_field(exc, default_field)
    return ApiError(ErrorCode.INVALID, f"The request has invalid fields: {', '.join(errors)}.", errors=errors)


# ArchiveError carries only its message (registry/works/archives.py), so the reason a program
# can branch on is read from it here; tests/registry/works/test_api.py pins each one.
_ARCHIVE_REASONS = (
    ("absolute path", "absolute_path"),
    ("leaves its folder", "path_traversal"),
    ("link", "link"),
    ("special file", "special_file"),
    ("zip bomb", "compression_ratio"),
    ("unpacks to", "unpacked_too_large"),
    ("files; the limit is", "too_many_files"),
    ("larger than its header says", "size_mismatch"),
    ("corrupt", "corrupt"),
)


def _archive_reason(message: str) -> str:
    return next((reason for needle, reason in _ARCHIVE_REASONS if needle in message), "rejected")


def upload_error(exc: DjangoValidationError, *, field: str, name: str, archive: bool) -> ApiError:
    """The API error for a `prepare_text` / `prepare_file` / `prepare_archive` ValidationError."""
    code = getattr(exc, "code", None)
    detail = " ".join(exc.messages)
    errors = {field: list(exc.messages)}
    if code == "too_large":
        big = ErrorCode.TEXT_TOO_LARGE if field == "text" else ErrorCode.FILE_TOO_LARGE
        return ApiError(big, detail, errors=errors)
    if code == "binary":
        return ApiError(ErrorCode.BINARY_FILE, detail, errors=errors)
    if code == "archive_empty":
        return ApiError(ErrorCode.ARCHIVE_REJECTED, detail, reason="no_text_files", errors=errors)
    if code == "archive":
        if not is_archive_name(name):
            return ApiError(ErrorCode.UNSUPPORTED_ARCHIVE, detail, errors=errors)
        if detail.startswith("The archive is "):  # over MAX_ARCHIVE_BYTES, before it was opened
            return ApiError(ErrorCode.FILE_TOO_LARGE, detail, errors=errors)
        return ApiError(ErrorCode.ARCHIVE_REJECTED, detail, reason=_archive_reason(detail), errors=errors)
    return invalid(exc, field)


def check_body_size(request: Request, limit: int, code: ErrorCode, what: str) -> None:
    """Refuse a body over `limit` from its Content-Length, before reading any of it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise ApiError(
            code, f"The {what} is {format_size(length)}; the limit is {format_size(limit)}.", limit=limit
        )


def licence_or_error(value: str) -> str:
    try:
        return normalise_licence(value)
    except DjangoValidationError as exc:
        raise ApiError(
            ErrorCode.INVALID_LICENCE, " ".join(exc.messages), errors={"licence": exc.messages}
        ) from None
