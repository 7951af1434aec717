"""Studies with several views: a mark is matched only with regions on its own view."""

from __future__ import annotations

import pytest

from ml.boxes import InputError, parse_marks, parse_reference, score_localize

FRONTAL, LATERAL = 11, 12
BOX = [0.2, 0.2, 0.4, 0.4]


def _reference(views: list[object] | None) -> dict[str, object]:
    finding: dict[str, object] = {
        "id": 1,
        "label": "Nodule",
        "regions": [BOX, [0.6, 0.6, 0.8, 0.8]],
    }
    if views is not None:
        finding["views"] = views
    return {"findings": [finding], "iou_threshold": 0.3}


def test_a_box_on_the_lateral_never_hits_a_region_on_the_frontal() -> None:
    reference = _reference([FRONTAL, LATERAL])
    marks = {"boxes": [{"label": "Nodule", "box": BOX, "view": LATERAL}]}
    result = score_localize(reference, marks)
    assert result["counts"] == {"hits": 0, "misses": 2, "false_positives": 1, "mislabelled": 0}
    assert [row["view"] for row in result["regions"]] == [FRONTAL, LATERAL]
    assert result["regions"][0]["best_iou"] == 0.0


def test_each_view_is_matched_on_its_own() -> None:
    reference = _reference([FRONTAL, LATERAL])
    marks = {
        "boxes": [
            {"label": "Nodule", "box": [0.6, 0.6, 0.8, 0.8], "view": LATERAL},
            {"label": "Nodule", "box": BOX, "view": FRONTAL},
        ]
    }
    result = score_localize(reference, marks)
    assert result["score"] == 1.0
    assert [(hit["region"], hit["mark"]) for hit in result["hits"]] == [(0, 1), (1, 0)]


def test_mislabelled_is_judged_on_the_same_view_only() -> None:
    reference = {
        "findings": [
            {"id": 1, "label": "Nodule", "regions": [BOX], "views": [FRONTAL]},
            {"id": 2, "label": "Effusion", "regions": [[0.6, 0.6, 0.9, 0.9]], "views": [FRONTAL]},
        ]
    }
    on_frontal = score_localize(
        reference, {"boxes": [{"label": "Mass", "box": BOX, "view": FRONTAL}]}
    )
    on_lateral = score_localize(
        reference, {"boxes": [{"label": "Mass", "box": BOX, "view": LATERAL}]}
    )
    assert [m["true_label"] for m in on_frontal["mislabelled"]] == ["Nodule"]
    assert on_lateral["mislabelled"] == []


def test_without_views_one_image_scores_as_before() -> None:
    result = score_localize(_reference(None), {"boxes": [{"label": "Nodule", "box": BOX}]})
    assert result["counts"]["hits"] == 1
    assert result["regions"][0]["view"] is None


def test_views_must_give_one_view_per_region() -> None:
    with pytest.raises(InputError) as error:
        parse_reference(_reference([FRONTAL]))
    assert error.value.field == "findings[0].views"


@pytest.mark.parametrize("view", [True, 1.5, [1], {"id": 1}])
def test_a_mark_view_is_an_integer_or_a_string(view: object) -> None:
    with pytest.raises(InputError) as error:
        parse_marks({"boxes": [{"label": "Nodule", "box": BOX, "view": view}]}, strict=True)
    assert error.value.field == "boxes[0].view"


def test_a_mark_keeps_its_view_on_both_parse_paths() -> None:
    fast = parse_marks({"boxes": [{"label": "Nodule", "box": BOX, "view": 7}]}, strict=True)
    careful = parse_marks({"boxes": [{"label": "nodule", "box": [0, 0, 1, 1], "view": "7"}]})
    assert fast.boxes[0].view == 7
    assert careful.boxes[0].view == "7"
