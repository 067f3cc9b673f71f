"""Forms for registering and editing works and for the public lookup. They validate through the
same functions the services use, so an error shows next to the field it is about."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from registry.works import services
from registry.works.archives import format_size, is_archive_name
from registry.works.models import Work
from registry.works.validation import lookup_keys, normalise_licence, normalise_location


def _clean_locations(raw: str) -> list[str]:
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    errors = []
    for line in lines:
        try:
            normalise_location(line)
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return lines


class WorkMetadataForm(forms.Form):
    title = forms.CharField(max_length=200, error_messages={"required": "A title is required."})
    licence = forms.CharField(
        required=False,
        max_length=500,
        help_text="An SPDX licence expression, e.g. MIT or 'Apache-2.0 OR MIT'.",
    )
    attribution = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What users of the work should show.",
    )
    locations = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Canonical locations, one per line: URLs, a repository URL, a domain.",
    )

    def clean_licence(self):
        return normalise_licence(self.cleaned_data["licence"])

    def clean_locations(self):
        return _clean_locations(self.cleaned_data["locations"])


class WorkEditForm(WorkMetadataForm):
    text_public = forms.BooleanField(
        required=False,
        label="Show the registered lines beside matches in scan reports",
        help_text="Only for works that keep their text: builders whose generated output copies this "
        "work then see the matching lines of your work next to theirs. Off: they see only the "
        "work's title, licence and attribution.",
    )


class WorkRegisterForm(WorkMetadataForm):
    kind = forms.ChoiceField(choices=Work.Kind.choices, initial=Work.Kind.CODE)
    text = forms.CharField(required=False, strip=False, widget=forms.Textarea, help_text="Paste the text…")
    file = forms.FileField(
        required=False, help_text="…or upload a text file, or a repository archive (.zip, .tar.gz, .tgz)."
    )
    language = forms.CharField(
        required=False,
        max_length=32,
        help_text="Leave empty to detect it from each file's extension (python, javascript, …).",
    )
    storage = forms.ChoiceField(
        choices=Work.Storage.choices, initial=Work.Storage.TEXT, widget=forms.RadioSelect
    )

    field_order = [
        "title",
        "kind",
        "text",
        "file",
        "language",
        "licence",
        "attribution",
        "locations",
        "storage",
    ]

    def clean(self):
        data = super().clean()
        text, upload = data.get("text") or "", data.get("file")
        if text.strip() and upload:
            raise ValidationError("Paste a text or upload a file, not both.")
        try:
            if upload:
                data["prepared"], data["source"] = self._prepare_upload(upload)
            elif text.strip():
                data["prepared"], data["source"] = services.prepare_text(text=text), Work.Source.TEXT
            else:
                self.add_error("text", "Paste a text or upload a file.")
        except ValidationError as exc:
            self.add_error("file" if upload else "text", exc)
        return data

    @staticmethod
    def _prepare_upload(upload):
        name = upload.name or "upload"
        if is_archive_name(name):
            return services.prepare_archive(name=name, fileobj=upload, size=upload.size), Work.Source.ARCHIVE
        limit = settings.REGISTRY["MAX_FILE_BYTES"]
        if upload.size > limit:  # refuse before reading it into memory
            raise ValidationError(
                f"The file is {format_size(upload.size)}; the limit is {format_size(limit)}."
            )
        return services.prepare_file(name=name, data=upload.read()), Work.Source.FILE


class LookupForm(forms.Form):
    text = forms.CharField(
        required=False, strip=False, widget=forms.Textarea, label="Snippet", help_text="Paste code or text…"
    )
    url = forms.CharField(required=False, label="URL", help_text="…or a URL, repository or domain.")
    kind = forms.ChoiceField(
        required=False,
        choices=[("", "Detect"), *Work.Kind.choices],
        help_text="Detect reads the snippet both as code and as prose.",
    )
    language = forms.CharField(required=False, max_length=32, help_text="Optional, for code (python, …).")

    def clean_text(self):
        text = self.cleaned_data["text"]
        limit = settings.REGISTRY["MAX_TEXT_BYTES"]
        size = len(text.encode("utf-8"))
        if size > limit:
            raise ValidationError(f"The text is {format_size(size)}; the limit is {format_size(limit)}.")
        return text

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        if url:
            lookup_keys(url)  # raises the invalid-URL message
        return url

    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("text") or "").strip() and not data.get("url"):
            raise ValidationError("Paste a snippet or enter a URL to look up.")
        return data
