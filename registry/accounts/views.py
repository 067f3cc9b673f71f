"""The profile page: the one account setting allauth does not own.

Sign-up, login, email verification, password reset and email change are allauth's views under
/accounts/ with our templates (registry/templates/allauth/layouts/ makes them use base.html).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .forms import ProfileForm
from .services import user_profile_update


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user_profile_update(user=request.user, public_name=form.cleaned_data["public_name"])
        messages.success(request, "Your public name is saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})
