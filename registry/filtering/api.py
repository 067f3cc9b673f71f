"""The dataset builders' API: decide for a batch of documents, or for locations before download.

    POST /api/v1/filter   {"purpose": "train-genai", "documents": [{"text": "...", "id": "...",
                           "url": "...", "repository": "...", "language": "...", "kind": "code"}]}
                          -> {"purpose", "results": [{"index", "id", "decision", "reasons": [...]}]}
    POST /api/v1/lookup   {"items": ["https://github.com/alice/proj/blob/main/x.py", "example.org"],
                           "purpose": "train-ai" (optional)}
                          -> {"purpose", "results": [{"index", "item", "normalised", "error",
                              "decision", "works": [...]}]}

Open to an API key with the ``filter`` scope, or to a logged-in person (the browsable API;
DRF's session authentication enforces CSRF). The answers never hold registered text: a match is
reported by the work's metadata, the similarity and the line ranges in the *caller's* document.

Checks run in this order, each with its own error code, so a client learns the most useful
thing first: the body size (`payload_too_large`), the batch size (`batch_too_large`), the
purpose (`unknown_purpose`), the fields' types (`invalid`), each text's size
(`document_too_large`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from registry.api.base import ApiView
from registry.api.errors import ERRORS, ErrorCode
from registry.apikeys.authentication import ApiKeyAuthentication
from registry.apikeys.permissions import HasScope
from registry.filtering import selectors
from registry.filtering.inputs import encodable, valid_filter_input
from registry.preferences import vocabulary
from registry.works.archives import format_size
from registry.works.models import Work

# The same tuples as dedup.policy (tests/registry/filtering/test_api.py checks): spelled out so
# loading the URL map does not import the engine (numpy, numba), as registry/engine.py explains.
PURPOSES = vocabulary.USAGE_CATEGORIES
DECISIONS = ("allow", "attribute", "exclude")
MATCH_KINDS = ("exact", "near-duplicate", "snippet", "location")

# --- errors -------------------------------------------------------------------------------------


class FilterError(exceptions.APIException):
    """An error with one of the codes in registry/api/errors.py (the handler keeps the code)."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        self.status_code = ERRORS[code].status
        super().__init__(detail=detail, code=str(code))


def _validated(
    request: Request, input_class, field: str, limit_setting: str, *, purpose_required: bool, fast=None
) -> dict:
    """The request's input as the serializer's `validated_data`, after the checks that give their
    own error codes (body size, batch size, purpose), which come first so a huge batch is refused
    before it is read field by field.

    `fast(data)`, when given, answers valid input without the serializer (registry/filtering/
    inputs.py); None from it runs the serializer, which words the errors.
    """
    _check_body_size(request)
    data = request.data
    _check_batch(data, field, settings.REGISTRY[limit_setting], field)
    _check_purpose(data, required=purpose_required)
    if fast is not None and (validated := fast(data)) is not None:
        return validated
    serializer = input_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _check_body_size(request: Request) -> None:
    """Refuse a body over REGISTRY["API_MAX_BODY_BYTES"] from its Content-Length, unread."""
    limit = settings.REGISTRY["API_MAX_BODY_BYTES"]
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise FilterError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"The request body is {format_size(length)}; the limit is {format_size(limit)}. "
            f"Send the documents in smaller batches.",
        )


def _check_batch(data, field: str, limit: int, what: str) -> None:
    if isinstance(data, dict) and isinstance(data.get(field), list) and len(data[field]) > limit:
        raise FilterError(
            ErrorCode.BATCH_TOO_LARGE,
            f"The call has {len(data[field])} {what}; the limit is {limit} per call. Split the batch.",
        )


def _check_purpose(data, *, required: bool) -> None:
    purpose = data.get("purpose") if isinstance(data, dict) else None
    if isinstance(purpose, str) and (purpose or required) and purpose not in PURPOSES:
        raise FilterError(
            ErrorCode.UNKNOWN_PURPOSE,
            f"Unknown purpose {purpose!r}; the purposes are: {', '.join(PURPOSES)}.",
        )


# --- input fields -------------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else (DRF's CharField would turn 5 into "5").

    NUL characters are allowed, unlike DRF's default (PostgreSQL text cannot hold them): what a
    caller sends here is never stored, and one stray NUL in a scraped file should not fail a
    whole batch.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # DRF's surrogate check goes too: it reads the text one character at a time in Python
        # (about 100 ms of a 100-document filter call) and cannot fail here, since
        # to_internal_value has already replaced lone surrogates (validators run after it).
        dropped = (ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator)
        self.validators = [v for v in self.validators if not isinstance(v, dropped)]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return encodable(super().to_internal_value(data))


