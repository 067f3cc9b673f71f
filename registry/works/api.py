"""The authors' API under /api/v1/: register works, read their state, state preferences.

Every endpoint acts on the caller's own works only -- a work of someone else is a 404, exactly
as on the web pages -- and is open to a personal API key with the ``author`` scope or to a
logged-in session (DRF's session authentication, which enforces CSRF on writes).

Validation is the web forms' validation: the text, file and archive go through
`registry.works.services.prepare_*`, the metadata through `registry.works.validation`, the
preferences through `registry.preferences.services.preference_set`; this module only maps the
services' `ValidationError` codes to the API's stable error codes (`registry.api.errors`) and
to the field they are about.

    GET    /api/v1/works                         the caller's works (?include=documents)
    POST   /api/v1/works                         register: JSON with "text", or multipart "file"
    GET    /api/v1/works/fingerprints            what a client must fingerprint with (engine params)
    POST   /api/v1/works/fingerprints            register from fingerprints only (no text)
    GET    /api/v1/works/<id>                    one work (?include=text for its kept texts)
    DELETE /api/v1/works/<id>                    delete it with its documents and history
    GET    /api/v1/works/<id>/preferences        current, effective and history
    PATCH  /api/v1/works/<id>/preferences        {"values": {"train-ai": "no"}, "note": "..."}
    GET    /api/v1/preferences/defaults          the author's defaults, effective and history
    PATCH  /api/v1/preferences/defaults          as for a work
"""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from registry import engine
from registry.api.base import ApiView
from registry.api.errors import ErrorCode, error_response
from registry.apikeys.authentication import ApiKeyAuthentication
from registry.apikeys.permissions import HasScope
from registry.preferences import selectors as preference_selectors
from registry.preferences import vocabulary
from registry.preferences.services import preference_set
from registry.works import api_errors, fingerprint_uploads, selectors, services
from registry.works.api_serializers import (
    EngineParamsOutput,
    FingerprintRegisterInput,
    PreferencesOutput,
    PreferencesPatchInput,
    WorkListOutput,
    WorkOutput,
    WorkRegisterInput,
    decision_dict,
    statement_dict,
)
from registry.works.archives import format_size, is_archive_name
from registry.works.models import Document, Work

# How much bigger than the text itself a JSON body may be: JSON escapes a control character
# as six bytes (\u0001), so this covers any text under the text limit however it is escaped.
JSON_ESCAPE_FACTOR = 6
# Multipart framing and the metadata fields around the file.
MULTIPART_OVERHEAD = 1024 * 1024
# A fingerprint upload is about five times the size of the source it describes (every shingle
# and winnowing hash, in base64), so 64 MB registers about 13 MB of source in one work.
DEFAULT_MAX_FINGERPRINT_BODY_BYTES = 64 * 1024 * 1024


class IsAuthor(HasScope("author")):
    """A personal key with the ``author`` scope, or a person logged in on the site."""

    def has_permission(self, request, view) -> bool:
        if request.auth is None and request.user.is_authenticated and request.user.pk is not None:
            return True
        return super().has_permission(request, view)


class AuthorApiView(ApiView):
    # A key first: a program sends one. The session second, for the author's own browser
    # scripts; DRF's SessionAuthentication enforces CSRF on every unsafe method.
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthor]

    def handle_exception(self, exc):
        if isinstance(exc, api_errors.ApiError):
            return error_response(exc.code, exc.detail, **exc.extra)
        return super().handle_exception(exc)


