"""The builders' endpoints and the public preference exports, included by registry/api/urls.py."""

from django.urls import path

from registry.filtering import api
from registry.preferences import api as preferences_api

urlpatterns = [
    path("filter", api.FilterApi.as_view(), name="filter"),
    path("lookup", api.LookupApi.as_view(), name="lookup"),
    path(
        "works/<str:public_id>/preferences/export",
        preferences_api.WorkExportApi.as_view(),
        name="work-preferences-export",
    ),
    path("me/preferences/export", preferences_api.MyExportApi.as_view(), name="me-preferences-export"),
]
