"""Forms for the account pages that allauth does not provide: the public profile."""

from django import forms

from .models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["public_name"]
        labels = {"public_name": "Public name"}

    def clean_public_name(self) -> str:
        # Whitespace-only would show as a blank attribution, which is worse than "anonymous author".
        return self.cleaned_data["public_name"].strip()
