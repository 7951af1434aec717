"""Properties of IoU, matching and the case score, checked with hypothesis.

Example counts come from the profile named by $HYPOTHESIS_PROFILE: "dev" (default, 200 examples),
"ci" (2,000) or "nightly" (10,000).
"""

from __future__ import annotations

import itertools
import math
import os
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ml.boxes import (
    BoxError,
    InputError,
    Mark,
    greedy,
    iou,
    iou_matrix,
    match,
    model,
    parse_marks,
    score_localize,
    validate_box,
)

for _name, _examples in (("dev", 200), ("ci", 2_000), ("nightly", 10_000)):
    try:
        settings.get_profile(_name)
    except InvalidArgument:
        settings.register_profile(
            _name,
            max_examples=_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

Box = tuple[float, float, float, float]
THRESHOLD = 0.3


@st.composite
def boxes(draw: st.DrawFn, min_side: float = 0.0) -> Box:
    """Any box validate_box accepts, down to subnormal sides unless ``min_side`` is given."""
    x1, x2 = sorted(draw(st.lists(st.floats(0, 1), min_size=2, max_size=2, unique=True)))
    y1, y2 = sorted(draw(st.lists(st.floats(0, 1), min_size=2, max_size=2, unique=True)))
    assume(x2 - x1 > min_side and y2 - y1 > min_side)
    try:
        return validate_box([x1, y1, x2, y2])
    except BoxError:
        assume(False)
        raise


@st.composite
def clustered_boxes(draw: st.DrawFn) -> Box:
    """Boxes around a few centres, so regions and marks overlap and compete."""
    cx = draw(st.sampled_from((0.3, 0.5, 0.7))) + draw(st.floats(-0.06, 0.06))
    cy = draw(st.sampled_from((0.4, 0.6))) + draw(st.floats(-0.06, 0.06))
    half_w, half_h = draw(st.floats(0.03, 0.2)), draw(st.floats(0.03, 0.2))
    return (
        max(cx - half_w, 0.0),
        max(cy - half_h, 0.0),
        min(cx + half_w, 1.0),
        min(cy + half_h, 1.0),
    )


def objective(pairs: list[tuple[int, int, float]]) -> tuple[int, float]:
    return len(pairs), sum(pair[2] for pair in pairs)


def brute_force(table: list[list[float]], threshold: float) -> tuple[int, float]:
    """The best (hits, IoU sum) over every one-to-one assignment."""
    rows, columns = len(table), len(table[0]) if table else 0
    best = (0, 0.0)
    for size in range(min(rows, columns), 0, -1):
        for chosen_rows in itertools.combinations(range(rows), size):
            for chosen_columns in itertools.permutations(range(columns), size):
                values = [table[r][c] for r, c in zip(chosen_rows, chosen_columns, strict=True)]
                if all(v >= threshold for v in values):
                    best = max(best, (size, sum(values)))
        if best[0] == size:
            break  # fewer hits can never beat this
    return best


@given(boxes(), boxes())
def test_iou_is_symmetric_and_bounded(a: Box, b: Box) -> None:
    value = iou(a, b)
    assert 0.0 <= value <= 1.0
    assert value == iou(b, a)


@given(boxes())
def test_iou_of_a_box_with_itself_is_one(a: Box) -> None:
    assert iou(a, a) == 1.0


@given(boxes(), boxes())
def test_iou_of_disjoint_boxes_is_zero(a: Box, b: Box) -> None:
    assume(a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])
    assert iou(a, b) == 0.0


@given(
    boxes(min_side=1e-3),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
)
def test_iou_of_a_contained_box_is_the_area_ratio(
    outer: Box, left: float, top: float, right: float, bottom: float
) -> None:
    width, height = outer[2] - outer[0], outer[3] - outer[1]
    x1, x2 = sorted((outer[0] + left * width, outer[0] + right * width))
    y1, y2 = sorted((outer[1] + top * height, outer[1] + bottom * height))
    assume(x2 - x1 > 1e-6 and y2 - y1 > 1e-6)
    inner = (x1, y1, x2, y2)
    ratio = ((x2 - x1) * (y2 - y1)) / (width * height)
    assert iou(outer, inner) == pytest.approx(ratio, rel=1e-9, abs=1e-12)


