"""Localize scoring: box validation, IoU, optimal matching and the case score.

Cheap to import (no numpy or scipy until a function needs them), so the web process can score
synchronously in the submit request. See ``ml.boxes.scoring`` for the rules and result shape.
"""

from ml.boxes.geometry import (
    BoxError,
    Coords,
    InputError,
    iou,
    iou_matrix,
    iou_paired,
    validate_box,
)
from ml.boxes.matching import greedy, match
from ml.boxes.model import (
    DEFAULT_IOU_THRESHOLD,
    Box,
    DrawnRegion,
    Mark,
    Marks,
    Reference,
    ReferenceFinding,
    Region,
    ViewId,
    parse_label,
    parse_marks,
    parse_reference,
)
from ml.boxes.scoring import score_localize

__all__ = [
    "DEFAULT_IOU_THRESHOLD",
    "Box",
    "BoxError",
    "Coords",
    "DrawnRegion",
    "InputError",
    "Mark",
    "Marks",
    "Reference",
    "ReferenceFinding",
    "Region",
    "ViewId",
    "greedy",
    "iou",
    "iou_matrix",
    "iou_paired",
    "match",
    "parse_label",
    "parse_marks",
    "parse_reference",
    "score_localize",
    "validate_box",
]
