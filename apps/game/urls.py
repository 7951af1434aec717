from django.urls import path

from . import views

app_name = "game"

urlpatterns = [
    path("continue/", views.continue_, name="continue"),
]
