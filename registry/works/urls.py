from django.urls import path

from registry.works import views

app_name = "works"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("lookup/", views.lookup, name="lookup"),
    path("works/new/", views.register, name="register"),
    path("works/<slug:public_id>/", views.detail, name="detail"),
    path("works/<slug:public_id>/edit/", views.edit, name="edit"),
    path("works/<slug:public_id>/delete/", views.delete, name="delete"),
]
