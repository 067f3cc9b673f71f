"""Input and output serializers of the authors' API (registry/works/api.py).

Inputs check shape only (types, lengths, choices from the models and the vocabulary); the rules
about content -- sizes, archives, licences, locations -- stay in the services and
`registry.works.validation`, which the API calls exactly as the forms do.
"""

from __future__ import annotations

import json

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from registry.preferences import vocabulary
from registry.works.models import Document, Work
from registry.works.validation import normalise_location

# --- inputs -----------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "object",
        "properties": {key: {"type": "string", "enum": list(vocabulary.VALUES)} for key in vocabulary.KEYS},
        "additionalProperties": False,
        "description": "Preference per vocabulary key: yes, no or unset. Keys left out keep their value.",
    }
)
class PreferenceValuesField(serializers.Field):
    """`{key: value}` over the preference vocabulary; a JSON string too (multipart forms)."""

    default_error_messages = {
        "not_object": 'Expected an object such as {{"train-ai": "no"}}.',  # doubled: fail() formats it
    }

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("not_object")
        if not isinstance(data, dict):
            self.fail("not_object")
        errors = {}
        for key, value in data.items():
            if key not in vocabulary.BY_KEY:
                errors[key] = [f"Unknown preference {key!r}; known: {', '.join(vocabulary.KEYS)}."]
            elif value not in vocabulary.VALUES:
                errors[key] = [
                    f"Preference {key!r} must be one of {', '.join(vocabulary.VALUES)}, not {value!r}."
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return dict(data)

    def to_representation(self, value):
        return value


class LocationField(serializers.CharField):
    """A URL, repository or domain, checked by the same normaliser the form uses."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 2000)
        super().__init__(validators=[normalise_location], **kwargs)


class _MetadataInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, error_messages={"blank": "A title is required."})
    kind = serializers.ChoiceField(choices=Work.Kind.choices, default=Work.Kind.CODE)
    licence = serializers.CharField(
        max_length=500, allow_blank=True, default="", help_text="An SPDX licence expression, e.g. MIT."
    )
    attribution = serializers.CharField(allow_blank=True, default="")
    locations = serializers.ListField(child=LocationField(), default=list, max_length=100)
    preferences = PreferenceValuesField(required=False)


@extend_schema_serializer(component_name="WorkRegister")
class WorkRegisterInput(_MetadataInput):
    text = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="JSON: the text to register."
    )
    name = serializers.CharField(
        required=False, default="text", max_length=1000, help_text="A name for the text (shown as its path)."
    )
    file = serializers.FileField(
        required=False, help_text="Multipart: a text file, or an archive (.zip, .tar.gz, .tgz)."
    )
    source = serializers.ChoiceField(
        choices=[Work.Source.FILE, Work.Source.ARCHIVE],
        required=False,
        help_text="Multipart: how to read `file`; by default an archive by its name, else a file.",
    )
    language = serializers.CharField(max_length=32, allow_blank=True, default="")
    storage = serializers.ChoiceField(choices=Work.Storage.choices, default=Work.Storage.TEXT)


class _FingerprintDocumentInput(serializers.Serializer):
    path = serializers.CharField(max_length=1000)
    language = serializers.CharField(max_length=32, allow_blank=True, default="")
    # Blank passes here so that it is reported like any other bad fingerprint (invalid_fingerprint).
    fingerprint = serializers.CharField(allow_blank=True, help_text="base64 of dedup Fingerprint.to_bytes().")
    size_bytes = serializers.IntegerField(min_value=0, default=0)


class _SkippedInput(serializers.Serializer):
    path = serializers.CharField(max_length=1000)
    reason = serializers.CharField(max_length=200)


@extend_schema_serializer(component_name="FingerprintRegister")
class FingerprintRegisterInput(_MetadataInput):
    documents = serializers.ListField(child=_FingerprintDocumentInput(), allow_empty=False)
    skipped = serializers.ListField(child=_SkippedInput(), default=list, max_length=100_000)


@extend_schema_serializer(component_name="PreferencesPatch")
class PreferencesPatchInput(serializers.Serializer):
    values = PreferenceValuesField()
    note = serializers.CharField(max_length=200, allow_blank=True, default="")


# --- outputs ----------------------------------------------------------------------------------


def decision_dict(decision) -> dict:
    return {
        "value": decision.value,
        "source": decision.source,
        "via": decision.via,
        "reason": decision.reason,
    }


def statement_dict(statement) -> dict:
    return {
        "key": statement.key,
        "value": statement.value,
        "effective_at": statement.effective_at,
        "note": statement.note,
    }


@extend_schema_serializer(component_name="Decision")
class DecisionOutput(serializers.Serializer):
    value = serializers.ChoiceField(choices=vocabulary.VALUES)
    source = serializers.ChoiceField(
        choices=["work", "default", "parent", "none"], help_text="Which statement decided it."
    )
    via = serializers.CharField(allow_null=True, help_text="For `parent`: the parent category.")
    reason = serializers.CharField()


@extend_schema_serializer(component_name="PreferenceStatement")
class StatementOutput(serializers.Serializer):
    key = serializers.ChoiceField(choices=vocabulary.KEYS)
    value = serializers.ChoiceField(choices=vocabulary.VALUES)
    effective_at = serializers.DateTimeField()
    note = serializers.CharField(allow_blank=True)


@extend_schema_serializer(component_name="Document")
class DocumentOutput(serializers.Serializer):
    path = serializers.CharField()
    language = serializers.CharField(allow_blank=True)
    state = serializers.ChoiceField(choices=Document.State.choices)
    error = serializers.CharField(allow_blank=True, help_text="Why fingerprinting failed.")
    size_bytes = serializers.IntegerField()
    encoding = serializers.CharField()
    num_lines = serializers.IntegerField()
    num_tokens = serializers.IntegerField()
    fingerprinted_at = serializers.DateTimeField(allow_null=True)
    # Not allow_null: DRF would then answer null for a row without the key instead of leaving
    # the key out; a text that was not kept is still sent as null (to_representation skips None).
    text = serializers.CharField(
        required=False, help_text="Only with ?include=text; null when the work keeps fingerprints only."
    )


@extend_schema_serializer(component_name="DocumentCounts")
class CountsOutput(serializers.Serializer):
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    ready = serializers.IntegerField()
    failed = serializers.IntegerField()


@extend_schema_serializer(component_name="WorkSummary")
class WorkSummaryOutput(serializers.Serializer):
    id = serializers.CharField(help_text="The work's public id.")
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=Work.Kind.choices)
    language = serializers.CharField(allow_blank=True)
    licence = serializers.CharField(allow_blank=True)
    attribution = serializers.CharField(allow_blank=True)
    storage = serializers.ChoiceField(choices=Work.Storage.choices)
    source = serializers.ChoiceField(choices=Work.Source.choices)
    state = serializers.ChoiceField(choices=Work.State.choices)
    documents_count = CountsOutput()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    documents = DocumentOutput(many=True, required=False, help_text="Only with ?include=documents.")


@extend_schema_serializer(component_name="WorkList")
class WorkListOutput(serializers.Serializer):
    works = WorkSummaryOutput(many=True)


@extend_schema_serializer(component_name="Work")
class WorkOutput(WorkSummaryOutput):
    documents = DocumentOutput(many=True)
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why documents failed.")
    locations = serializers.ListField(child=serializers.CharField())
    preferences = serializers.DictField(child=DecisionOutput(), help_text="Effective decision per key.")
    import_report = serializers.JSONField(help_text="What was taken from the upload and what was skipped.")


@extend_schema_serializer(component_name="Preferences")
class PreferencesOutput(serializers.Serializer):
    work = serializers.CharField(allow_null=True, help_text="The work's id; null for the defaults.")
    values = serializers.DictField(child=serializers.ChoiceField(choices=vocabulary.VALUES))
    effective = serializers.DictField(child=DecisionOutput())
    history = StatementOutput(many=True, help_text="Newest first.")
    recorded = StatementOutput(many=True, required=False, help_text="After a change: what it recorded.")


@extend_schema_serializer(component_name="EngineParams")
class EngineParamsOutput(serializers.Serializer):
    engine = serializers.DictField(help_text="The engine configuration (dedup.EngineConfig fields).")
    fingerprint_params = serializers.DictField(
        child=serializers.DictField(), help_text="Per kind: the parameters each fingerprint must carry."
    )
    limits = serializers.DictField(child=serializers.IntegerField())
