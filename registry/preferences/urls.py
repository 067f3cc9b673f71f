from django.urls import path

from registry.preferences import views

app_name = "preferences"

urlpatterns = [
    path("", views.defaults, name="defaults"),
    path("works/<slug:public_id>/", views.work_preferences, name="work"),
]