class DocumentTextField(StrictCharField):
    """A document's text as sent: not trimmed, empty allowed."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, allow_blank=True, **kwargs)


def _optional(max_length: int, help_text: str) -> StrictCharField:
    return StrictCharField(
        required=False, allow_null=True, allow_blank=True, max_length=max_length, help_text=help_text
    )


@extend_schema_serializer(component_name="FilterDocument")
class DocumentInput(serializers.Serializer):
    text = DocumentTextField(help_text="The document's text. Used to match, never stored.")
    id = _optional(1000, "Your identifier for the document, echoed back.")
    url = _optional(8000, "Where the document came from; matched against registered URLs and domains.")
    repository = _optional(8000, "The repository it came from; matched against registered repositories.")
    licence = _optional(500, "The licence the document declares (informational).")
    language = _optional(
        32,
        "Programming language hint for code (python, javascript, ...); guessed from the url or id "
        "when absent. An unknown name reads the code with the generic tokenizer.",
    )
    kind = serializers.ChoiceField(
        choices=Work.Kind.choices,  # the same choice set as the works API: one enum in the schema
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Read the text as code or prose only; by default both are tried.",
    )


# DocumentInput's optional text fields and their limits, for the plain-Python reading of a call.
_OPTIONAL_LIMITS = {
    name: field.max_length
    for name, field in DocumentInput().fields.items()
    if isinstance(field, StrictCharField) and not isinstance(field, DocumentTextField)
}


def fast_filter_input(data) -> dict | None:
    """A valid filter call's input without the serializer, or None (see inputs.py)."""
    return valid_filter_input(data, purposes=PURPOSES, optional=_OPTIONAL_LIMITS)


# --- output shapes (documentation: the views build plain dicts, dedup.policy's to_dict) --------


@extend_schema_serializer(component_name="MatchedWork")
class WorkOutput(serializers.Serializer):
    id = serializers.CharField(help_text="The work's public id.")
    title = serializers.CharField()
    owner = serializers.CharField(help_text="The owner's public name.")
    licence = serializers.CharField(help_text="SPDX expression, or empty.")
    attribution = serializers.CharField(help_text="What users of the work should show, or empty.")


@extend_schema_serializer(component_name="DecidingPreference")
class PreferenceOutput(serializers.Serializer):
    key = serializers.ChoiceField(choices=list(vocabulary.KEYS), help_text="The purpose, or `attribution`.")
    value = serializers.ChoiceField(choices=list(vocabulary.VALUES))
    statement = serializers.CharField(help_text="The sentence naming the statement that decided.")


@extend_schema_serializer(component_name="MatchEvidence")
class EvidenceOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=list(MATCH_KINDS))
    scope = serializers.ChoiceField(
        choices=["document", "snippet", "location"],
        help_text="`document`: the whole document matches; `snippet`: a part; `location`: a location rule.",
    )
    estimated = serializers.FloatField(
        allow_null=True, help_text="Estimated similarity (null for a location)."
    )
    verified = serializers.FloatField(allow_null=True, help_text="Verified similarity (null for a location).")
    lines = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        help_text="1-based inclusive line ranges in YOUR document.",
    )
    matched_chars = serializers.IntegerField(help_text="Non-whitespace characters of your document covered.")
    location = serializers.CharField(allow_null=True, help_text="The registered location that applied.")


@extend_schema_serializer(component_name="FilterReason")
class ReasonOutput(serializers.Serializer):
    work = WorkOutput()
    decision = serializers.ChoiceField(choices=list(DECISIONS), help_text="What this work alone decides.")
    preference = PreferenceOutput()
    attribution_required = serializers.BooleanField()
    matches = EvidenceOutput(many=True)


@extend_schema_serializer(component_name="FilterResult")
class FilterResultOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="The document's position in the request.")
    id = serializers.CharField(allow_null=True, help_text="Your id, if you sent one.")
    decision = serializers.ChoiceField(choices=list(DECISIONS))
    reasons = ReasonOutput(many=True, help_text="Every matched work, the most restrictive first.")


@extend_schema_serializer(component_name="LookupPreference")
class LookupPreferenceOutput(serializers.Serializer):
    value = serializers.ChoiceField(choices=list(vocabulary.VALUES))
    statement = serializers.CharField()


@extend_schema_serializer(component_name="LookupWork")
class LookupWorkOutput(serializers.Serializer):
    work = WorkOutput()
    location = serializers.CharField(
        help_text="The registered location: the item, a parent path or its domain."
    )
    decision = serializers.ChoiceField(choices=list(DECISIONS), allow_null=True)
    attribution_required = serializers.BooleanField()
    preferences = serializers.DictField(
        child=LookupPreferenceOutput(), help_text="The effective preference for every vocabulary key."
    )


@extend_schema_serializer(component_name="LookupResult")
class LookupResultOutput(serializers.Serializer):
    index = serializers.IntegerField()
    item = serializers.CharField()
    normalised = serializers.CharField(allow_null=True)
    error = serializers.CharField(
        allow_null=True, help_text="Why the item is not a URL, repository or domain."
    )
    decision = serializers.ChoiceField(
        choices=list(DECISIONS), allow_null=True, help_text="For the purpose; null without one."
    )
    works = LookupWorkOutput(many=True)


# --- views --------------------------------------------------------------------------------------


class IsBuilder(HasScope("filter")):
    """A key with the ``filter`` scope, or a person logged in on the site (the browsable API)."""

    def has_permission(self, request, view) -> bool:
        if request.auth is None and request.user.is_authenticated and request.user.pk is not None:
            return True
        return super().has_permission(request, view)