@given(boxes(min_side=1e-3), boxes(min_side=1e-3), st.floats(0.1, 1.0), st.floats(-0.5, 0.5))
def test_iou_is_invariant_to_moving_and_scaling_both_boxes(
    a: Box, b: Box, scale: float, shift: float
) -> None:
    def moved(box: Box) -> Box:
        return tuple(v * scale + shift for v in box)  # type: ignore[return-value]

    assert iou(moved(a), moved(b)) == pytest.approx(iou(a, b), abs=1e-6)


@given(st.lists(boxes(), max_size=6), st.lists(boxes(), max_size=6))
def test_iou_matrix_equals_scalar_iou(a: list[Box], b: list[Box]) -> None:
    matrix = iou_matrix(a, b)
    assert matrix.shape == (len(a), len(b))
    assert matrix.tolist() == [[iou(x, y) for y in b] for x in a]


@given(
    st.lists(clustered_boxes(), min_size=1, max_size=5),
    st.lists(clustered_boxes(), min_size=1, max_size=5),
    st.sampled_from((0.1, 0.3, 0.5)),
)
def test_matching_is_optimal_and_never_worse_than_greedy(
    regions: list[Box], marks: list[Box], threshold: float
) -> None:
    table = [[iou(r, m) for m in marks] for r in regions]
    pairs = match(table, threshold)
    assert len({r for r, _, _ in pairs}) == len(pairs) == len({c for _, c, _ in pairs})
    assert all(table[r][c] == value >= threshold for r, c, value in pairs)
    hits, total = objective(pairs)
    best_hits, best_total = brute_force(table, threshold)
    assert hits == best_hits
    assert total == pytest.approx(best_total, abs=1e-9)
    greedy_hits, greedy_total = objective(greedy(table, threshold))
    assert (hits, total + 1e-9) >= (greedy_hits, greedy_total)


LABELS = ("Nodule", "Mass", "Effusion")


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    findings = []
    for label in draw(st.lists(st.sampled_from(LABELS), max_size=4)):
        regions = draw(
            st.lists(st.lists(clustered_boxes(), min_size=1, max_size=3), min_size=1, max_size=3)
        )
        findings.append({"label": label, "regions": [[list(b) for b in r] for r in regions]})
    marks = [
        {"label": draw(st.sampled_from(LABELS)), "box": list(draw(clustered_boxes()))}
        for _ in range(draw(st.integers(0, 8)))
    ]
    return {"findings": findings}, {"boxes": marks}


@given(cases(), st.randoms(use_true_random=False))
def test_score_does_not_depend_on_mark_order(
    case: tuple[dict[str, Any], dict[str, Any]], shuffler: random.Random
) -> None:
    reference, marks = case
    shuffled = {"boxes": list(marks["boxes"])}
    shuffler.shuffle(shuffled["boxes"])
    first, second = score_localize(reference, marks), score_localize(reference, shuffled)
    assert first["score"] == second["score"]
    assert first["counts"] == second["counts"]
    assert sum(h["iou"] for h in first["hits"]) == pytest.approx(
        sum(h["iou"] for h in second["hits"]), abs=1e-9
    )


