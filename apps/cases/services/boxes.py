"""The one parser for ground-truth boxes, shared by the editor form, the API and the importers,
and the rule that groups several readers' boxes into regions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from apps.cases.marks import marks_parse
from apps.core.exceptions import ApplicationError
from ml import taxonomy
from ml.boxes import BoxError, Coords, iou, validate_box

# Boxes of one label from different readers that overlap at least this much are one region read
# twice (VinDr-CXR's three radiologists, PadChest-GR's second reader): a mark matching any of them
# hits the region. Same value as the default scoring threshold, so "the same lesion" means the
# same thing to the importer and to the scorer.
SAME_REGION_IOU = 0.3
MAX_BOXES = 200


@dataclass(frozen=True)
class MarkedBox:
    label: str  # canonical
    box: Coords
    reader: str = ""
    view: int | None = None  # the CaseImage it is drawn on (None: the case's first view)


def canonical_label(name: Any, *, field: str = "label") -> str:
    """The taxonomy's canonical name; ApplicationError naming the label (and close matches)."""
    if not isinstance(name, str) or not name.strip():
        raise ApplicationError("Every box needs a finding label.", field=field)
    if taxonomy.is_normal(name):
        raise ApplicationError(
            f"{name!r} means a normal study, not a finding: tick 'normal study' instead.",
            field=field,
        )
    try:
        return taxonomy.canonical(name.strip())
    except taxonomy.UnknownLabelError as exc:
        raise ApplicationError(str(exc), field=field) from None


def checked_box(value: Any, *, field: str = "box") -> Coords:
    try:
        return validate_box(value, field=field)
    except BoxError as exc:
        raise ApplicationError(f"Box {exc.field}: {exc.problem}.", field=field) from None


def parse_marked_boxes(
    data: Any, *, reader: str = "", views: Sequence[int] = ()
) -> list[MarkedBox]:
    """The viewer's ``{"boxes": [{"label", "box": [x1, y1, x2, y2], "confidence", "view"}]}`` (a
    JSON string or the parsed object) as canonical, validated boxes, read by the one marks parser
    (``apps.cases.marks``; ``views`` are the case's view ids in order). Confidence is ignored:
    ground truth is certain by definition."""
    marks = marks_parse(data, max_boxes=MAX_BOXES, max_selected=0, views=views)
    return [
        MarkedBox(label=mark.label, box=mark.box, reader=reader, view=mark.view)  # type: ignore[arg-type]
        for mark in marks.boxes
    ]


def group_reader_boxes(boxes: Sequence[MarkedBox]) -> dict[str, list[list[MarkedBox]]]:
    """Regions per label, in first-seen order. A box joins the first region of its label on its
    view holding a box it overlaps at IoU >= SAME_REGION_IOU and no box of its own reader;
    otherwise it starts a region. One reader's boxes are therefore always separate regions, and a
    region lies on one view."""
    regions: dict[str, list[list[MarkedBox]]] = {}
    for marked in boxes:
        label_regions = regions.setdefault(marked.label, [])
        for region in label_regions:
            readers = {other.reader for other in region}
            if region[0].view != marked.view:
                continue
            if marked.reader not in readers and any(
                iou(marked.box, other.box) >= SAME_REGION_IOU for other in region
            ):
                region.append(marked)
                break
        else:
            label_regions.append([marked])
    return regions


def pixel_box(
    x: float, y: float, width: float, height: float, *, image_width: int, image_height: int
) -> Coords:
    """A pixel ``x, y, w, h`` box (origin top-left) normalised to the image; ValueError when it
    leaves the image by more than half a pixel (rounding in the source), clipped otherwise."""
    x2, y2 = x + width, y + height
    slack = 0.5
    if x < -slack or y < -slack or x2 > image_width + slack or y2 > image_height + slack:
        raise ValueError(
            f"box [{x:g}, {y:g}, {x2:g}, {y2:g}] lies outside the {image_width}x{image_height} image"
        )
    coords = [
        min(max(x, 0.0), image_width) / image_width,
        min(max(y, 0.0), image_height) / image_height,
        min(max(x2, 0.0), image_width) / image_width,
        min(max(y2, 0.0), image_height) / image_height,
    ]
    try:
        return validate_box(coords)
    except BoxError as exc:
        raise ValueError(f"box {coords}: {exc.problem}") from None


def flatten(regions: Iterable[Iterable[MarkedBox]]) -> list[MarkedBox]:
    return [box for region in regions for box in region]
