"""Score a resident's Localize answer against the reference (DESIGN.md section 4).

Rules:
- Drawn findings: per label, regions and marks are matched one-to-one by ``ml.boxes.matching`` (most
  hits, then highest total IoU). A region's IoU with a mark is the best over its readers' boxes.
  A matched pair at IoU >= threshold is a hit; an unmatched region is a miss; an unmatched mark is
  a false positive. A false positive lying on a region of another label at IoU >= threshold is
  also listed in ``mislabelled`` (right place, wrong name); it still counts once, as a false
  positive.
- Select findings: ticked and present = hit, ticked and absent = false positive, present and
  not ticked = miss. A box drawn with the label of a present select finding counts as ticking it
  (the resident named it; there is no region to check the place against) and is never a false
  positive. A tick for a label the case has as a drawn finding is "not_scored": drawn findings are
  scored by their boxes.
- Presence-only findings (a label the taxonomy draws, present without any region: NIH's
  image-level labels) follow the select rules, with ``kind: "presence"`` in hits and misses and
  ``presence_only: true`` in ``selected``: their place was never graded, and feedback says so.
- Views: a mark is compared only with regions on its own view (``Mark.view``, ``Region.view``):
  a box on the lateral never hits, nor is "mislabelled" against, a region on the frontal.
- Score = hits / (hits + misses + false positives); nothing to find and nothing marked scores 1.

Result (every list in a fixed order, so re-scoring the same input is identical):
    score, iou_threshold, counts {hits, misses, false_positives, mislabelled}, normal_ticked,
    hits:            {label, kind: "draw", region, mark, iou, confidence}  (region order), then
                     {label, kind: "select" | "presence", region: None,
                      mark: <box index or None>, iou: None, confidence: None}
                     (reference finding order)
    misses:          {label, kind: "draw", region}, then {label, kind: "select" | "presence",
                      region: None}
    false_positives: {label, kind: "draw", mark, confidence} (mark order), then
                     {label, kind: "select", mark: None, confidence: None} (tick order)
    mislabelled:     {mark, marked_label, true_label, region, iou} (mark order)
    regions:         {region, label, finding, finding_id, index, view, boxes, best_iou, mark, hit}:
                     every drawn
                     region with its best IoU against any same-label mark and the mark it hit;
                     ``boxes`` are the readers' boxes (tuples in Python, arrays in JSON)
    selected:        {label, present, presence_only, finding_id, ticked, marks,
                      outcome: "hit" | "miss" | "false_positive" | "not_scored"}
``finding_id`` is the reference finding's ``id`` (None when the reference gave none).
``region`` indexes ``regions`` (reference finding order, then region order); ``mark`` indexes
the marks' ``boxes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ml.boxes.geometry import InputError, iou
from ml.boxes.matching import match_candidates
from ml.boxes.model import (
    DEFAULT_IOU_THRESHOLD,
    Mark,
    Marks,
    Reference,
    parse_marks,
    parse_reference,
)


def _threshold(requested: float | None, reference: Reference) -> float:
    if requested is None:
        requested = reference.iou_threshold
    if requested is None:
        return DEFAULT_IOU_THRESHOLD
    if isinstance(requested, bool) or not isinstance(requested, int | float):
        raise InputError("iou_threshold", f"expected a number in (0, 1], got {requested!r}")
    if not 0.0 < requested <= 1.0:
        raise InputError("iou_threshold", f"expected a number in (0, 1], got {requested!r}")
    return float(requested)


def score_localize(
    reference: Reference | Mapping[str, Any],
    marks: Marks | Mapping[str, Any],
    *,
    iou_threshold: float | None = None,
) -> dict[str, Any]:
    """Score ``marks`` against ``reference`` (parsed objects or their JSON dicts)."""
    if type(reference) is not Reference:
        reference = parse_reference(reference)  # type: ignore[arg-type]
    if type(marks) is not Marks:
        marks = parse_marks(marks)  # type: ignore[arg-type]
    if iou_threshold is None and reference.iou_threshold is None:
        threshold = DEFAULT_IOU_THRESHOLD
    else:
        threshold = _threshold(iou_threshold, reference)
    mark_list = marks.boxes
    regions = reference.regions
    select_present = reference.select_labels

    assigned: dict[int, tuple[int, float]] = {}  # region -> (mark, IoU) for hits
    best: dict[int, float] = {}  # region -> best IoU against any same-label mark
    marks_by_label: dict[str, list[int]] = {}
    for j, mark in enumerate(mark_list):
        if mark.label in marks_by_label:
            marks_by_label[mark.label].append(j)
        else:
            marks_by_label[mark.label] = [j]
    if marks_by_label and regions:
        # This loop runs for every label of every submission: IoU is computed inline (as in
        # geometry.iou), boxes that cannot overlap are skipped early, and only pairs that could
        # be hits reach the matcher, which is rarely needed at all.
        for label, region_ids in reference.regions_by_label.items():
            columns = marks_by_label.get(label)
            if columns is None:
                continue
            candidates = []
            for i, r in enumerate(region_ids):
                alternatives = regions[r].boxes
                view = regions[r].view
                top = 0.0
                for c, j in enumerate(columns):
                    if mark_list[j].view != view:
                        continue
                    bx1, by1, bx2, by2 = mark_list[j].box
                    value = 0.0
                    for ax1, ay1, ax2, ay2 in alternatives:
                        width = (ax2 if ax2 < bx2 else bx2) - (ax1 if ax1 > bx1 else bx1)
                        if width <= 0.0:
                            continue
                        height = (ay2 if ay2 < by2 else by2) - (ay1 if ay1 > by1 else by1)
                        if height <= 0.0:
                            continue
                        inter = width * height
                        union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
                        if union <= 0.0:
                            continue  # zero-area boxes built without validate_box
                        overlap = inter / union
                        if overlap > value:
                            value = overlap
                    if value > 1.0:
                        value = 1.0
                    if value > top:
                        top = value
                    if value >= threshold:
                        candidates.append((i, c, value))
                best[r] = top
            if candidates:
                if len(candidates) > 1:
                    candidates = match_candidates(candidates)
                for i, c, value in candidates:
                    assigned[region_ids[i]] = (columns[c], value)

    hits: list[dict[str, Any]] = []
    misses: list[dict[str, Any]] = []
    region_rows: list[dict[str, Any]] = []
    for r, region in enumerate(regions):
        pair = assigned.get(r)
        if pair is None:
            misses.append({"label": region.label, "kind": "draw", "region": r})
            j = None
        else:
            j = pair[0]
            hits.append(
                {
                    "label": region.label,
                    "kind": "draw",
                    "region": r,
                    "mark": j,
                    "iou": pair[1],
                    "confidence": mark_list[j].confidence,
                }
            )
        region_rows.append(
            {
                "region": r,
                "label": region.label,
                "finding": region.finding,
                "finding_id": region.finding_id,
                "index": region.index,
                "view": region.view,
                "boxes": region.boxes,
                "best_iou": best.get(r, 0.0),
                "mark": j,
                "hit": j is not None,
            }
        )

    false_positives: list[dict[str, Any]] = []
    mislabelled: list[dict[str, Any]] = []
    if len(assigned) < len(mark_list):
        matched = {pair[0] for pair in assigned.values()}
        # With one drawn label in the case, a mark of that label cannot be mislabelled.
        other_labels = len(reference.regions_by_label) > 1
        for j, mark in enumerate(mark_list):
            if j in matched or mark.label in select_present:
                continue
            false_positives.append(
                {"label": mark.label, "kind": "draw", "mark": j, "confidence": mark.confidence}
            )
            if other_labels or (regions and mark.label not in reference.regions_by_label):
                _add_mislabelled(mislabelled, j, mark, reference, threshold)

    if select_present or marks.selected:
        selected = _score_selected(reference, marks, marks_by_label, hits, misses, false_positives)
    else:
        selected = []

    found, missed, wrong = len(hits), len(misses), len(false_positives)
    total = found + missed + wrong
    return {
        "score": found / total if total else 1.0,
        "iou_threshold": threshold,
        "counts": {
            "hits": found,
            "misses": missed,
            "false_positives": wrong,
            "mislabelled": len(mislabelled),
        },
        "normal_ticked": marks.normal,
        "hits": hits,
        "misses": misses,
        "false_positives": false_positives,
        "mislabelled": mislabelled,
        "regions": region_rows,
        "selected": selected,
    }


def _add_mislabelled(
    out: list[dict[str, Any]],
    j: int,
    mark: Mark,
    reference: Reference,
    threshold: float,
) -> None:
    best_value, best_region = 0.0, -1
    label, box = mark.label, mark.box
    x1, y1, x2, y2 = box
    for r, other_label, other, view in reference.flat_boxes:
        # Most boxes lie elsewhere on the film; skip them before paying for a call.
        if other_label == label or view != mark.view or other[0] >= x2 or other[2] <= x1:
            continue
        if other[1] >= y2 or other[3] <= y1:
            continue
        value = iou(other, box)
        if value > best_value:
            best_value, best_region = value, r
    if best_region >= 0 and best_value >= threshold:
        out.append(
            {
                "mark": j,
                "marked_label": label,
                "true_label": reference.regions[best_region].label,
                "region": best_region,
                "iou": best_value,
            }
        )


def _score_selected(
    reference: Reference,
    marks: Marks,
    marks_by_label: dict[str, list[int]],
    hits: list[dict[str, Any]],
    misses: list[dict[str, Any]],
    false_positives: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    present = reference.select_labels
    presence = reference.presence_labels
    ticked = marks.selected
    if not present and not ticked:
        return []
    outcomes: list[dict[str, Any]] = []
    for label in present:
        boxed = marks_by_label.get(label, [])
        is_ticked = label in ticked
        kind = "presence" if label in presence else "select"
        if is_ticked or boxed:
            outcome = "hit"
            hits.append(
                {
                    "label": label,
                    "kind": kind,
                    "region": None,
                    "mark": None if is_ticked else boxed[0],
                    "iou": None,
                    "confidence": None,
                }
            )
        else:
            outcome = "miss"
            misses.append({"label": label, "kind": kind, "region": None})
        outcomes.append(
            {
                "label": label,
                "present": True,
                "presence_only": kind == "presence",
                "finding_id": reference.select_ids[label],
                "ticked": is_ticked,
                "marks": list(boxed),
                "outcome": outcome,
            }
        )
    for label in ticked:
        if label in present:
            continue
        if label in reference.regions_by_label:
            outcomes.append(
                {
                    "label": label,
                    "present": True,
                    "presence_only": False,
                    "finding_id": None,
                    "ticked": True,
                    "marks": [],
                    "outcome": "not_scored",
                }
            )
            continue
        false_positives.append({"label": label, "kind": "select", "mark": None, "confidence": None})
        outcomes.append(
            {
                "label": label,
                "present": False,
                "presence_only": False,
                "finding_id": None,
                "ticked": True,
                "marks": [],
                "outcome": "false_positive",
            }
        )
    return outcomes
