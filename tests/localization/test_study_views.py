"""Studies with several views in Localize: marks and truth belong to a view, matching is per view,
a single-view client sends no view, and the result draws each mark on its own view."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.urls import reverse

from apps.cases.models import FindingBox
from apps.core.exceptions import ApplicationError
from apps.localization.feedback import attempt_feedback
from apps.localization.models import Mark
from apps.localization.rescore import localization_attempt_rescore
from apps.localization.services import localization_attempt_submit

from .conftest import build_case, build_set, png_bytes, truth

pytestmark = pytest.mark.django_db
BOX = [0.2, 0.2, 0.45, 0.45]


@pytest.fixture
def study(educator: Any, cohort: Any) -> Any:
    """A frontal and a lateral; the nodule is boxed on the lateral only."""
    from django.db import transaction

    from apps.cases.imaging import ingest_image
    from apps.cases.services import case_image_add
    from apps.cases.services.findings import case_truth_replace

    case = build_case(educator, title="Two views", findings=[truth("Nodule", [BOX])])
    data = png_bytes()
    lateral = case_image_add(
        actor=educator,
        case=case,
        ingested=ingest_image(data, filename="l.png"),
        source=data,
        projection="Lateral",
    )
    finding = truth("Nodule", [BOX])
    finding.regions[0][0] = type(finding.regions[0][0])(
        label="Nodule", box=tuple(BOX), reader="r1", view=lateral.pk
    )
    with transaction.atomic():
        case_truth_replace(case=case, findings=[finding], is_normal=False)
    case.case_set = build_set(educator, cohort, [case], name="Views set")
    return case


def _views(case: Any) -> list[int]:
    return list(case.images.order_by("position").values_list("pk", flat=True))


def _submit(user: Any, case: Any, boxes: list[dict[str, Any]]) -> Any:
    return localization_attempt_submit(
        user=user,
        case=case,
        case_set=case.case_set,
        marks_json=json.dumps({"boxes": boxes}),
        selected=[],
        idempotency_key=uuid.uuid4(),
    ).attempt


def test_truth_is_stored_on_its_view(study: Any) -> None:
    assert FindingBox.objects.get(finding__case=study).image_id == _views(study)[1]


def test_a_box_on_the_frontal_never_matches_truth_on_the_lateral(resident: Any, study: Any) -> None:
    attempt = _submit(resident, study, [{"label": "Nodule", "box": BOX}])  # no view: frontal
    assert attempt.score == 0.0
    assert attempt.result["counts"]["hits"] == 0
    assert attempt.result["counts"]["false_positives"] == 1
    assert Mark.objects.get(attempt=attempt).image_id == _views(study)[0]


def test_the_same_box_on_the_lateral_hits(resident: Any, study: Any) -> None:
    frontal, lateral = _views(study)
    attempt = _submit(resident, study, [{"label": "Nodule", "box": BOX, "view": lateral}])
    assert attempt.score == 1.0
    assert attempt.result["regions"][0]["view"] == lateral
    assert Mark.objects.get(attempt=attempt).image_id == lateral
    # The result draws the truth and the hit on the lateral, nothing on the frontal.
    overlay = attempt_feedback(attempt=attempt).overlay
    assert overlay and {item["view"] for item in overlay} == {lateral}
    assert frontal != lateral


def test_a_view_of_another_case_is_refused(resident: Any, study: Any, world: Any) -> None:
    foreign = world.case.images.get().pk
    with pytest.raises(ApplicationError, match="view this study does not have") as error:
        _submit(resident, study, [{"label": "Nodule", "box": BOX, "view": foreign}])
    assert error.value.field == "boxes[0].view"


def test_re_scoring_keeps_each_mark_on_its_view(educator: Any, resident: Any, study: Any) -> None:
    frontal = _views(study)[0]
    attempt = _submit(resident, study, [{"label": "Nodule", "box": BOX, "view": frontal}])
    assert attempt.score == 0.0
    # The educator moves the truth to the frontal: the re-score finds the frontal mark.
    from apps.cases.services import case_boxes_set

    case_boxes_set(
        actor=educator,
        case=study,
        marks={"boxes": [{"label": "Nodule", "box": BOX, "view": frontal}]},
    )
    attempt.refresh_from_db()
    assert (
        localization_attempt_rescore(attempt=attempt, case=study) is False or attempt.score == 1.0
    )
    attempt.refresh_from_db()
    assert attempt.score == 1.0
    assert attempt.result["rescored"]["previous_score"] == 0.0


def test_the_pages_offer_every_view_and_the_api_takes_a_view(
    client_for: Any, resident: Any, study: Any
) -> None:
    lateral = _views(study)[1]
    client = client_for(resident)
    page = client.get(reverse("localization:case", args=[study.case_set.pk, study.pk]))
    html = page.content.decode()
    assert html.count('mode="annotate"') == 2
    assert f'view-id="{lateral}"' in html
    url = reverse(
        "api-localize-attempt-submit", kwargs={"set_id": study.case_set.pk, "case_id": study.pk}
    )
    body = {
        "marks": {"boxes": [{"label": "Nodule", "box": BOX, "view": lateral}]},
        "idempotency_key": str(uuid.uuid4()),
    }
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["score"] == 1.0
    assert data["marks"][0]["view"] == lateral
    result = client.get(reverse("localization:attempt", args=[data["id"]])).content.decode()
    assert result.count('mode="review"') == 2 and f'view-id="{lateral}"' in result
