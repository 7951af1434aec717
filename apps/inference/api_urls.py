from django.urls import path

from . import api

urlpatterns = [path("<uuid:job_id>/", api.JobDetailApi.as_view(), name="api-job-detail")]
