"""Forms for the key and organisation pages. They validate input; services enforce the rules."""

from __future__ import annotations

from django import forms

from .models import ApiKey, Membership

PERSONAL = "personal"
EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("never", "Never")]


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where the key is used, e.g. “crawler on build-3”.")
    holder = forms.ChoiceField(
        label="For",
        help_text="An organisation's key belongs to the organisation: it keeps working if you leave.",
    )
    scope = forms.ChoiceField(
        choices=ApiKey.Scope.choices,
        initial=ApiKey.Scope.FILTER,
        help_text=(
            "Filter keys look works up and filter datasets. Author keys (personal only) act on your works."
        ),
    )
    expires = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90", label="Expires after")

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._organisations = {o.slug: o for o in organisations}
        self.fields["holder"].choices = [(PERSONAL, "Me (personal key)")] + [
            (o.slug, o.name) for o in organisations
        ]

    def clean(self):
        data = super().clean()
        holder, scope = data.get("holder"), data.get("scope")
        if holder and holder != PERSONAL and scope == ApiKey.Scope.AUTHOR:
            self.add_error(
                "scope", "Organisation keys can only have the filter scope; author keys are personal."
            )
        return data

    @property
    def organisation(self):
        holder = self.cleaned_data["holder"]
        return None if holder == PERSONAL else self._organisations[holder]

    @property
    def expires_in_days(self) -> int | None:
        value = self.cleaned_data["expires"]
        return None if value == "never" else int(value)


class OrganisationCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Your team or company, as authors will see it.")


class MemberAddForm(forms.Form):
    email = forms.EmailField(help_text="They must have an account here already.")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)
