"""Author pages (dashboard, register, work detail/edit/delete) and the public lookup page.

Views validate with a form, call one service or selector, and render. Every work page looks the
work up by (owner, public id), so another author gets a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from registry.preferences.forms import PreferenceForm
from registry.preferences.selectors import (
    current_values,
    effective_preferences,
    effective_preferences_for_works,
    preference_history,
)
from registry.works import selectors, services
from registry.works.forms import LookupForm, WorkEditForm, WorkRegisterForm


@login_required
def dashboard(request):
    works = list(selectors.work_list(owner=request.user))
    prefs = effective_preferences_for_works(works)
    rows = [
        {
            "work": w,
            "state": selectors.state_of(
                n_documents=w.n_documents, n_pending=w.n_pending, n_failed=w.n_failed
            ),
            "preferences": prefs[w.pk],
        }
        for w in works
    ]
    return render(request, "works/dashboard.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def register(request):
    defaults = current_values(owner=request.user)
    if request.method == "POST":
        form = WorkRegisterForm(request.POST, request.FILES)
        pref_form = PreferenceForm(request.POST, prefix="pref")
        if form.is_valid() and pref_form.is_valid():
            data = form.cleaned_data
            try:
                work = services.work_register(
                    owner=request.user,
                    title=data["title"],
                    kind=data["kind"],
                    source=data["source"],
                    prepared=data["prepared"],
                    language=data["language"],
                    licence=data["licence"],
                    attribution=data["attribution"],
                    locations=data["locations"],
                    storage=data["storage"],
                    preferences=pref_form.values(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request, f"Registered “{work.title}”. Fingerprinting runs in the background."
                )
                return redirect(work)
    else:
        form = WorkRegisterForm()
        pref_form = PreferenceForm(prefix="pref")
    return render(
        request, "works/register.html", {"form": form, "pref_form": pref_form, "defaults": defaults}
    )


@login_required
def detail(request, public_id: str):
    work = selectors.work_get_for_owner(owner=request.user, public_id=public_id)
    state, reasons = selectors.work_state(work)
    return render(
        request,
        "works/detail.html",
        {
            "work": work,
            "state": state,
            "reasons": reasons,
            "documents": selectors.work_documents(work),
            "locations": work.locations.all(),
            "effective": effective_preferences(work),
            "pref_form": PreferenceForm(current=current_values(owner=request.user, work=work)),
            "history": preference_history(owner=request.user, work=work),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, public_id: str):
    work = selectors.work_get_for_owner(owner=request.user, public_id=public_id)
    if request.method == "POST":
        form = WorkEditForm(request.POST)
        if form.is_valid():
            try:
                services.work_update(work=work, owner=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Saved.")
                return redirect(work)
    else:
        form = WorkEditForm(
            initial={
                "text_public": work.text_public,
                "title": work.title,
                "licence": work.licence,
                "attribution": work.attribution,
                "locations": "\n".join(loc.url for loc in work.locations.all()),
            }
        )
    return render(request, "works/edit.html", {"work": work, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def delete(request, public_id: str):
    work = selectors.work_get_for_owner(owner=request.user, public_id=public_id)
    if request.method == "POST":
        title = work.title
        services.work_delete(work=work, owner=request.user)
        messages.success(
            request, f"Deleted “{title}” with its documents, fingerprints and preference history."
        )
        return redirect("works:dashboard")
    return render(request, "works/delete.html", {"work": work})


@require_http_methods(["GET", "POST"])
def lookup(request):
    """Public: which registered works a snippet or URL matches, and what their owners allow.

    The page shows the visitor's own snippet line ranges and the works' metadata, never a
    registered text (that stays with its owner).
    """
    results = None
    form = LookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["url"]:
            results = selectors.lookup_url(data["url"])
        else:
            results = selectors.lookup_text(
                data["text"], kind=data["kind"] or None, language=data["language"] or None
            )
    return render(request, "works/lookup.html", {"form": form, "results": results})
