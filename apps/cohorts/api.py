"""Cohort API: one APIView per operation, on the same services and selectors as the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsEducator, IsPlayer, is_educator

from . import selectors, services


class MemberOutput(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()


class InvitationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    token = serializers.CharField()
    email = serializers.CharField()
    state = serializers.CharField()
    expires_at = serializers.DateTimeField()


class CohortOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    owner = serializers.CharField(source="owner.username")


class CohortDetailOutput(CohortOutput):
    join_code = serializers.CharField()
    join_code_enabled = serializers.BooleanField()
    members = MemberOutput(source="memberships.all", many=True)
    invitations = InvitationOutput(source="invitations.all", many=True)


class CohortCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class CohortListApi(APIView):
    permission_classes = [IsPlayer]

    @extend_schema(
        responses=CohortOutput(many=True), summary="Cohorts you run (educators) or joined"
    )
    def get(self, request: Request) -> Response:
        if is_educator(request.user):
            cohorts = selectors.cohorts_managed_by(actor=request.user).order_by("name")
        else:
            cohorts = selectors.cohorts_joined_by(user=request.user)
        return Response(CohortOutput(cohorts, many=True).data)


class CohortCreateApi(APIView):
    permission_classes = [IsEducator]

    @extend_schema(request=CohortCreateInput, responses={201: CohortOutput})
    def post(self, request: Request) -> Response:
        data = CohortCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        cohort = services.cohort_create(actor=request.user, **data.validated_data)
        return Response(CohortOutput(cohort).data, status=status.HTTP_201_CREATED)


class CohortDetailApi(APIView):
    permission_classes = [IsEducator]

    @extend_schema(responses=CohortDetailOutput)
    def get(self, request: Request, cohort_id: int) -> Response:
        cohort = selectors.cohort_for_manager(actor=request.user, cohort_id=cohort_id)
        response = Response(CohortDetailOutput(cohort).data)
        response["Cache-Control"] = "no-store"
        return response


class InvitationCreateInput(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    days_valid = serializers.IntegerField(required=False, default=14, min_value=1, max_value=60)


class InvitationCreateApi(APIView):
    permission_classes = [IsEducator]

    @extend_schema(request=InvitationCreateInput, responses={201: InvitationOutput})
    def post(self, request: Request, cohort_id: int) -> Response:
        cohort = selectors.cohort_for_manager(actor=request.user, cohort_id=cohort_id)
        data = InvitationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.cohort_invitation_create(
            actor=request.user, cohort=cohort, **data.validated_data
        )
        response = Response(InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class CoEducatorInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)


class CoEducatorAddApi(APIView):
    """The cohort's owner (or an administrator) makes another educator a co-educator."""

    permission_classes = [IsEducator]

    @extend_schema(request=CoEducatorInput, responses={201: MemberOutput})
    def post(self, request: Request, cohort_id: int) -> Response:
        cohort = selectors.cohort_for_manager(actor=request.user, cohort_id=cohort_id)
        if not services.can_manage_educators(request.user, cohort):
            raise PermissionDenied("Only the cohort's owner adds co-educators.")
        data = CoEducatorInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.cohort_educator_add(
            actor=request.user, cohort=cohort, username=data.validated_data["username"]
        )
        return Response(MemberOutput(membership).data, status=status.HTTP_201_CREATED)


class JoinInput(serializers.Serializer):
    code = serializers.CharField(max_length=16)


class JoinApi(APIView):
    permission_classes = [IsPlayer]

    @extend_schema(request=JoinInput, responses={200: CohortOutput})
    def post(self, request: Request) -> Response:
        data = JoinInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.cohort_join_by_code(
            user=request.user, code=data.validated_data["code"]
        )
        return Response(CohortOutput(membership.cohort).data)
