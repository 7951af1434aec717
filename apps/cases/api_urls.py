from django.urls import path

from . import api

urlpatterns = [
    path("", api.CaseListApi.as_view(), name="api-case-list"),
    path("upload/", api.CaseUploadApi.as_view(), name="api-case-upload"),
    path("import/", api.ImportApi.as_view(), name="api-case-import"),
    path("<id:case_id>/", api.CaseDetailApi.as_view(), name="api-case-detail"),
    path("<id:case_id>/truth/", api.CaseTruthApi.as_view(), name="api-case-truth"),
    path("<id:case_id>/publish/", api.CasePublishApi.as_view(), name="api-case-publish"),
    path("sets/", api.CaseSetListApi.as_view(), name="api-case-set-list"),
    path("sets/<id:set_id>/", api.CaseSetDetailApi.as_view(), name="api-case-set-detail"),
]
