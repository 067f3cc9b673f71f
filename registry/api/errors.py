"""Every API error as JSON: `{"code": "<stable code>", "detail": "<human text>", ...}`.

`ERRORS` below is the one list of codes a client may see; the OpenAPI description is built
from it (registry/api/schema.py), so the documentation cannot drift from the handler. A code,
once published, never changes meaning; add new ones instead.

`exception_handler` is REST_FRAMEWORK["EXCEPTION_HANDLER"]. It maps DRF's and Django's
exceptions to codes, keeps DRF's headers (WWW-Authenticate, Retry-After, Allow), and turns any
other exception into a logged 500 `server_error` JSON body instead of Django's HTML page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    MALFORMED_JSON = "malformed_json"
    MALFORMED_REQUEST = "malformed_request"
    INVALID = "invalid"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_KEY = "invalid_key"
    REVOKED_KEY = "revoked_key"
    EXPIRED_KEY = "expired_key"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    # The authors' endpoints (registry/works/api.py).
    PAYLOAD_TOO_LARGE = "payload_too_large"
    TEXT_TOO_LARGE = "text_too_large"
    FILE_TOO_LARGE = "file_too_large"
    BINARY_FILE = "binary_file"
    ARCHIVE_REJECTED = "archive_rejected"
    UNSUPPORTED_ARCHIVE = "unsupported_archive"
    INVALID_LICENCE = "invalid_licence"
    INVALID_FINGERPRINT = "invalid_fingerprint"
    FINGERPRINT_PARAMS_MISMATCH = "fingerprint_params_mismatch"
    # The filter and lookup endpoints (registry/filtering/api.py).
    BATCH_TOO_LARGE = "batch_too_large"
    DOCUMENT_TOO_LARGE = "document_too_large"
    UNKNOWN_PURPOSE = "unknown_purpose"


@dataclass(frozen=True)
class ErrorInfo:
    status: int
    meaning: str


ERRORS: dict[ErrorCode, ErrorInfo] = {
    ErrorCode.MALFORMED_JSON: ErrorInfo(400, "The body is not valid JSON."),
    ErrorCode.MALFORMED_REQUEST: ErrorInfo(400, "The body cannot be parsed as its Content-Type says."),
    ErrorCode.INVALID: ErrorInfo(400, "Some fields are wrong; `errors` maps each field to its messages."),
    ErrorCode.NOT_AUTHENTICATED: ErrorInfo(401, "No API key was sent."),
    ErrorCode.INVALID_KEY: ErrorInfo(401, "The API key is unknown or malformed."),
    ErrorCode.REVOKED_KEY: ErrorInfo(401, "The API key was revoked."),
    ErrorCode.EXPIRED_KEY: ErrorInfo(401, "The API key has expired."),
    ErrorCode.INSUFFICIENT_SCOPE: ErrorInfo(403, "The key's scope does not allow this endpoint."),
    ErrorCode.PERMISSION_DENIED: ErrorInfo(403, "The key may not act on this object."),
    ErrorCode.NOT_FOUND: ErrorInfo(404, "No such endpoint or object."),
    ErrorCode.METHOD_NOT_ALLOWED: ErrorInfo(405, "The endpoint does not accept this HTTP method."),
    ErrorCode.NOT_ACCEPTABLE: ErrorInfo(406, "The API answers only application/json."),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: ErrorInfo(415, "The body's Content-Type is not accepted."),
    ErrorCode.RATE_LIMITED: ErrorInfo(429, "The key's per-minute limit is used up; see Retry-After."),
    ErrorCode.SERVER_ERROR: ErrorInfo(500, "A bug on our side; it has been logged."),
    ErrorCode.PAYLOAD_TOO_LARGE: ErrorInfo(413, "The request body is over the endpoint's size limit."),
    ErrorCode.TEXT_TOO_LARGE: ErrorInfo(413, "The text to register is over the size limit."),
    ErrorCode.FILE_TOO_LARGE: ErrorInfo(413, "The uploaded file or archive is over the size limit."),
    ErrorCode.BINARY_FILE: ErrorInfo(400, "The uploaded file is not text."),
    ErrorCode.ARCHIVE_REJECTED: ErrorInfo(400, "The archive is unsafe or unusable; `reason` says why."),
    ErrorCode.UNSUPPORTED_ARCHIVE: ErrorInfo(400, "Not a .zip, .tar.gz or .tgz archive."),
    ErrorCode.INVALID_LICENCE: ErrorInfo(400, "The licence is not a valid SPDX expression."),
    ErrorCode.INVALID_FINGERPRINT: ErrorInfo(400, "A fingerprint cannot be read; `path` names it."),
    ErrorCode.FINGERPRINT_PARAMS_MISMATCH: ErrorInfo(
        400, "A fingerprint was made with other engine parameters; `parameter`, `expected`, `got`."
    ),
    ErrorCode.BATCH_TOO_LARGE: ErrorInfo(413, "More documents or items than one call takes; see the limit."),
    ErrorCode.DOCUMENT_TOO_LARGE: ErrorInfo(
        413, "A document's text is over the size limit; the detail names the document."
    ),
    ErrorCode.UNKNOWN_PURPOSE: ErrorInfo(400, "The purpose is not a usage category; the detail lists them."),
}

# Codes DRF itself attaches to the exceptions it raises, and ours from apikeys.authentication
# and apikeys.permissions, to the code a client sees.
_BY_DRF_CODE = {
    "not_authenticated": ErrorCode.NOT_AUTHENTICATED,
    "authentication_failed": ErrorCode.INVALID_KEY,
    "invalid_key": ErrorCode.INVALID_KEY,
    "revoked_key": ErrorCode.REVOKED_KEY,
    "expired_key": ErrorCode.EXPIRED_KEY,
    "insufficient_scope": ErrorCode.INSUFFICIENT_SCOPE,
    "permission_denied": ErrorCode.PERMISSION_DENIED,
}
_BY_EXCEPTION: list[tuple[type[Exception], ErrorCode]] = [
    (exceptions.NotFound, ErrorCode.NOT_FOUND),
    (exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (exceptions.NotAcceptable, ErrorCode.NOT_ACCEPTABLE),
    (exceptions.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    (exceptions.Throttled, ErrorCode.RATE_LIMITED),
    (exceptions.NotAuthenticated, ErrorCode.NOT_AUTHENTICATED),
]


def error_response(code: ErrorCode, detail: str, *, headers=None, **extra) -> Response:
    """A response in the error shape, for views that answer an error without raising."""
    body = {"code": str(code), "detail": detail, **extra}
    return Response(body, status=ERRORS[code].status, headers=headers)


def _text(detail) -> str:
    if isinstance(detail, list | tuple):
        return " ".join(_text(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(_text(d) for d in detail.values())
    return str(detail)


def _single_code(exc: exceptions.APIException) -> str | None:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else None


def _validation_errors(detail) -> dict:
    if isinstance(detail, dict):
        return detail
    return {api_settings.NON_FIELD_ERRORS_KEY: detail if isinstance(detail, list) else [detail]}


def _rate_limited_detail(exc: exceptions.Throttled, request) -> str:
    from registry.apikeys.models import ApiKey  # the API package must not need apikeys at import

    key = getattr(request, "auth", None)
    wait = exc.wait if exc.wait is not None else 60
    if isinstance(key, ApiKey):
        return (
            f"Rate limit of {key.rate_limit_per_minute} requests per minute exceeded for key "
            f"'{key.name}'; retry after {wait} seconds."
        )
    return f"Too many requests; retry after {wait} seconds."


def classify(exc: exceptions.APIException, request=None) -> tuple[str, str, dict]:
    """The code, detail and extra fields for a DRF exception.

    An APIException subclass raised by a later endpoint that nobody mapped keeps its own
    `default_code`: add it to ERRORS when it becomes part of the API.
    """
    if isinstance(exc, exceptions.ValidationError):
        errors = _validation_errors(exc.detail)
        fields = ", ".join(errors)
        return ErrorCode.INVALID, f"The request has invalid fields: {fields}.", {"errors": errors}
    if isinstance(exc, exceptions.ParseError):
        text = _text(exc.detail)
        content_type = getattr(request, "content_type", "") or ""
        if "json" in content_type.lower() or text.startswith("JSON parse error"):
            return ErrorCode.MALFORMED_JSON, f"The body is not valid JSON: {text}", {}
        return ErrorCode.MALFORMED_REQUEST, text, {}
    if isinstance(exc, exceptions.Throttled):
        return ErrorCode.RATE_LIMITED, _rate_limited_detail(exc, request), {"retry_after": exc.wait}
    code = _BY_DRF_CODE.get(_single_code(exc) or "")
    if code is None:
        code = next((c for cls, c in _BY_EXCEPTION if isinstance(exc, cls)), None)
    if code is None:
        code = ErrorCode.PERMISSION_DENIED if exc.status_code == 403 else (_single_code(exc) or "error")
    return str(code), _text(exc.detail), {}


def exception_handler(exc: Exception, context: dict) -> Response:
    request = context.get("request")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    # DRF's own handler sets the headers: WWW-Authenticate, Retry-After, Allow (via the view).
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("Unhandled error in API view %s", type(view).__name__ if view else "?", exc_info=exc)
        return error_response(
            ErrorCode.SERVER_ERROR,
            "Something went wrong on our side; it has been logged. Please retry later.",
        )
    code, detail, extra = classify(exc, request)
    response.data = {"code": code, "detail": detail, **extra}
    return response