class BuilderApiView(ApiView):
    # A key first (programs); the session second, for a person trying the API in the browser.
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsBuilder]

    def caller_ids(self, request: Request) -> set[int]:
        if request.auth is not None:
            return selectors.caller_user_ids(api_key=request.auth)
        return selectors.caller_user_ids(user=request.user)


_LIMITS = OpenApiResponse(description="Error (`payload_too_large`, `batch_too_large`, `document_too_large`).")


class FilterApi(BuilderApiView):
    """Decide, for each document of a batch, whether it may be used for a purpose."""

    @extend_schema_serializer(component_name="Filter")
    class Input(serializers.Serializer):
        purpose = serializers.ChoiceField(choices=list(PURPOSES), help_text="The use you intend.")
        documents = DocumentInput(
            many=True, help_text='Up to REGISTRY["FILTER_MAX_BATCH"] (1,000 by default) documents.'
        )

    @extend_schema_serializer(component_name="FilterResponse")
    class Output(serializers.Serializer):
        purpose = serializers.ChoiceField(choices=list(PURPOSES))
        results = FilterResultOutput(many=True, help_text="One per document, in request order.")

    @extend_schema(
        operation_id="filter",
        summary="Filter a batch of documents",
        request=Input,
        responses={200: Output, 413: _LIMITS},
        tags=["filter"],
    )
    def post(self, request: Request) -> Response:
        validated = _validated(
            request, self.Input, "documents", "FILTER_MAX_BATCH", purpose_required=True,
            fast=fast_filter_input,
        )  # fmt: skip
        purpose = validated["purpose"]
        documents = validated["documents"]
        limit = settings.REGISTRY["MAX_TEXT_BYTES"]
        for index, doc in enumerate(documents):
            size = len(doc["text"].encode("utf-8"))
            if size > limit:
                raise FilterError(
                    ErrorCode.DOCUMENT_TOO_LARGE,
                    f"documents[{index}].text is {format_size(size)}; the limit is {format_size(limit)} "
                    f"per document.",
                )
        batch = [
            selectors.FilterDocument(
                text=doc["text"],
                id=doc.get("id"),
                url=doc.get("url") or None,
                repository=doc.get("repository") or None,
                language=(doc.get("language") or "").lower() or None,
                kind=doc.get("kind") or None,
            )
            for doc in documents
        ]
        verdicts = selectors.filter_documents(
            documents=batch, purpose=purpose, caller_ids=self.caller_ids(request)
        )
        results = [
            {"index": index, "id": doc.id, **verdict.to_dict()}
            for index, (doc, verdict) in enumerate(zip(batch, verdicts, strict=True))
        ]
        return Response({"purpose": purpose, "results": results})


class LookupApi(BuilderApiView):
    """What applies at URLs, repositories and domains, before downloading anything."""

    @extend_schema_serializer(component_name="Lookup")
    class Input(serializers.Serializer):
        items = serializers.ListField(
            child=StrictCharField(max_length=8000, allow_blank=True),
            help_text='URLs, repository addresses or domains; up to REGISTRY["LOOKUP_MAX_BATCH"] (10,000).',
        )
        purpose = serializers.ChoiceField(
            choices=list(PURPOSES),
            required=False,
            allow_null=True,
            allow_blank=True,
            help_text="With a purpose, each item and work gets a decision.",
        )

    @extend_schema_serializer(component_name="LookupResponse")
    class Output(serializers.Serializer):
        purpose = serializers.ChoiceField(choices=list(PURPOSES), allow_null=True)
        results = LookupResultOutput(many=True, help_text="One per item, in request order.")

    @extend_schema(
        operation_id="lookup",
        summary="Look up locations",
        request=Input,
        responses={200: Output, 413: _LIMITS},
        tags=["filter"],
    )
    def post(self, request: Request) -> Response:
        validated = _validated(request, self.Input, "items", "LOOKUP_MAX_BATCH", purpose_required=False)
        purpose = validated.get("purpose") or None
        items = validated["items"]
        found = selectors.lookup_locations(items=items, purpose=purpose, caller_ids=self.caller_ids(request))
        results = [
            {
                "index": index,
                "item": result.item,
                "normalised": result.normalised,
                "error": result.error,
                "decision": result.decision,
                "works": [_lookup_work(match) for match in result.works],
            }
            for index, result in enumerate(found)
        ]
        return Response({"purpose": purpose, "results": results})


def _lookup_work(match: selectors.LookupMatch) -> dict:
    policy = match.policy
    preferences = {
        key: {"value": policy.value_for(key), "statement": policy.reasons.get(key, "")}
        for key in vocabulary.KEYS
    }
    return {
        "work": {
            "id": policy.work_id,
            "title": policy.title,
            "owner": policy.owner_name,
            "licence": policy.licence,
            "attribution": policy.attribution,
        },
        "location": match.location,
        "decision": match.decision,
        "attribution_required": policy.attribution_required,
        "preferences": preferences,
    }
