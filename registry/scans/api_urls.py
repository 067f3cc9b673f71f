"""/api/v1/scans... (included by registry/api/urls.py inside the "api" namespace)."""

from django.urls import path

from registry.scans import api

urlpatterns = [
    path("scans", api.ScanListApi.as_view(), name="scans"),
    path("scans/webhook-secret", api.WebhookSecretApi.as_view(), name="scans-webhook-secret"),
    path(
        "scans/webhook-secret/rotate",
        api.WebhookSecretRotateApi.as_view(),
        name="scans-webhook-secret-rotate",
    ),
    path("scans/<str:public_id>", api.ScanDetailApi.as_view(), name="scan"),
    path("scans/<str:public_id>/cancel", api.ScanCancelApi.as_view(), name="scan-cancel"),
    path("scans/<str:public_id>/results", api.ScanResultsApi.as_view(), name="scan-results"),
    path("scans/<str:public_id>/report.<str:fmt>", api.ScanReportApi.as_view(), name="scan-report"),
]
