from django.urls import path

from . import views

app_name = "exercises"

urlpatterns = [
    path("assessments/<id:set_id>/", views.assessment_page, name="assessment"),
    path("assessments/<id:set_id>/close/", views.assessment_close_view, name="assessment_close"),
]
