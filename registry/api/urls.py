"""The /api/v1/ URL map (mounted by registry/urls.py). Later endpoints are added above the
catch-all, which answers every unknown path with a JSON 404.

Only Swagger UI is offered as documentation: drf-spectacular's Redoc page pulls its fonts from
Google, and the docs must work offline.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from registry.api import views
from registry.snapshots.api import SnapshotApi

app_name = "api"

urlpatterns = [
    path("me", views.MeApi.as_view(), name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include("registry.filtering.api_urls")),
    path("", include("registry.works.api_urls")),
    path("snapshot", SnapshotApi.as_view(), name="snapshot"),
    path("", include("registry.scans.api_urls")),
    re_path(r"^.*$", views.NotFoundApi.as_view(), name="not-found"),
]
