"""The educator API: allowed for educators (their own objects), 403 for residents."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.cases.models import Case
from tests.cases.factories import CANARY_BOX, CANARY_REPORT, make_case, make_set, png_bytes

pytestmark = pytest.mark.django_db


def test_detail_carries_ground_truth_for_the_owner(educator: Any, client_for: Any) -> None:
    case = make_case(educator)
    response = client_for(educator).get(reverse("api-case-detail", args=[case.pk]))
    assert response.status_code == 200
    data = response.json()
    assert data["findings"][0]["regions"] == [[[CANARY_BOX, 0.2, 0.4, 0.5]]]
    assert data["report"]["findings"] == CANARY_REPORT
    assert response["Cache-Control"] == "no-store"


def test_list_create_truth_publish(educator: Any, client_for: Any) -> None:
    client = client_for(educator)
    created = client.post(
        reverse("api-case-list"),
        {"title": "API case", "patient_age": 40, "tags": ["x"]},
        content_type="application/json",
    )
    assert created.status_code == 201
    case_id = created.json()["id"]
    assert [c["id"] for c in client.get(reverse("api-case-list")).json()] == [case_id]
    bad = client.put(
        reverse("api-case-truth", args=[case_id]),
        {"boxes": [{"label": "Unicorn", "box": [0.1, 0.1, 0.2, 0.2]}]},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "Unicorn" in bad.json()["detail"]
    truth = client.put(
        reverse("api-case-truth", args=[case_id]),
        {
            "boxes": [{"label": "Nodule", "box": [0.1, 0.1, 0.2, 0.2]}],
            "selected": ["Edema"],
            "report_findings": "Nodule.",
        },
        content_type="application/json",
    )
    assert truth.status_code == 200 and len(truth.json()["findings"]) == 2
    no_image = client.post(
        reverse("api-case-publish", args=[case_id]),
        {"published": True},
        content_type="application/json",
    )
    assert no_image.status_code == 400 and "image" in no_image.json()["detail"]


def test_upload_and_import_start_jobs(
    educator: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(educator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("api-case-upload"),
            {"file": SimpleUploadedFile("a.png", png_bytes()), "title": "Up"},
        )
    assert response.status_code == 202
    assert Case.objects.get().title == "Up"
    response = client.post(
        reverse("api-case-import"),
        {"file": SimpleUploadedFile("a.png", png_bytes()), "format": "yaml"},
    )
    assert response.status_code == 400


def test_case_sets(educator: Any, other_educator: Any, client_for: Any, cohort: Any) -> None:
    cases = [make_case(educator, title=f"c{i}") for i in range(2)]
    client = client_for(educator)
    response = client.post(
        reverse("api-case-set-list"),
        {"name": "API set", "case_ids": [cases[1].pk, cases[0].pk], "iou_threshold": 0.5},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["case_ids"] == [cases[1].pk, cases[0].pk]
    set_id = response.json()["id"]
    assert client.get(reverse("api-case-set-detail", args=[set_id])).json()["iou_threshold"] == 0.5
    assert [s["name"] for s in client.get(reverse("api-case-set-list")).json()] == ["API set"]
    foreign = make_case(other_educator)
    refused = client.post(
        reverse("api-case-set-list"),
        {"name": "x", "case_ids": [foreign.pk]},
        content_type="application/json",
    )
    assert refused.status_code == 404
    assert (
        client_for(other_educator).get(reverse("api-case-set-detail", args=[set_id])).status_code
        == 404
    )


def test_every_endpoint_refuses_residents(
    resident: Any, educator: Any, client_for: Any, cohort: Any
) -> None:
    case = make_case(educator)
    case_set = make_set(educator, [case], cohort=cohort)
    client = client_for(resident)
    gets = [
        reverse("api-case-list"),
        reverse("api-case-detail", args=[case.pk]),
        reverse("api-case-set-list"),
        reverse("api-case-set-detail", args=[case_set.pk]),
    ]
    posts = [
        reverse("api-case-list"),
        reverse("api-case-upload"),
        reverse("api-case-import"),
        reverse("api-case-publish", args=[case.pk]),
        reverse("api-case-set-list"),
    ]
    for url in gets:
        assert client.get(url).status_code == 403, url
        assert client_for(None).get(url).status_code == 403, url
    for url in posts:
        assert client.post(url, {}).status_code == 403, url
    assert (
        client.put(
            reverse("api-case-truth", args=[case.pk]), {}, content_type="application/json"
        ).status_code
        == 403
    )


def test_other_educator_gets_404(educator: Any, other_educator: Any, client_for: Any) -> None:
    case = make_case(educator)
    client = client_for(other_educator)
    assert client.get(reverse("api-case-detail", args=[case.pk])).status_code == 404
    assert (
        client.put(
            reverse("api-case-truth", args=[case.pk]), {}, content_type="application/json"
        ).status_code
        == 404
    )
    assert client.get(reverse("api-case-list")).json() == []


@pytest.mark.parametrize(
    ("box", "field"),
    [
        ({"label": "Nodule", "box": [0.1, 0.1, 0.2, 0.2], "colour": "red"}, "boxes[0].colour"),
        ({"label": "Nodule", "box": "0.1,0.1,0.2,0.2"}, "boxes[0].box"),
        ({"label": 7, "box": [0.1, 0.1, 0.2, 0.2]}, "boxes[0].label"),
    ],
)
def test_truth_boxes_go_through_the_one_strict_marks_parser(
    educator: Any, resident: Any, client_for: Any, box: dict, field: str
) -> None:
    case = make_case(educator)
    url = reverse("api-case-truth", args=[case.pk])
    before = list(case.findings.values_list("label", flat=True))
    refused = client_for(resident).put(url, {"boxes": [box]}, content_type="application/json")
    assert refused.status_code == 403
    bad = client_for(educator).put(url, {"boxes": [box]}, content_type="application/json")
    assert bad.status_code == 400, bad.content
    assert bad.json()["field"] == field and field in bad.json()["detail"]
    assert list(case.findings.values_list("label", flat=True)) == before  # nothing lost
