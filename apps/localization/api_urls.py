from django.urls import path

from . import api

urlpatterns = [
    path("sets/", api.SetListApi.as_view(), name="api-localize-sets"),
    path("sets/<id:set_id>/next/", api.NextCaseApi.as_view(), name="api-localize-next-case"),
    path(
        "sets/<id:set_id>/cases/<id:case_id>/attempts/",
        api.AttemptSubmitApi.as_view(),
        name="api-localize-attempt-submit",
    ),
    path(
        "sets/<id:set_id>/cases/<id:case_id>/hints/",
        api.HintApi.as_view(),
        name="api-localize-hint",
    ),
    path("attempts/<id:attempt_id>/", api.AttemptDetailApi.as_view(), name="api-localize-attempt"),
]
