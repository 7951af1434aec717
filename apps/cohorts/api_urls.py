from django.urls import path

from . import api

urlpatterns = [
    path("", api.CohortListApi.as_view(), name="api-cohort-list"),
    path("create/", api.CohortCreateApi.as_view(), name="api-cohort-create"),
    path("join/", api.JoinApi.as_view(), name="api-cohort-join"),
    path("<id:cohort_id>/", api.CohortDetailApi.as_view(), name="api-cohort-detail"),
    path(
        "<id:cohort_id>/invitations/",
        api.InvitationCreateApi.as_view(),
        name="api-invitation-create",
    ),
    path(
        "<id:cohort_id>/educators/",
        api.CoEducatorAddApi.as_view(),
        name="api-cohort-educator-add",
    ),
]
