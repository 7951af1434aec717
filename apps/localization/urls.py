from django.urls import path

from . import views

app_name = "localization"

urlpatterns = [
    path("", views.index, name="index"),
    path("sets/<id:set_id>/", views.set_summary, name="set_summary"),
    path("sets/<id:set_id>/play/", views.play, name="play"),
    path("sets/<id:set_id>/cases/<id:case_id>/", views.case_page, name="case"),
    path("sets/<id:set_id>/cases/<id:case_id>/submit/", views.submit, name="submit"),
    path("sets/<id:set_id>/cases/<id:case_id>/hint/", views.hint, name="hint"),
    path("attempts/<id:attempt_id>/", views.attempt_page, name="attempt"),
    path(
        "attempts/<id:attempt_id>/explanations/",
        views.attempt_explanations,
        name="attempt_explanations",
    ),
]
