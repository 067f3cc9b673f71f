"""Account pages of our own, mounted at /account/ (allauth's are at /accounts/)."""

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
]
