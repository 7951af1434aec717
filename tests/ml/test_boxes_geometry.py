"""Box validation and IoU, scalar and vectorised."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from ml.boxes import BoxError, InputError, iou, iou_matrix, iou_paired, validate_box


def test_it_accepts_a_normalised_box_as_floats() -> None:
    assert validate_box([0, 0.25, 1, 0.5]) == (0.0, 0.25, 1.0, 0.5)
    assert validate_box((0.1, 0.2, 0.3, 0.4)) == (0.1, 0.2, 0.3, 0.4)
    assert all(type(v) is float for v in validate_box([0, 0, 1, 1]))
    assert validate_box(np.array([0.1, 0.2, 0.3, 0.4]).tolist()) == (0.1, 0.2, 0.3, 0.4)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0,0,1,1", "expected a list"),
        ({"x": 0}, "expected a list"),
        (None, "expected a list"),
        ([0.1, 0.2, 0.3], "expected 4 numbers"),
        ([0.1, 0.2, 0.3, 0.4, 0.5], "expected 4 numbers"),
        ([0.1, "0.2", 0.3, 0.4], "expected a number, got str"),
        ([0.1, None, 0.3, 0.4], "expected a number, got NoneType"),
        ([True, 0.2, 0.3, 0.4], "expected a number, got bool"),
        ([0.1, 0.2, math.nan, 0.4], "finite"),
        ([0.1, 0.2, math.inf, 0.4], "finite"),
        ([-0.1, 0.2, 0.3, 0.4], "lie in [0, 1]"),
        ([0.1, 0.2, 0.3, 1.0000001], "lie in [0, 1]"),
        ([0.3, 0.2, 0.1, 0.4], "x1 < x2"),
        ([0.1, 0.4, 0.3, 0.4], "y1 < y2"),
        ([0.0, 0.0, 1e-200, 1e-200], "too small to have an area"),
    ],
)
def test_it_rejects_malformed_boxes_naming_the_field(value: object, problem: str) -> None:
    with pytest.raises(BoxError, match=r"^boxes\[2\]\.box") as caught:
        validate_box(value, field="boxes[2].box")
    assert problem in str(caught.value)
    assert caught.value.field.startswith("boxes[2].box")
    assert isinstance(caught.value, InputError)
    assert isinstance(caught.value, ValueError)


def test_it_names_the_coordinate_that_is_not_a_number() -> None:
    with pytest.raises(BoxError) as caught:
        validate_box([0.1, 0.2, "x", 0.4], field="findings[0].regions[1][0]")
    assert caught.value.field == "findings[0].regions[1][0][2]"


def test_it_computes_iou_of_known_boxes() -> None:
    assert iou((0.0, 0.0, 0.5, 0.5), (0.0, 0.0, 0.5, 0.5)) == 1.0
    assert iou((0.0, 0.0, 0.5, 0.5), (0.5, 0.5, 1.0, 1.0)) == 0.0  # touching corners
    assert iou((0.0, 0.0, 0.2, 0.2), (0.1, 0.0, 0.3, 0.2)) == pytest.approx(1 / 3)
    tiny = (0.0, 0.0, 1e-200, 1e-200)  # unvalidated: both areas underflow to zero
    assert iou(tiny, tiny) == 0.0
    # Containment: the IoU is the ratio of the areas.
    assert iou((0.0, 0.0, 0.4, 0.4), (0.1, 0.1, 0.3, 0.3)) == pytest.approx(0.25)


def test_it_matches_scalar_iou_in_the_vectorised_paths() -> None:
    generator = np.random.default_rng(3)
    corners = generator.random((60, 2, 2))
    boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1) + 1e-3], axis=1)
    boxes = np.minimum(boxes, 1.0)
    a, b = boxes[:25], boxes[25:]
    matrix = iou_matrix(a, b)
    assert matrix.shape == (25, 35)
    for i in range(25):
        for j in range(35):
            assert matrix[i, j] == iou(tuple(a[i]), tuple(b[j]))
    paired = iou_paired(a, b[:25])
    assert paired.tolist() == [iou(tuple(a[i]), tuple(b[i])) for i in range(25)]


def test_it_handles_empty_and_misshapen_arrays() -> None:
    assert iou_matrix([], [[0, 0, 1, 1]]).shape == (0, 1)
    assert iou_matrix(np.tile([0.0, 0.0, 1.0, 1.0], (3, 1)), []).shape == (3, 0)
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        iou_matrix([[0, 0, 1]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="same shape"):
        iou_paired([[0, 0, 1, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]])


def test_it_keeps_the_scoring_imports_light() -> None:
    # The web process scores in the request; numpy, scipy and model code load only when needed.
    code = (
        "import sys, ml.boxes, ml.taxonomy, ml.anatomy; "
        "heavy = {'numpy', 'scipy', 'torch', 'transformers', 'spacy', 'django'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
