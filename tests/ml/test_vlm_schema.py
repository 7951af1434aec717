from __future__ import annotations

import json
from typing import Any

import pytest

from ml.vlm import ExplainRequest, ExplainRequestError, Explanation

FULL_REQUEST: dict[str, Any] = {
    "label": "Nodule",
    "error": "mislabelled",
    "box": [0.1, 0.2, 0.3, 0.4],
    "view": "pa",
    "sentence": "Right upper zone nodule.",
    "marked_label": "Mass",
    "marked_box": [0.12, 0.2, 0.3, 0.41],
    "image_path": "cases/12/cxr.png",
    "age": 54,
    "sex": "female",
}


def test_request_round_trips_through_json() -> None:
    request = ExplainRequest.from_dict(FULL_REQUEST)

    again = ExplainRequest.from_dict(json.loads(json.dumps(request.to_dict())))

    assert again == request
    assert request.to_dict()["box"] == [0.1, 0.2, 0.3, 0.4]
    assert request.view == "PA"
    assert request.sex == "F"


def test_unknown_keys_are_ignored_for_forward_compatibility() -> None:
    request = ExplainRequest.from_dict({"label": "Nodule", "error": "missed", "case_id": 7})

    assert request.to_dict()["label"] == "Nodule"
    assert "case_id" not in request.to_dict()


def test_explanation_round_trips_through_json() -> None:
    explanation = Explanation("text", "openai", "medgemma", "vlm-1", fallback_reason=None)

    assert Explanation.from_dict(json.loads(json.dumps(explanation.to_dict()))) == explanation


def test_focus_box_is_the_residents_box_for_a_false_positive() -> None:
    request = ExplainRequest(
        label="Nodule",
        error="false_positive",
        marked_label="Nodule",
        marked_box=(0.5, 0.5, 0.6, 0.6),
    )

    assert request.focus_box == (0.5, 0.5, 0.6, 0.6)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"label": ""}, "label"),
        ({"label": "x" * 81}, "label"),
        ({"error": "wrong"}, "error"),
        ({"box": [0.3, 0.2, 0.1, 0.4]}, "box"),
        ({"box": [0.1, 0.2, 0.3]}, "box"),
        ({"box": [0.1, 0.2, 0.3, float("nan")]}, "box"),
        ({"box": [0.1, 0.2, 0.3, 1.5]}, "box"),
        ({"box": [True, 0.2, 0.3, 0.4]}, "box"),
        ({"box": "0.1,0.2,0.3,0.4"}, "box"),
        ({"marked_box": [0, 0, 0, 0]}, "marked_box"),
        ({"image_path": "/etc/passwd"}, "image_path"),
        ({"image_path": "cases/../../secret.png"}, "image_path"),
        ({"image_path": "C:\\x.png"}, "image_path"),
        ({"age": 200}, "age"),
        ({"age": "54"}, "age"),
        ({"sex": "yes"}, "sex"),
        ({"marked_label": None}, "marked_label"),
    ],
)
def test_malformed_requests_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ExplainRequestError, match=field):
        ExplainRequest.from_dict({**FULL_REQUEST, **change})


def test_missing_required_keys_are_reported() -> None:
    with pytest.raises(ExplainRequestError, match="error is required"):
        ExplainRequest.from_dict({"label": "Nodule"})
