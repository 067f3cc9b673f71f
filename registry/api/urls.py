"""The /api/v1/ URL map (mounted by registry/urls.py). Later endpoints are added above the
catch-all, which answers every unknown path with a JSON 404."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from registry.api import views

app_name = "api"

urlpatterns = [
    path("me", views.MeApi.as_view(), name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^.*$", views.NotFoundApi.as_view(), name="not-found"),
]
