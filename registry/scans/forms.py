"""The scan upload form.

It checks only what a form can (a file was sent, the name's length, the webhook URL's shape and
that it does not name a private host);
everything about the upload's contents -- its size, JSON Lines or archive, too many samples, an
unsafe archive -- is decided by the scans service (registry/scans/intake.py) while it reads the
file, and the view shows that message on the `file` field, so the page and the API tell the
user the same thing.
"""

from __future__ import annotations

from django import forms

from registry.scans import webhook_targets
from registry.scans.intake import EXAMPLE_LINE


class ScanCreateForm(forms.Form):
    file = forms.FileField(
        label="Samples",
        help_text=(
            f"A JSON Lines file, one sample per line such as {EXAMPLE_LINE} "
            "(\u201clanguage\u201d is optional), or a .zip / .tar.gz whose files are the samples."
        ),
        error_messages={"required": "Choose a JSON Lines file or an archive to scan."},
    )
    name = forms.CharField(
        required=False, max_length=200, help_text="Optional, to tell your scans apart (e.g. the model run)."
    )
    webhook_url = forms.URLField(
        required=False,
        max_length=2000,
        assume_scheme="https",
        label="Webhook URL",
        help_text=(
            "Optional: we POST the summary here when the scan finishes, signed with your webhook "
            "secret (header X-Registry-Signature)."
        ),
    )
    organisation = forms.ChoiceField(
        required=False,
        label="Scan for",
        help_text="A scan made for an organisation is visible to all its members.",
    )

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organisations = {str(o.pk): o for o in organisations}
        if self.organisations:
            self.fields["organisation"].choices = [
                ("", "Myself"),
                *((k, o.name) for k, o in self.organisations.items()),
            ]
        else:
            del self.fields["organisation"]

    def clean_webhook_url(self):
        url = self.cleaned_data.get("webhook_url") or ""
        webhook_targets.check_url(url)  # public hosts only: see webhook_targets
        return url

    def clean_organisation(self):
        return self.organisations.get(self.cleaned_data.get("organisation") or "")
