from django.urls import path

from . import views

app_name = "game"

urlpatterns = [
    path("continue/", views.continue_, name="continue"),
    path("review/", views.review, name="review"),
    path("mistakes/", views.mistakes, name="mistakes"),
]
