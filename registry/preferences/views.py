"""The author's default preferences page, and the per-work preference form's target."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from registry.preferences import vocabulary
from registry.preferences.forms import PreferenceForm
from registry.preferences.selectors import current_values, default_preferences, preference_history
from registry.preferences.services import preference_set
from registry.works.selectors import work_get_for_owner


def _saved(request, created) -> None:
    if created:
        changes = ", ".join(f"{vocabulary.term(s.key).title}: {s.value}" for s in created)
        messages.success(request, f"Recorded: {changes}.")
    else:
        messages.info(request, "Nothing changed.")


@login_required
@require_http_methods(["GET", "POST"])
def defaults(request):
    current = current_values(owner=request.user)
    form = PreferenceForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        _saved(request, preference_set(owner=request.user, work=None, values=form.values()))
        return redirect("preferences:defaults")
    return render(
        request,
        "preferences/defaults.html",
        {
            "form": form,
            "effective": default_preferences(owner=request.user),
            "history": preference_history(owner=request.user),
        },
    )


@login_required
@require_POST
def work_preferences(request, public_id: str):
    work = work_get_for_owner(owner=request.user, public_id=public_id)
    form = PreferenceForm(request.POST, current=current_values(owner=request.user, work=work))
    if form.is_valid():
        _saved(request, preference_set(owner=request.user, work=work, values=form.values()))
    else:
        messages.error(request, "Choose yes, no or unset for each preference.")
    return redirect(work)
