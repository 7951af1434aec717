"""Normalised boxes: validation and intersection over union, scalar and vectorised."""

from __future__ import annotations

import math
from numbers import Real
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

Coords = tuple[float, float, float, float]


class InputError(ValueError):
    """Localize input that cannot be scored; ``field`` names where, e.g. ``boxes[2].label``."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class BoxError(InputError):
    """A box that is not ``[x1, y1, x2, y2]`` with 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1."""


def _number(value: Any, field: str, index: int) -> float:
    # bool is an int subclass, but true/false in a box is always a client bug.
    if isinstance(value, bool) or not isinstance(value, Real):
        raise BoxError(f"{field}[{index}]", f"expected a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise BoxError(f"{field}[{index}]", f"expected a finite number, got {number!r}")
    return number


def validate_box(value: Any, *, field: str = "box") -> Coords:
    """The box as four floats; raises BoxError naming ``field`` for anything malformed."""
    if not isinstance(value, list | tuple):
        raise BoxError(field, f"expected a list [x1, y1, x2, y2], got {type(value).__name__}")
    if len(value) != 4:
        raise BoxError(field, f"expected 4 numbers [x1, y1, x2, y2], got {len(value)}")
    x1, y1, x2, y2 = value
    # Plain floats are the common case; everything else takes the careful path.
    if not (type(x1) is float and type(y1) is float and type(x2) is float and type(y2) is float):
        x1, y1, x2, y2 = (_number(v, field, i) for i, v in enumerate(value))
    if not (0.0 <= x1 <= 1.0 and 0.0 <= y1 <= 1.0 and 0.0 <= x2 <= 1.0 and 0.0 <= y2 <= 1.0):
        # NaN fails every comparison, so it lands here too.
        if any(math.isnan(v) or math.isinf(v) for v in (x1, y1, x2, y2)):
            raise BoxError(field, "coordinates must be finite numbers")
        raise BoxError(field, f"coordinates must lie in [0, 1], got {[x1, y1, x2, y2]}")
    if not (x1 < x2 and y1 < y2):
        raise BoxError(field, f"expected x1 < x2 and y1 < y2, got {[x1, y1, x2, y2]}")
    if (x2 - x1) * (y2 - y1) == 0.0:
        # Sides of ~1e-160 and less multiply to zero area, which no IoU can be computed for.
        raise BoxError(field, f"box is too small to have an area, got {[x1, y1, x2, y2]}")
    return (x1, y1, x2, y2)


def iou(a: Coords, b: Coords) -> float:
    """Intersection over union of two ``[x1, y1, x2, y2]`` boxes, in [0, 1]."""
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    width = (ax2 if ax2 < bx2 else bx2) - (ax1 if ax1 > bx1 else bx1)
    if width <= 0.0:
        return 0.0
    height = (ay2 if ay2 < by2 else by2) - (ay1 if ay1 > by1 else by1)
    if height <= 0.0:
        return 0.0
    inter = width * height
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    if union <= 0.0:
        return 0.0  # both areas underflow to zero; validate_box keeps such boxes out
    value = inter / union
    # Rounding can leave a hair above 1 for near-identical boxes.
    return value if value < 1.0 else 1.0


def _as_boxes(boxes: Any, name: str) -> np.ndarray:
    import numpy as np

    array = np.asarray(boxes, dtype=np.float64)
    if array.size == 0:
        return array.reshape(0, 4)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{name}: expected shape (n, 4), got {array.shape}")
    return array


def iou_matrix(a: Any, b: Any) -> np.ndarray:
    """IoU of every box in ``a`` (n, 4) with every box in ``b`` (m, 4), as an (n, m) array.

    The bulk path for re-scoring: vectorised over all pairs, float64, same values as ``iou``.
    """
    import numpy as np

    a, b = _as_boxes(a, "a"), _as_boxes(b, "b")
    ax1, ay1, ax2, ay2 = (a[:, k : k + 1] for k in range(4))
    bx1, by1, bx2, by2 = (b[:, k] for k in range(4))
    width = np.minimum(ax2, bx2) - np.maximum(ax1, bx1)
    height = np.minimum(ay2, by2) - np.maximum(ay1, by1)
    np.maximum(width, 0.0, out=width)
    np.maximum(height, 0.0, out=height)
    inter = width * height
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(inter > 0.0, inter / union, 0.0)
    return np.minimum(result, 1.0, out=result)


def iou_paired(a: Any, b: Any) -> np.ndarray:
    """IoU of ``a[i]`` with ``b[i]`` for two (n, 4) arrays, as an (n,) array."""
    import numpy as np

    a, b = _as_boxes(a, "a"), _as_boxes(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    width = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    height = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    np.maximum(width, 0.0, out=width)
    np.maximum(height, 0.0, out=height)
    inter = width * height
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(inter > 0.0, inter / (area_a + area_b - inter), 0.0)
    return np.minimum(result, 1.0, out=result)
