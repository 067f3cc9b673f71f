"""The preference form: one yes/no/unset choice per vocabulary key."""

from django import forms

from registry.preferences import vocabulary

LABELS = {
    vocabulary.YES: "Yes",
    vocabulary.NO: "No",
    vocabulary.UNSET: "Unset",
}
ATTRIBUTION_LABELS = {
    vocabulary.YES: "Required",
    vocabulary.NO: "Not required",
    vocabulary.UNSET: "Unset",
}


def field_name(key: str) -> str:
    return "pref_" + key.replace("-", "_")


class PreferenceForm(forms.Form):
    """Fields `pref_<key>`; `values()` gives `{key: value}` for `preference_set`."""

    def __init__(self, *args, current: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        current = current or {}
        for term in vocabulary.TERMS:
            labels = ATTRIBUTION_LABELS if term.key == vocabulary.ATTRIBUTION else LABELS
            self.fields[field_name(term.key)] = forms.ChoiceField(
                label=term.title,
                help_text=term.description,
                choices=[(v, labels[v]) for v in vocabulary.VALUES],
                initial=current.get(term.key, vocabulary.UNSET),
                widget=forms.RadioSelect,
            )

    def values(self) -> dict[str, str]:
        return {term.key: self.cleaned_data[field_name(term.key)] for term in vocabulary.TERMS}
