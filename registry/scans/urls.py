"""Scan pages (registry/scans/views.py), mounted at /scans/."""

from django.urls import path

from registry.scans import views

app_name = "scans"

urlpatterns = [
    path("", views.scan_list, name="list"),
    path("new/", views.scan_create, name="create"),
    path("webhook/", views.webhook_secret, name="webhook"),
    path("<slug:public_id>/", views.scan_detail, name="detail"),
    path("<slug:public_id>/progress.json", views.scan_progress, name="progress"),
    path("<slug:public_id>/cancel/", views.scan_cancel, name="cancel"),
    path("<slug:public_id>/samples/<int:index>/", views.scan_sample, name="sample"),
    path("<slug:public_id>/report.<str:fmt>", views.scan_report, name="report"),
]
