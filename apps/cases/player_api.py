"""What a player's client is told about a case before answering: the study, never the answers.

Both exercises (Localize and Report) deliver cases through these serializers, so an API client sees
one shape for a case and its images whichever exercise it plays.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from .models import Case, CaseImage, CaseSet
from .titles import case_title_for


class PlayerImageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    projection = serializers.CharField(
        allow_blank=True, help_text="The view: Frontal, Lateral, PA, AP, LL, ... or empty"
    )
    display_url = serializers.CharField()
    pixels16_url = serializers.CharField(allow_null=True)
    width = serializers.IntegerField(help_text="Width of the display image, in pixels")
    height = serializers.IntegerField(help_text="Height of the display image, in pixels")
    window_presets = serializers.JSONField()


class PlayerCaseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(
        help_text='"Case 7 of 44" for residents (a dataset id would give the answers away); '
        "educators get the case's own title"
    )
    patient_age = serializers.IntegerField(allow_null=True)
    patient_sex = serializers.CharField(allow_blank=True, help_text="F, M, O or empty")
    view = serializers.CharField(allow_blank=True)
    indication = serializers.CharField(allow_blank=True)
    comparison = serializers.CharField(
        allow_blank=True,
        help_text='The prior the report compares with: "" not stated, "None." none; the prior '
        "itself is never shown",
    )
    source = serializers.CharField(allow_blank=True)
    images = PlayerImageOutput(many=True, help_text="The study's views, in order")


def player_image_data(image: CaseImage) -> dict[str, Any]:
    def url(variant: str) -> str:
        return reverse("cases:image", kwargs={"image_id": image.pk, "variant": variant})

    return {
        "id": image.pk,
        "projection": image.projection,
        "display_url": url("display"),
        "pixels16_url": url("pixels16") if image.pixels16 else None,
        "width": image.display_width,
        "height": image.display_height,
        "window_presets": image.window_presets or [],
    }


def player_case_data(case: Case, *, user: Any, case_set: CaseSet | None) -> dict[str, Any]:
    """The case as ``user`` sees it when playing it in ``case_set``; images must be prefetched by
    the caller's selector."""
    return {
        "id": case.pk,
        "title": case_title_for(user=user, case=case, case_set=case_set),
        "patient_age": case.patient_age,
        "patient_sex": case.patient_sex,
        "view": case.view,
        "indication": case.indication,
        "comparison": case.comparison,
        "source": case.attribution or case.source,
        "images": [player_image_data(image) for image in case.images.all()],
    }
