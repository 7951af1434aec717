from django.urls import path

from . import views

app_name = "game"

urlpatterns = [
    path("continue/", views.continue_, name="continue"),
    path("review/", views.review, name="review"),
    path("mistakes/", views.mistakes, name="mistakes"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("leaderboard/opt/", views.leaderboard_opt, name="leaderboard_opt"),
    path(
        "cohorts/<id:cohort_id>/leaderboard/", views.cohort_leaderboard, name="cohort_leaderboard"
    ),
]
