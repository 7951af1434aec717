from django.urls import path

from . import views

app_name = "cohorts"

urlpatterns = [
    path("", views.cohort_list, name="list"),
    path("join/", views.join, name="join"),
    path("<id:cohort_id>/", views.cohort_detail, name="detail"),
    path("<id:cohort_id>/invitations/", views.invitation_create, name="invitation_create"),
    path("<id:cohort_id>/educators/", views.educator_add, name="educator_add"),
    path("<id:cohort_id>/join-code/", views.join_code_rotate, name="join_code_rotate"),
    path("<id:cohort_id>/members/<id:user_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "invitations/<id:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"
    ),
    path("<id:cohort_id>/invite/<str:token>/", views.invitation_open, name="invitation_open"),
]
