from django.urls import path

from . import api

urlpatterns = [
    path(
        "assessments/<id:set_id>/close/",
        api.AssessmentCloseApi.as_view(),
        name="api-assessment-close",
    ),
]
