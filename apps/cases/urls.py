from django.urls import path

from .views import media

app_name = "cases"

urlpatterns = [
    path("images/<int:image_id>/<str:variant>/", media.case_image, name="image"),
]
