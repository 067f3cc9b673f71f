"""The service's URL map: author pages, accounts, admin and the API."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # allauth's sign-up, login, verification, password and email pages...
    path("accounts/", include("allauth.urls")),
    # ...and the one account page of our own (the public profile).
    path("account/", include("registry.accounts.urls")),
    path("preferences/", include("registry.preferences.urls")),
    path("keys/", include("registry.apikeys.urls")),
    path("scans/", include("registry.scans.urls")),
    path("api/v1/", include("registry.api.urls")),
    path("", include("registry.works.urls")),
]
