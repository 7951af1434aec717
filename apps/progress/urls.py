from django.urls import path

from . import views

app_name = "progress"

urlpatterns = [
    path("cohorts/<id:cohort_id>/", views.cohort_progress_page, name="cohort"),
    path("cohorts/<id:cohort_id>/export.csv", views.cohort_progress_csv, name="cohort_csv"),
]
