from django.urls import path

from .views import editor, imports, library, media, sets, study_views

app_name = "cases"

urlpatterns = [
    path("", library.library, name="library"),
    path("new/", library.case_new, name="case_new"),
    path("uploads/<uuid:job_id>/", library.upload_status, name="upload_status"),
    path("<id:case_id>/", editor.case_edit, name="case_edit"),
    path("<id:case_id>/preview/", editor.case_preview, name="case_preview"),
    path("<id:case_id>/publish/", editor.case_publish_view, name="case_publish"),
    path("<id:case_id>/views/", study_views.view_add, name="case_view_add"),
    path(
        "<id:case_id>/views/<id:image_id>/projection/",
        study_views.view_projection,
        name="case_view_projection",
    ),
    path(
        "<id:case_id>/views/<id:image_id>/move/<str:direction>/",
        study_views.view_move,
        name="case_view_move",
    ),
    path(
        "<id:case_id>/views/<id:image_id>/remove/",
        study_views.view_remove,
        name="case_view_remove",
    ),
    path(
        "<id:case_id>/views/<id:image_id>/phi-checked/",
        study_views.view_phi_checked,
        name="case_view_phi_checked",
    ),
    path("sets/", sets.set_list, name="set_list"),
    path("sets/<id:set_id>/", sets.set_detail, name="set_detail"),
    path("sets/<id:set_id>/cases/", sets.set_case_add, name="set_case_add"),
    path(
        "sets/<id:set_id>/cases/<id:case_id>/remove/",
        sets.set_case_remove,
        name="set_case_remove",
    ),
    path(
        "sets/<id:set_id>/cases/<id:case_id>/<str:direction>/",
        sets.set_case_move,
        name="set_case_move",
    ),
    path("sets/<id:set_id>/assign/", sets.set_assign, name="set_assign"),
    path("sets/<id:set_id>/unassign/<id:cohort_id>/", sets.set_unassign, name="set_unassign"),
    path("import/", imports.import_start, name="import"),
    path("import/<uuid:job_id>/", imports.import_status, name="import_status"),
    path("images/<id:image_id>/<str:variant>/", media.case_image, name="image"),
]
