"""The rules of an answer, through the one marks parser: strict fields and "normal" alone.

The same parser reads the Localize form, the Localize API and the case editor; each rule is
tried through the player's form and API (the editor's side is in tests/cases), for the player
who may submit and for one who may not.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.urls import reverse

from apps.localization.models import LocalizationAttempt

from .conftest import NODULE_BOX
from .test_views import HX, play_and_submit

pytestmark = pytest.mark.django_db

NORMAL = "No finding"


def api_submit(client: Any, world: Any, marks: Any, case: Any = None, **extra: Any) -> Any:
    url = reverse(
        "api-localize-attempt-submit",
        kwargs={"set_id": world.practice.pk, "case_id": (case or world.case).pk},
    )
    body = {"marks": marks, "idempotency_key": str(uuid.uuid4()), **extra}
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("marks", "field"),
    [
        ({"boxes": [], "selected": "Emphysema"}, "selected"),  # a string, not a list
        ({"boxes": [], "selcted": ["Emphysema"]}, "selcted"),
        ({"boxes": [{"label": "Nodule", "box": NODULE_BOX, "colour": "red"}]}, "boxes[0].colour"),
        ({"boxes": [{"label": "Nodule", "box": NODULE_BOX, "confidence": "5"}]}, "boxes[0].confidence"),
        ({"selected": ["Emphysema", 7]}, "selected[1]"),
    ],
)  # fmt: skip
def test_unknown_or_mistyped_fields_are_refused_naming_them(
    client_for, resident, world, marks, field
):
    response = api_submit(client_for(resident), world, marks)
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert field in json.dumps(response.json())
    form = play_and_submit(client_for(resident), world, marks)
    assert form.status_code == 400 and field in form.content.decode()
    assert not LocalizationAttempt.objects.exists()


def test_normal_with_boxes_or_ticks_is_refused_with_a_clear_message(client_for, resident, world):
    client = client_for(resident)
    boxed = {"boxes": [{"label": "Nodule", "box": NODULE_BOX}], "selected": [NORMAL]}
    for response in (
        api_submit(client, world, boxed),
        api_submit(client, world, {"boxes": []}, selected=[NORMAL, "Emphysema"]),
    ):
        assert response.status_code == 400
        assert "Normal study" in response.json()["detail"]
        assert response.json()["field"] == "selected"
    htmx = play_and_submit(client, world, {"boxes": boxed["boxes"]}, [NORMAL], **HX)
    assert htmx["HX-Retarget"] == "#localize-errors"
    assert "nothing to find" in htmx.content.decode()
    assert not LocalizationAttempt.objects.exists()


def test_normal_alone_is_an_answer(client_for, resident, world):
    response = api_submit(
        client_for(resident), world, {}, case=world.normal_case, selected=[NORMAL]
    )
    assert response.status_code == 201, response.content
    assert response.json()["score"] == 1.0


def test_a_player_outside_the_set_is_refused_before_any_parsing(client_for, other_resident, world):
    response = api_submit(client_for(other_resident), world, {"boxes": [], "selected": "x"})
    assert response.status_code == 404
    assert not LocalizationAttempt.objects.exists()
