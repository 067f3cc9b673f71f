"""Pages to manage organisations and API keys, under /keys/.

Who sees what: a user sees their personal keys and the keys of every organisation they belong
to; only a personal key's owner, or an organisation's owners, create and revoke. Anything the
user may not see is a 404, so outsiders learn nothing about other organisations.

The full key exists only in the response to the create form: it is never stored, not even in
the session, and that response is marked `no-store` so no cache keeps it either.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .forms import ApiKeyCreateForm, MemberAddForm, OrganisationCreateForm


@login_required
def key_list(request):
    return render(
        request,
        "apikeys/key_list.html",
        {
            "keys": selectors.api_key_list(user=request.user),
            "organisations": selectors.organisation_list(user=request.user),
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def key_create(request):
    organisations = list(selectors.owned_organisations(user=request.user))
    form = ApiKeyCreateForm(
        request.POST or None,
        organisations=organisations,
        initial={"holder": request.GET.get("for", "personal")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            key, full_key = services.api_key_create(
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                created_by=request.user,
                organisation=form.organisation,
                expires_in_days=form.expires_in_days,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return render(request, "apikeys/key_created.html", {"key": key, "full_key": full_key})
    return render(request, "apikeys/key_create.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def key_revoke(request, prefix: str):
    key = selectors.api_key_get_visible(user=request.user, prefix=prefix)
    if not selectors.can_manage_key(user=request.user, key=key):
        raise PermissionDenied("Only the organisation's owners can revoke its keys.")
    if request.method == "POST":
        services.api_key_revoke(key=key, revoked_by=request.user)
        messages.success(request, f"Revoked the key “{key.name}”. Requests using it now fail with 401.")
        return redirect("apikeys:list")
    return render(request, "apikeys/key_revoke.html", {"key": key})


@login_required
@require_http_methods(["GET", "POST"])
def organisation_list(request):
    form = OrganisationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_create(
                name=form.cleaned_data["name"], created_by=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Created {organisation.name}; you are its owner.")
            return redirect(organisation)
    return render(
        request,
        "apikeys/organisation_list.html",
        {"memberships": request.user.memberships.select_related("organisation"), "form": form},
    )


@login_required
def organisation_detail(request, slug: str, member_form=None):
    membership = selectors.membership_get(user=request.user, slug=slug)
    organisation = membership.organisation
    return render(
        request,
        "apikeys/organisation_detail.html",
        {
            "organisation": organisation,
            "membership": membership,
            "members": selectors.member_list(organisation=organisation),
            "keys": organisation.api_keys.select_related("created_by"),
            "member_form": member_form or (MemberAddForm() if membership.is_owner else None),
        },
    )


@login_required
@require_POST
def member_add(request, slug: str):
    membership = selectors.membership_get(user=request.user, slug=slug)
    if not membership.is_owner:
        raise PermissionDenied("Only owners can add members.")
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            added = services.organisation_member_add(
                organisation=membership.organisation,
                added_by=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Added {added.user.email} as {added.get_role_display().lower()}.")
            return redirect(membership.organisation)
    return organisation_detail(request, slug, member_form=form)