def _validated(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _include(request: Request) -> set[str]:
    return {part.strip() for part in request.query_params.get("include", "").split(",") if part.strip()}


# --- what the endpoints answer ----------------------------------------------------------------


def _document_row(doc: Document, *, with_text: bool) -> dict:
    row = {
        "path": doc.path,
        "language": doc.language,
        "state": doc.state,
        "error": doc.error,
        "size_bytes": doc.size_bytes,
        "encoding": doc.encoding,
        "num_lines": doc.num_lines,
        "num_tokens": doc.num_tokens,
        "fingerprinted_at": doc.fingerprinted_at,
    }
    if with_text:
        row["text"] = doc.text  # None for fingerprints-only storage: the registry has no text
    return row


# What the document rows need; never the fingerprint, never a text unless asked for.
_DOCUMENT_COLUMNS = (
    "work_id", "path", "language", "state", "error", "size_bytes", "encoding", "num_lines", "num_tokens",
    "fingerprinted_at",
)  # fmt: skip


def _documents(work: Work, *, with_text: bool) -> list[dict]:
    columns = (*_DOCUMENT_COLUMNS, "text") if with_text else _DOCUMENT_COLUMNS
    return [_document_row(doc, with_text=with_text) for doc in work.documents.only(*columns).order_by("path")]


def work_data(work: Work, *, with_text: bool = False) -> dict:
    """A work as its owner sees it (the detail endpoint and the answer to a registration)."""
    state, reasons = selectors.work_state(work)
    counts = work.documents.aggregate(
        total=Count("id"),
        pending=Count("id", filter=Q(state=Document.State.PENDING)),
        ready=Count("id", filter=Q(state=Document.State.READY)),
        failed=Count("id", filter=Q(state=Document.State.FAILED)),
    )
    effective = preference_selectors.effective_preferences(work)
    return {
        **_summary(work, state, counts),
        "reasons": reasons,
        "locations": [loc.url for loc in work.locations.all()],
        "preferences": {key: decision_dict(d) for key, d in effective.items()},
        "import_report": work.import_report,
        "documents": _documents(work, with_text=with_text),
    }


def _summary(work: Work, state: str, counts: dict) -> dict:
    return {
        "id": work.public_id,
        "title": work.title,
        "kind": work.kind,
        "language": work.language,
        "licence": work.licence,
        "attribution": work.attribution,
        "storage": work.storage,
        "source": work.source,
        "state": state,
        "documents_count": counts,
        "created_at": work.created_at,
        "updated_at": work.updated_at,
    }


def _preferences_data(*, owner, work: Work | None) -> dict:
    if work is not None:
        effective = preference_selectors.effective_preferences(work)
    else:
        effective = preference_selectors.default_preferences(owner=owner)
    return {
        "work": work.public_id if work is not None else None,
        "values": preference_selectors.current_values(owner=owner, work=work),
        "effective": {key: decision_dict(d) for key, d in effective.items()},
        "history": [
            statement_dict(s) for s in preference_selectors.preference_history(owner=owner, work=work)[:500]
        ],
    }


_INCLUDE_DOCUMENTS = OpenApiParameter(
    "include", OpenApiTypes.STR, description="`documents`: each work's documents and their states."
)
_INCLUDE_TEXT = OpenApiParameter(
    "include", OpenApiTypes.STR, description="`text`: the kept text of each document (yours only)."
)
_TOO_LARGE = OpenApiResponse(description="Error (`payload_too_large`, `text_too_large`, `file_too_large`).")


# --- works ------------------------------------------------------------------------------------


class WorksApi(AuthorApiView):
    """The caller's works; registering a new one."""

    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        operation_id="works_list",
        summary="List my works",
        parameters=[_INCLUDE_DOCUMENTS],
        responses={200: WorkListOutput},
        tags=["works"],
    )
    def get(self, request: Request) -> Response:
        works = list(selectors.work_list(owner=request.user))
        with_documents = "documents" in _include(request)
        documents: dict[int, list] = {w.pk: [] for w in works}
        if with_documents:
            for doc in Document.objects.filter(work__in=works).only(*_DOCUMENT_COLUMNS).order_by("path"):
                documents[doc.work_id].append(_document_row(doc, with_text=False))
        rows = []
        for work in works:
            counts = {
                "total": work.n_documents,
                "pending": work.n_pending,
                "ready": work.n_documents - work.n_pending - work.n_failed,
                "failed": work.n_failed,
            }
            state = selectors.state_of(
                n_documents=work.n_documents, n_pending=work.n_pending, n_failed=work.n_failed
            )
            row = _summary(work, state, counts)
            if with_documents:
                row["documents"] = documents[work.pk]
            rows.append(row)
        return Response(WorkListOutput({"works": rows}).data)

    @extend_schema(
        operation_id="works_register",
        summary="Register a work from a text (JSON) or a file or archive (multipart)",
        request={"application/json": WorkRegisterInput, "multipart/form-data": WorkRegisterInput},
        responses={201: WorkOutput, 413: _TOO_LARGE},
        tags=["works"],
    )
    def post(self, request: Request) -> Response:
        limits = settings.REGISTRY
        if request.content_type.startswith("multipart/"):
            api_errors.check_body_size(
                request,
                max(limits["MAX_ARCHIVE_BYTES"], limits["MAX_FILE_BYTES"]) + MULTIPART_OVERHEAD,
                ErrorCode.FILE_TOO_LARGE,
                "upload",
            )
        else:
            api_errors.check_body_size(
                request,
                JSON_ESCAPE_FACTOR * limits["MAX_TEXT_BYTES"] + MULTIPART_OVERHEAD,
                ErrorCode.PAYLOAD_TOO_LARGE,
                "request body",
            )
        data = _validated(WorkRegisterInput, request.data)
        licence = api_errors.licence_or_error(data["licence"])
        prepared, source = self._prepare(data)
        try:
            work = services.work_register(
                owner=request.user,
                title=data["title"],
                kind=data["kind"],
                source=source,
                prepared=prepared,
                language=data["language"],
                licence=licence,
                attribution=data["attribution"],
                locations=data["locations"],
                storage=data["storage"],
                preferences=data.get("preferences") or None,
            )
        except DjangoValidationError as exc:
            raise api_errors.invalid(exc) from None
        return Response(WorkOutput(work_data(work)).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _prepare(data: dict):
        text, upload = data.get("text") or "", data.get("file")
        if text.strip() and upload:
            raise api_errors.ApiError(
                ErrorCode.INVALID,
                "Send a text or a file, not both.",
                errors={"non_field_errors": ["Send a text or a file, not both."]},
            )
        if upload is None and not text.strip():
            message = "Send a text (JSON) or upload a file or archive (multipart, field 'file')."
            if text:  # only whitespace: the service's own words
                message = "The text is empty."
            raise api_errors.ApiError(
                ErrorCode.INVALID, "The request has invalid fields: text.", errors={"text": [message]}
            )
        if upload is None:
            try:
                return services.prepare_text(text=text, name=data["name"] or "text"), Work.Source.TEXT
            except DjangoValidationError as exc:
                raise api_errors.upload_error(exc, field="text", name="", archive=False) from None
        name = upload.name or "upload"
        archive = data.get("source") == "archive" or (not data.get("source") and is_archive_name(name))
        try:
            if archive:
                prepared = services.prepare_archive(name=name, fileobj=upload, size=upload.size)
                return prepared, Work.Source.ARCHIVE
            limit = settings.REGISTRY["MAX_FILE_BYTES"]
            if upload.size > limit:  # as the form does: refuse before reading it into memory
                raise DjangoValidationError(
                    f"The file is {format_size(upload.size)}; the limit is {format_size(limit)}.",
                    code="too_large",
                )
            return services.prepare_file(name=name, data=upload.read()), Work.Source.FILE
        except DjangoValidationError as exc:
            raise api_errors.upload_error(exc, field="file", name=name, archive=archive) from None


class WorkApi(AuthorApiView):
    """One of the caller's works."""

    @extend_schema(
        operation_id="works_get",
        summary="Get one of my works with its documents' fingerprint states",
        parameters=[_INCLUDE_TEXT],
        responses={200: WorkOutput},
        tags=["works"],
    )
    def get(self, request: Request, public_id: str) -> Response:
        work = selectors.work_get_for_owner(owner=request.user, public_id=public_id)
        # Texts leave the registry only here, and only to the work's owner (the lookup above).
        with_text = "text" in _include(request)
        return Response(WorkOutput(work_data(work, with_text=with_text)).data)

    @extend_schema(
        operation_id="works_delete", summary="Delete one of my works", responses={204: None}, tags=["works"]
    )
    def delete(self, request: Request, public_id: str) -> Response:
        work = selectors.work_get_for_owner(owner=request.user, public_id=public_id)
        services.work_delete(work=work, owner=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FingerprintsApi(AuthorApiView):
    """Registration by fingerprints: the parameters to use, and the upload."""

    @extend_schema(
        operation_id="works_fingerprint_params",
        summary="The engine parameters a client must fingerprint with, and the upload limits",
        responses={200: EngineParamsOutput},
        tags=["works"],
    )
    def get(self, request: Request) -> Response:
        return Response(EngineParamsOutput(engine_params()).data)

    @extend_schema(
        operation_id="works_register_fingerprints",
        summary="Register a work from fingerprints made on your machine (no text is sent)",
        request=FingerprintRegisterInput,
        responses={201: WorkOutput, 413: _TOO_LARGE},
        tags=["works"],
    )
    def post(self, request: Request) -> Response:
        api_errors.check_body_size(
            request, max_fingerprint_body_bytes(), ErrorCode.PAYLOAD_TOO_LARGE, "request body"
        )
        data = _validated(FingerprintRegisterInput, request.data)
        licence = api_errors.licence_or_error(data["licence"])
        documents = []
        for i, doc in enumerate(data["documents"]):
            try:
                blob = base64.b64decode(doc["fingerprint"], validate=True)
            except (binascii.Error, ValueError):
                raise api_errors.ApiError(
                    ErrorCode.INVALID_FINGERPRINT,
                    f"{doc['path']}: the fingerprint is not valid base64.",
                    path=doc["path"],
                    index=i,
                ) from None
            documents.append(
                fingerprint_uploads.FingerprintInput(
                    path=doc["path"], fingerprint=blob, language=doc["language"], size_bytes=doc["size_bytes"]
                )
            )
        try:
            work = fingerprint_uploads.work_register_fingerprints(
                owner=request.user,
                title=data["title"],
                kind=data["kind"],
                documents=documents,
                licence=licence,
                attribution=data["attribution"],
                locations=data["locations"],
                preferences=data.get("preferences") or None,
                skipped=data["skipped"],
            )
        except fingerprint_uploads.FingerprintRejected as exc:
            extra = {"path": exc.path}
            if exc.parameter is not None:
                extra.update(parameter=exc.parameter, expected=exc.expected, got=exc.got)
            raise api_errors.ApiError(ErrorCode(exc.code), str(exc), **extra) from None
        except DjangoValidationError as exc:
            raise api_errors.invalid(exc) from None
        return Response(WorkOutput(work_data(work)).data, status=status.HTTP_201_CREATED)


def max_fingerprint_body_bytes() -> int:
    """REGISTRY["MAX_FINGERPRINT_UPLOAD_BYTES"] if set, else the API's body limit for every endpoint."""
    conf = settings.REGISTRY
    return conf.get("MAX_FINGERPRINT_UPLOAD_BYTES") or conf.get(
        "API_MAX_BODY_BYTES", DEFAULT_MAX_FINGERPRINT_BODY_BYTES
    )


def engine_params() -> dict:
    """What GET /api/v1/works/fingerprints answers: enough for a client to fingerprint as we do."""
    return {
        "engine": engine.engine_config().as_dict(),
        "fingerprint_params": {kind: engine.expected_fingerprint_params(kind) for kind in Work.Kind.values},
        "limits": {
            "max_documents": fingerprint_uploads.max_documents(),
            "max_file_bytes": settings.REGISTRY["MAX_FILE_BYTES"],
            "max_body_bytes": max_fingerprint_body_bytes(),
        },
    }


# --- preferences ------------------------------------------------------------------------------


class _PreferencesApi(AuthorApiView):
    def _work(self, request: Request, public_id: str | None) -> Work | None:
        return (
            None
            if public_id is None
            else selectors.work_get_for_owner(owner=request.user, public_id=public_id)
        )

    def _get(self, request: Request, public_id: str | None) -> Response:
        work = self._work(request, public_id)
        return Response(PreferencesOutput(_preferences_data(owner=request.user, work=work)).data)

    def _patch(self, request: Request, public_id: str | None) -> Response:
        work = self._work(request, public_id)
        data = _validated(PreferencesPatchInput, request.data)
        try:
            recorded = preference_set(owner=request.user, work=work, values=data["values"], note=data["note"])
        except DjangoValidationError as exc:
            raise api_errors.invalid(exc, "values") from None
        body = _preferences_data(owner=request.user, work=work)
        body["recorded"] = [statement_dict(s) for s in recorded]
        return Response(PreferencesOutput(body).data)


_VOCABULARY = ", ".join(vocabulary.KEYS)


class WorkPreferencesApi(_PreferencesApi):
    # Each view declares its own methods: extend_schema marks the function it decorates, so a
    # method shared between two views would carry the last view's documentation.
    @extend_schema(
        operation_id="works_preferences_get",
        summary="A work's preferences: current, effective (with reasons) and history",
        responses={200: PreferencesOutput},
        tags=["preferences"],
    )
    def get(self, request: Request, public_id: str) -> Response:
        return self._get(request, public_id)

    @extend_schema(
        operation_id="works_preferences_set",
        summary=f"State preferences for a work ({_VOCABULARY}: yes, no or unset)",
        request=PreferencesPatchInput,
        responses={200: PreferencesOutput},
        tags=["preferences"],
    )
    def patch(self, request: Request, public_id: str) -> Response:
        return self._patch(request, public_id)


class DefaultPreferencesApi(_PreferencesApi):
    @extend_schema(
        operation_id="preferences_defaults_get",
        summary="My default preferences (for all my works): current, effective and history",
        responses={200: PreferencesOutput},
        tags=["preferences"],
    )
    def get(self, request: Request) -> Response:
        return self._get(request, None)

    @extend_schema(
        operation_id="preferences_defaults_set",
        summary=f"State my default preferences ({_VOCABULARY}: yes, no or unset)",
        request=PreferencesPatchInput,
        responses={200: PreferencesOutput},
        tags=["preferences"],
    )
    def patch(self, request: Request) -> Response:
        return self._patch(request, None)
