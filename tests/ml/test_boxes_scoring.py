"""Every Localize scoring rule, one worked example each."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from ml.boxes import InputError, greedy, iou, match, parse_marks, parse_reference, score_localize

FULL_HEIGHT = (0.2, 0.8)


def strip(x1: float, x2: float) -> list[float]:
    """A box spanning FULL_HEIGHT, so IoU is the 1-D overlap ratio along x."""
    return [x1, FULL_HEIGHT[0], x2, FULL_HEIGHT[1]]


def drawn(label: str, *regions: Any) -> dict[str, Any]:
    return {"label": label, "regions": list(regions)}


def mark(label: str, box: list[float], confidence: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"label": label, "box": box}
    if confidence is not None:
        data["confidence"] = confidence
    return data


def score(findings: list[dict[str, Any]], boxes: list[dict[str, Any]], **extra: Any) -> dict:
    selected = extra.pop("selected", [])
    return score_localize({"findings": findings, **extra}, {"boxes": boxes, "selected": selected})


def test_it_scores_a_matching_box_as_a_hit() -> None:
    result = score(
        [drawn("Nodule", [0.6, 0.3, 0.7, 0.4])], [mark("nodule", [0.6, 0.3, 0.7, 0.41], 4)]
    )
    assert result["score"] == 1.0
    assert result["hits"] == [
        {
            "label": "Nodule",
            "kind": "draw",
            "region": 0,
            "mark": 0,
            "iou": pytest.approx(10 / 11),
            "confidence": 4,
        }
    ]
    assert result["misses"] == result["false_positives"] == result["mislabelled"] == []
    assert result["counts"] == {"hits": 1, "misses": 0, "false_positives": 0, "mislabelled": 0}


def test_it_scores_an_unmarked_region_as_a_miss() -> None:
    result = score([drawn("Pneumothorax", [0.6, 0.1, 0.8, 0.2])], [])
    assert result["score"] == 0.0
    assert result["misses"] == [{"label": "Pneumothorax", "kind": "draw", "region": 0}]
    assert result["regions"][0]["best_iou"] == 0.0
    assert result["regions"][0]["hit"] is False


def test_it_scores_an_unmatched_box_as_a_false_positive() -> None:
    result = score(
        [drawn("Nodule", [0.6, 0.3, 0.7, 0.4])],
        [mark("Nodule", [0.6, 0.3, 0.7, 0.4]), mark("Mass", [0.1, 0.1, 0.2, 0.2], 2)],
    )
    assert result["score"] == 0.5
    assert result["false_positives"] == [
        {"label": "Mass", "kind": "draw", "mark": 1, "confidence": 2}
    ]
    assert result["mislabelled"] == []


def test_it_counts_a_second_box_on_a_matched_region_as_a_false_positive() -> None:
    result = score(
        [drawn("Effusion", [0.1, 0.5, 0.3, 0.8])],
        [mark("Effusion", [0.1, 0.5, 0.3, 0.79]), mark("Effusion", [0.1, 0.5, 0.3, 0.8])],
    )
    assert [hit["mark"] for hit in result["hits"]] == [1]  # the better box takes the region
    assert [fp["mark"] for fp in result["false_positives"]] == [0]
    assert result["mislabelled"] == []  # same label: a duplicate, not a wrong name
    assert result["score"] == 0.5


def test_it_requires_the_same_label_for_a_hit() -> None:
    result = score([drawn("Nodule", [0.6, 0.3, 0.7, 0.4])], [mark("Mass", [0.6, 0.3, 0.7, 0.4])])
    assert result["hits"] == []
    assert result["score"] == 0.0


def test_it_hits_at_exactly_the_threshold_and_not_below() -> None:
    region, box = [0.1, 0.2, 0.5, 0.6], [0.1, 0.2, 0.3, 0.6]
    value = iou(tuple(region), tuple(box))
    at = score([drawn("Mass", region)], [mark("Mass", box)], iou_threshold=value)
    above = score(
        [drawn("Mass", region)], [mark("Mass", box)], iou_threshold=math.nextafter(value, 1.0)
    )
    assert at["score"] == 1.0 and at["iou_threshold"] == value
    assert above["score"] == 0.0
    assert above["regions"][0]["best_iou"] == value  # shown even though it missed


def test_it_uses_the_default_reference_and_explicit_thresholds_in_that_order() -> None:
    reference = {"findings": [drawn("Mass", strip(0.1, 0.5))]}
    marks = {"boxes": [mark("Mass", strip(0.1, 0.26))]}  # IoU 0.4
    assert score_localize(reference, marks)["iou_threshold"] == 0.3
    assert score_localize(reference, marks)["score"] == 1.0
    strict = {**reference, "iou_threshold": 0.5}
    assert score_localize(strict, marks)["score"] == 0.0
    assert score_localize(strict, marks, iou_threshold=0.35)["score"] == 1.0
    for bad in (0, -0.1, 1.01, math.nan):
        with pytest.raises(InputError, match="iou_threshold"):
            score_localize(reference, marks, iou_threshold=bad)


def test_it_hits_a_region_through_any_readers_box() -> None:
    # Two readers boxed the same effusion differently; the mark agrees with the second.
    result = score(
        [drawn("Effusion", [strip(0.0, 0.2), strip(0.5, 0.9)])], [mark("Effusion", strip(0.5, 0.8))]
    )
    assert result["score"] == 1.0
    assert result["hits"][0]["iou"] == pytest.approx(0.75)
    assert result["regions"][0]["boxes"] == ((0.0, 0.2, 0.2, 0.8), (0.5, 0.2, 0.9, 0.8))


def test_it_matches_for_the_most_hits_where_greedy_and_max_iou_would_not() -> None:
    # IoU(A,a)=0.9 tempts greedy (and a plain IoU-sum optimum: 0.9 > 0.35 + 0.32) into one hit;
    # pairing A-b and B-a finds both regions.
    regions = [strip(0.0, 0.4), strip(0.2, 0.5)]
    marks = [mark("Mass", strip(0.0, 0.36)), mark("Mass", strip(0.0, 0.14))]
    result = score([drawn("Mass", *regions)], marks)
    assert sorted((hit["region"], hit["mark"]) for hit in result["hits"]) == [(0, 1), (1, 0)]
    assert result["score"] == 1.0
    table = [[iou(tuple(r), tuple(m["box"])) for m in marks] for r in regions]
    assert len(greedy(table, 0.3)) == 1
    assert len(match(table, 0.3)) == 2


def test_it_matches_large_tangled_problems_optimally() -> None:
    # Eight overlapping regions and eight marks shifted by one: the Hungarian path.
    regions = [strip(0.05 * i, 0.05 * i + 0.2) for i in range(8)]
    boxes = [mark("Infiltration", strip(0.05 * i + 0.01, 0.05 * i + 0.21)) for i in range(8)]
    result = score([drawn("Infiltration", *regions)], list(reversed(boxes)))
    assert result["counts"]["hits"] == 8
    assert sorted((h["region"], h["mark"]) for h in result["hits"]) == [
        (i, 7 - i) for i in range(8)
    ]


def test_it_lists_a_false_positive_on_another_labels_region_as_mislabelled() -> None:
    result = score(
        [drawn("Nodule", [0.6, 0.3, 0.7, 0.4]), drawn("Effusion", [0.1, 0.6, 0.3, 0.8])],
        [mark("Mass", [0.6, 0.3, 0.7, 0.41]), mark("Effusion", [0.1, 0.6, 0.3, 0.8])],
    )
    assert result["mislabelled"] == [
        {
            "mark": 0,
            "marked_label": "Mass",
            "true_label": "Nodule",
            "region": 0,
            "iou": pytest.approx(10 / 11),
        }
    ]
    # Mislabelled is an explanation of a false positive, not an extra penalty.
    assert [fp["mark"] for fp in result["false_positives"]] == [0]
    assert result["misses"] == [{"label": "Nodule", "kind": "draw", "region": 0}]
    assert result["score"] == pytest.approx(1 / 3)


def test_it_does_not_call_a_box_mislabelled_below_the_threshold() -> None:
    result = score([drawn("Nodule", strip(0.0, 0.5))], [mark("Mass", strip(0.0, 0.1))])
    assert result["mislabelled"] == []
    assert len(result["false_positives"]) == 1


def test_it_scores_select_findings_by_presence() -> None:
    result = score(
        [
            {"label": "Emphysema", "localizable": False},
            {"label": "Edema", "localizable": False},
        ],
        [],
        selected=["emphysema", "Fibrosis"],
    )
    assert result["hits"] == [
        {
            "label": "Emphysema",
            "kind": "select",
            "region": None,
            "mark": None,
            "iou": None,
            "confidence": None,
        }
    ]
    assert result["misses"] == [{"label": "Edema", "kind": "select", "region": None}]
    assert result["false_positives"] == [
        {"label": "Fibrosis", "kind": "select", "mark": None, "confidence": None}
    ]
    assert [(s["label"], s["outcome"]) for s in result["selected"]] == [
        ("Emphysema", "hit"),
        ("Edema", "miss"),
        ("Fibrosis", "false_positive"),
    ]
    assert result["score"] == pytest.approx(1 / 3)


def test_it_counts_a_box_named_as_a_present_presence_only_finding_as_ticking_it() -> None:
    # Cardiomegaly is drawn by default: recorded without a box, it is a presence-only finding.
    result = score(
        [{"label": "Cardiomegaly", "localizable": False, "id": 41}],
        [mark("Cardiomegaly", [0.3, 0.4, 0.7, 0.8]), mark("Cardiomegaly", [0.3, 0.4, 0.7, 0.7])],
    )
    assert result["score"] == 1.0
    assert result["hits"][0]["kind"] == "presence"
    assert result["hits"][0]["mark"] == 0
    assert result["false_positives"] == []
    assert result["selected"][0] == {
        "label": "Cardiomegaly",
        "present": True,
        "presence_only": True,
        "finding_id": 41,
        "ticked": False,
        "marks": [0, 1],
        "outcome": "hit",
    }


def test_it_does_not_score_a_tick_for_a_drawn_finding() -> None:
    result = score([drawn("Effusion", [0.1, 0.6, 0.3, 0.8])], [], selected=["Pleural effusion"])
    assert result["selected"] == [
        {
            "label": "Effusion",
            "present": True,
            "presence_only": False,
            "finding_id": None,
            "ticked": True,
            "marks": [],
            "outcome": "not_scored",
        }
    ]
    assert result["counts"] == {"hits": 0, "misses": 1, "false_positives": 0, "mislabelled": 0}


def test_it_scores_a_normal_case_left_unmarked_as_perfect() -> None:
    result = score([], [], selected=["No finding"])
    assert result["score"] == 1.0
    assert result["normal_ticked"] is True
    assert result["regions"] == result["hits"] == result["selected"] == []
    assert score([{"label": "No Finding"}], [])["score"] == 1.0


def test_it_scores_marks_on_a_normal_case_as_false_positives() -> None:
    result = score([], [mark("Nodule", [0.1, 0.1, 0.2, 0.2])], selected=["Emphysema"])
    assert result["score"] == 0.0
    assert len(result["false_positives"]) == 2
    assert result["normal_ticked"] is False


def test_it_reports_every_region_with_its_best_iou_and_origin() -> None:
    result = score(
        [
            drawn("Nodule", [0.6, 0.3, 0.7, 0.4], strip(0.0, 0.2)),
            {"label": "Emphysema", "localizable": False},
            drawn("Mass", strip(0.5, 0.9)),
        ],
        [mark("Nodule", strip(0.0, 0.1)), mark("Mass", strip(0.5, 0.9))],
    )
    rows = [
        (row["region"], row["label"], row["finding"], row["index"], row["mark"], row["hit"])
        for row in result["regions"]
    ]
    assert rows == [
        (0, "Nodule", 0, 0, None, False),
        (1, "Nodule", 0, 1, 0, True),
        (2, "Mass", 2, 0, 1, True),
    ]
    assert [row["best_iou"] for row in result["regions"]] == pytest.approx([0.0, 0.5, 1.0])


def test_it_gives_the_same_result_for_json_dicts_and_parsed_objects() -> None:
    reference = {"findings": [drawn("Nodule", [0.6, 0.3, 0.7, 0.4]), drawn("Mass", strip(0, 0.4))]}
    marks = {"boxes": [mark("Mass", strip(0.05, 0.4)), mark("Nodule", [0.6, 0.3, 0.7, 0.4])]}
    from_json = score_localize(reference, marks)
    parsed = score_localize(parse_reference(reference), parse_marks(marks))
    assert from_json == parsed
    # Re-scoring is bit-identical, and the result survives a JSON round trip unchanged.
    assert json.dumps(parsed) == json.dumps(score_localize(reference, marks))
    assert json.loads(json.dumps(parsed))["score"] == parsed["score"]


def test_it_rejects_bad_input_naming_the_field() -> None:
    with pytest.raises(InputError, match=r"^boxes\[0\]\.label: Unknown finding label"):
        score_localize({"findings": []}, {"boxes": [{"label": "Lump", "box": [0, 0, 1, 1]}]})


def test_a_presence_only_finding_earns_credit_for_a_tick_and_is_reported_as_such() -> None:
    findings = [
        {"label": "Infiltration", "localizable": False, "id": 3},
        {"label": "Emphysema", "localizable": False, "id": 4},
    ]
    ticked = score(findings, [], selected=["Infiltrate"])  # any synonym
    assert ticked["hits"] == [
        {
            "label": "Infiltration",
            "kind": "presence",
            "region": None,
            "mark": None,
            "iou": None,
            "confidence": None,
        }
    ]
    assert ticked["misses"] == [{"label": "Emphysema", "kind": "select", "region": None}]
    assert [(s["label"], s["presence_only"], s["finding_id"]) for s in ticked["selected"]] == [
        ("Infiltration", True, 3),
        ("Emphysema", False, 4),
    ]
    untouched = score(findings, [])
    assert [m["kind"] for m in untouched["misses"]] == ["presence", "select"]
    assert untouched["score"] == 0.0


def test_a_tick_of_a_label_the_case_lacks_is_a_false_positive_even_for_drawn_labels() -> None:
    result = score([drawn("Nodule", [0.6, 0.3, 0.7, 0.4])], [], selected=["Atelectasis"])
    assert result["false_positives"] == [
        {"label": "Atelectasis", "kind": "select", "mark": None, "confidence": None}
    ]
    assert result["selected"][0]["outcome"] == "false_positive"


def test_region_rows_carry_the_reference_finding_id() -> None:
    result = score(
        [{"label": "Nodule", "regions": [[0.6, 0.3, 0.7, 0.4], [0.1, 0.1, 0.2, 0.2]], "id": 12}],
        [mark("Nodule", [0.6, 0.3, 0.7, 0.4])],
    )
    assert [(r["finding_id"], r["index"], r["hit"]) for r in result["regions"]] == [
        (12, 0, True),
        (12, 1, False),
    ]
    assert score([drawn("Nodule", [0.6, 0.3, 0.7, 0.4])], [])["regions"][0]["finding_id"] is None
