from django.urls import path

from . import views

app_name = "inference"

urlpatterns = [path("<uuid:job_id>/", views.job_status, name="status")]
