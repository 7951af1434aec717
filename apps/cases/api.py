"""Case library API for educators: one APIView per operation, on the pages' services.

Residents get 403 on every endpoint here: these payloads carry ground truth (findings, boxes,
reports). Players reach cases through the exercise apps, which never send answers before a
submission.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsEducator
from apps.cases import selectors, services
from apps.cases.importers import FORMATS
from apps.cases.models import CaseSetMode, Difficulty, Sex
from apps.cases.services.editor import case_editor_save
from apps.cases.services.imports import case_import_start


def _no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"
    return response


class LibraryImageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    burned_in_annotation = serializers.CharField()


class LibraryCaseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    patient_age = serializers.IntegerField(allow_null=True)
    patient_sex = serializers.CharField()
    view = serializers.CharField()
    indication = serializers.CharField()
    comparison = serializers.CharField()
    difficulty = serializers.IntegerField()
    tags = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()
    external_id = serializers.CharField()
    is_normal = serializers.BooleanField()


class LibraryFindingOutput(serializers.Serializer):
    label = serializers.CharField()
    localizable = serializers.BooleanField()
    sentence = serializers.CharField()
    regions = serializers.ListField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))
    )


class LibraryReportOutput(serializers.Serializer):
    findings = serializers.CharField()
    impression = serializers.CharField()
    source = serializers.CharField()
    author = serializers.CharField()
    is_derived = serializers.BooleanField()


class LibraryCaseDetailOutput(LibraryCaseOutput):
    licence = serializers.CharField()
    attribution = serializers.CharField()
    images = LibraryImageOutput(many=True, source="images.all")
    findings = serializers.SerializerMethodField()
    report = serializers.SerializerMethodField()

    def get_findings(self, case: Any) -> list[dict[str, Any]]:
        answers = selectors.case_answers(case=case)
        return LibraryFindingOutput(answers.findings, many=True).data

    def get_report(self, case: Any) -> dict[str, Any] | None:
        report = selectors.case_answers(case=case).report
        return LibraryReportOutput(report).data if report else None


class LibraryCaseCreateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    patient_age = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=130
    )
    patient_sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    indication = serializers.CharField(required=False, allow_blank=True, max_length=500)
    comparison = serializers.CharField(required=False, allow_blank=True, max_length=500)
    difficulty = serializers.ChoiceField(choices=Difficulty.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False)


class CaseListApi(APIView):
    permission_classes = [IsEducator]

    @extend_schema(responses=LibraryCaseOutput(many=True), summary="Cases you may edit")
    def get(self, request: Request) -> Response:
        cases = selectors.cases_for_library(actor=request.user)
        return _no_store(Response(LibraryCaseOutput(cases, many=True).data))

    @extend_schema(
        request=LibraryCaseCreateInput,
        responses={201: LibraryCaseOutput},
        summary="Create a draft case",
    )
    def post(self, request: Request) -> Response:
        data = LibraryCaseCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_create(actor=request.user, **data.validated_data)
        return Response(LibraryCaseOutput(case).data, status=status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    permission_classes = [IsEducator]

    @extend_schema(
        responses=LibraryCaseDetailOutput, summary="A case with its ground truth and report"
    )
    def get(self, request: Request, case_id: int) -> Response:
        case = selectors.case_for_manager(actor=request.user, case_id=case_id)
        return _no_store(Response(LibraryCaseDetailOutput(case).data))


class LibraryTruthInput(serializers.Serializer):
    boxes = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    selected = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    is_normal = serializers.BooleanField(required=False, default=False)
    report_findings = serializers.CharField(required=False, allow_blank=True, default="")
    report_impression = serializers.CharField(required=False, allow_blank=True, default="")


class CaseTruthApi(APIView):
    permission_classes = [IsEducator]

    @extend_schema(
        request=LibraryTruthInput,
        responses=LibraryCaseDetailOutput,
        summary="Replace the ground truth and report",
    )
    def put(self, request: Request, case_id: int) -> Response:
        case = selectors.case_for_manager(actor=request.user, case_id=case_id)
        data = LibraryTruthInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        case_editor_save(
            actor=request.user,
            case=case,
            facts={},
            marks={"boxes": values["boxes"]},
            selected=values["selected"],
            is_normal=values["is_normal"],
            report_findings=values["report_findings"],
            report_impression=values["report_impression"],
        )
        case = selectors.case_for_manager(actor=request.user, case_id=case_id)
        return _no_store(Response(LibraryCaseDetailOutput(case).data))


class LibraryPublishInput(serializers.Serializer):
    published = serializers.BooleanField()


class CasePublishApi(APIView):
    permission_classes = [IsEducator]

    @extend_schema(
        request=LibraryPublishInput,
        responses=LibraryCaseOutput,
        summary="Publish or unpublish a case",
    )
    def post(self, request: Request, case_id: int) -> Response:
        case = selectors.case_for_manager(actor=request.user, case_id=case_id)
        data = LibraryPublishInput(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["published"]:
            case = services.case_publish(actor=request.user, case=case)
        else:
            case = services.case_unpublish(actor=request.user, case=case)
        return Response(LibraryCaseOutput(case).data)


class LibraryJobStartedOutput(serializers.Serializer):
    job = serializers.UUIDField(source="pk")
    status = serializers.CharField()


class LibraryUploadInput(serializers.Serializer):
    file = serializers.FileField()
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    allow_non_chest = serializers.BooleanField(required=False, default=False)


class CaseUploadApi(APIView):
    permission_classes = [IsEducator]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request=LibraryUploadInput,
        responses={202: LibraryJobStartedOutput},
        summary="Create a case from an image",
    )
    def post(self, request: Request) -> Response:
        data = LibraryUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job = services.case_upload_start(
            actor=request.user,
            uploaded=values["file"],
            title=values["title"],
            allow_non_chest=values["allow_non_chest"],
        )
        return Response(LibraryJobStartedOutput(job).data, status=status.HTTP_202_ACCEPTED)


class LibraryImportInput(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.ChoiceField(choices=sorted(FORMATS))
    case_set = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    publish = serializers.BooleanField(required=False, default=False)
    allow_non_chest = serializers.BooleanField(required=False, default=False)


class ImportApi(APIView):
    permission_classes = [IsEducator]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request=LibraryImportInput,
        responses={202: LibraryJobStartedOutput},
        summary="Import a dataset (zip)",
    )
    def post(self, request: Request) -> Response:
        data = LibraryImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job = case_import_start(
            actor=request.user,
            uploaded=values["file"],
            format_name=values["format"],
            case_set_name=values["case_set"],
            publish=values["publish"],
            allow_non_chest=values["allow_non_chest"],
        )
        return Response(LibraryJobStartedOutput(job).data, status=status.HTTP_202_ACCEPTED)


class LibraryCaseSetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    owner = serializers.CharField(source="owner.username")
    shared = serializers.BooleanField()
    mode = serializers.CharField()
    iou_threshold = serializers.FloatField()


class LibraryAssignmentOutput(serializers.Serializer):
    cohort_id = serializers.IntegerField()
    cohort = serializers.CharField(source="cohort.name")
    due_at = serializers.DateTimeField(allow_null=True)


class LibraryCaseSetDetailOutput(LibraryCaseSetOutput):
    case_ids = serializers.SerializerMethodField()
    assignments = LibraryAssignmentOutput(many=True, source="assignments.all")

    def get_case_ids(self, case_set: Any) -> list[int]:
        return [item.case_id for item in case_set.items.all()]


class LibraryCaseSetCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    mode = serializers.ChoiceField(
        choices=CaseSetMode.choices, required=False, default=CaseSetMode.PRACTICE
    )
    iou_threshold = serializers.FloatField(
        required=False, default=0.3, min_value=0.05, max_value=0.95
    )
    shared = serializers.BooleanField(required=False, default=False)
    case_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class CaseSetListApi(APIView):
    permission_classes = [IsEducator]

    @extend_schema(
        responses=LibraryCaseSetOutput(many=True), summary="Case sets you own or that are shared"
    )
    def get(self, request: Request) -> Response:
        sets = selectors.case_sets_managed_by(actor=request.user).order_by("name")
        return Response(LibraryCaseSetOutput(sets, many=True).data)

    @extend_schema(
        request=LibraryCaseSetCreateInput,
        responses={201: LibraryCaseSetDetailOutput},
        summary="Create a case set",
    )
    def post(self, request: Request) -> Response:
        data = LibraryCaseSetCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        case_ids = values.pop("case_ids")
        cases = {
            c.pk: c for c in selectors.cases_managed_by(actor=request.user).filter(pk__in=case_ids)
        }
        missing = [pk for pk in case_ids if pk not in cases]
        if missing:
            raise Http404(f"No such case: {missing[0]}")
        case_set = services.case_set_create(actor=request.user, **values)
        for pk in case_ids:
            services.case_set_case_add(actor=request.user, case_set=case_set, case=cases[pk])
        case_set = selectors.case_set_for_manager(actor=request.user, case_set_id=case_set.pk)
        return Response(LibraryCaseSetDetailOutput(case_set).data, status=status.HTTP_201_CREATED)


class CaseSetDetailApi(APIView):
    permission_classes = [IsEducator]

    @extend_schema(
        responses=LibraryCaseSetDetailOutput, summary="A case set with its cases and assignments"
    )
    def get(self, request: Request, set_id: int) -> Response:
        case_set = selectors.case_set_for_manager(actor=request.user, case_set_id=set_id)
        return Response(LibraryCaseSetDetailOutput(case_set).data)
