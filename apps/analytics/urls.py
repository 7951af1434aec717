from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.admin_page, name="admin"),
    path("cohorts/<id:cohort_id>/", views.cohort_page, name="cohort"),
    path("cohorts/<id:cohort_id>/findings/", views.findings_page, name="findings"),
    path("cohorts/<id:cohort_id>/export/<slug:table>.<slug:fmt>", views.export, name="export"),
    path("cohorts/<id:cohort_id>/prepost/", views.prepost_create, name="prepost_create"),
    path("cohorts/<id:cohort_id>/prepost/<id:pair_id>/", views.prepost_page, name="prepost"),
    path(
        "cohorts/<id:cohort_id>/prepost/<id:pair_id>/delete/",
        views.prepost_delete,
        name="prepost_delete",
    ),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<id:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("cohorts/<id:cohort_id>/residents/<id:user_id>/", views.resident_page, name="resident"),
]