@given(cases())
def test_every_region_and_every_mark_is_accounted_for_once(
    case: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    reference, marks = case
    result = score_localize(reference, marks)
    regions = sum(len(f["regions"]) for f in reference["findings"])
    counts = result["counts"]
    assert counts["hits"] + counts["misses"] == regions == len(result["regions"])
    assert counts["hits"] + counts["false_positives"] == len(marks["boxes"])
    assert {h["mark"] for h in result["hits"]}.isdisjoint(
        f["mark"] for f in result["false_positives"]
    )
    assert {m["mark"] for m in result["mislabelled"]} <= {
        f["mark"] for f in result["false_positives"]
    }
    total = counts["hits"] + counts["misses"] + counts["false_positives"]
    assert result["score"] == (counts["hits"] / total if total else 1.0)
    boxes = [tuple(m["box"]) for m in marks["boxes"]]
    for row in result["regions"]:
        assert 0.0 <= row["best_iou"] <= 1.0
        assert row["hit"] == (row["mark"] is not None)
        same_label = [
            b for m, b in zip(marks["boxes"], boxes, strict=True) if m["label"] == row["label"]
        ]
        # The scorer's inline IoU must be geometry.iou exactly.
        expected = max((iou(a, b) for a in row["boxes"] for b in same_label), default=0.0)
        assert row["best_iou"] == expected
    for hit in result["hits"]:
        region = result["regions"][hit["region"]]
        assert hit["iou"] == max(iou(a, boxes[hit["mark"]]) for a in region["boxes"])


@given(cases(), st.floats(0.05, 0.95), st.floats(0.05, 0.95))
def test_raising_the_threshold_never_adds_hits(
    case: tuple[dict[str, Any], dict[str, Any]], low: float, high: float
) -> None:
    low, high = sorted((low, high))
    reference, marks = case
    strict = score_localize(reference, marks, iou_threshold=high)["counts"]["hits"]
    lenient = score_localize(reference, marks, iou_threshold=low)["counts"]["hits"]
    assert strict <= lenient


# Values a client might send where a coordinate, a flag or a confidence belongs.
ODD_VALUES = st.one_of(
    st.floats(-0.5, 1.5),
    st.sampled_from((0, 1, 2, True, False, None, "0.5", math.nan, math.inf, -0.0)),
)
JSON_BOXES = st.one_of(
    st.builds(list, boxes()),
    st.lists(ODD_VALUES, min_size=3, max_size=5),
    st.sampled_from(([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.6], (0.1, 0.2, 0.3, 0.4), None, "box")),
)
JSON_LABELS = st.sampled_from(
    ("Nodule", "nodule", "Pleural_Thickening", "No Finding", "Nodle", "", 3, None, "Emphysema")
)


@st.composite
def json_findings(draw: st.DrawFn) -> Any:
    regions = draw(
        st.one_of(
            st.none(),
            st.lists(st.one_of(JSON_BOXES, st.lists(JSON_BOXES, max_size=3)), max_size=3),
            st.sampled_from(({}, "regions", [[]])),
        )
    )
    finding: dict[str, Any] = {"label": draw(JSON_LABELS), "regions": regions}
    if draw(st.booleans()):
        finding["localizable"] = draw(st.sampled_from((True, False, None, "yes", 1)))
    return draw(st.one_of(st.just(finding), st.sampled_from(([], "finding", None))))


@st.composite
def json_marks(draw: st.DrawFn) -> Any:
    mark: dict[str, Any] = {"label": draw(JSON_LABELS), "box": draw(JSON_BOXES)}
    if draw(st.booleans()):
        mark["confidence"] = draw(st.sampled_from((1, 3, 5, 0, 6, 2.0, True, None, "4")))
    return mark


def _careful(parse: Any, value: Any) -> Any:
    try:
        return parse(value)
    except InputError as error:
        return type(error)


@given(json_findings())
def test_the_fast_finding_parser_agrees_with_the_careful_one(value: Any) -> None:
    fast = model._fast_finding(value)
    if fast is not None:
        assert fast == _careful(lambda v: model._finding(v, "findings[0]"), value)


@given(json_marks())
def test_the_fast_mark_parser_agrees_with_the_careful_one(value: Any) -> None:
    fast = model._fast_mark(value)
    if fast is not None:
        careful = _careful(lambda v: parse_marks({"boxes": [v]}).boxes[0], value)
        # parse_marks itself takes the fast path; rebuild the careful answer by hand.
        assert fast == Mark(
            model.parse_label(value["label"], field="l"),
            validate_box(value["box"]),
            value.get("confidence"),
        )
        assert careful == fast
