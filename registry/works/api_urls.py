"""The authors' endpoints (registry/works/api.py), included by registry/api/urls.py.

`works/fingerprints` comes before `works/<public_id>`, which would otherwise take it as an id.
"""

from django.urls import path

from registry.works import api

urlpatterns = [
    path("works", api.WorksApi.as_view(), name="works"),
    path("works/fingerprints", api.FingerprintsApi.as_view(), name="works-fingerprints"),
    path("works/<str:public_id>", api.WorkApi.as_view(), name="work"),
    path("works/<str:public_id>/preferences", api.WorkPreferencesApi.as_view(), name="work-preferences"),
    path("preferences/defaults", api.DefaultPreferencesApi.as_view(), name="preferences-defaults"),
]
