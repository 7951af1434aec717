"""The Localize inputs: a reference (ground truth) and a resident's marks, parsed from JSON.

Shapes (DESIGN.md section 4; extra keys are ignored unless ``parse_marks(strict=True)``):

    reference: {"findings": [{"label": "Effusion", "localizable": true, "id": 17,
                              "regions": [[[x1, y1, x2, y2], <another reader's box>], ...]}],
                "iou_threshold": 0.3}
    marks:     {"boxes": [{"label": "Nodule", "box": [x1, y1, x2, y2], "confidence": 4,
                           "view": 12}],
                "selected": ["Emphysema"]}

Views: a study may have several images (frontal, lateral). A finding may give ``"views"``, one
view key per region (an integer or a string, e.g. the image's id), and a mark may give ``"view"``,
the image it was drawn on. A mark is matched only with regions of its own view (None is a view
too: a reference and marks that both leave views out match as one image always did).

``id`` (optional, an integer or a string) is the caller's key for a reference finding; the result
carries it back beside every region and ticked finding, so nobody has to guess which finding a
result row is about.

A region may also be written as a single box ``[x1, y1, x2, y2]``. A mark may give its box as the
viewer writes it, ``"x", "y", "w", "h"`` (normalised), instead of ``"box"``. When ``localizable``
is left out, a finding with regions is drawn and one without is a select finding (present, not
localised); the taxonomy's answer mode only decides how the exercise offers a label. A finding
without regions whose label the taxonomy draws (NIH lists image-level labels it never boxed) is
*presence-only*: scored like a select finding, and reported as such, since no place was graded.
"No finding" in ``selected`` records the resident's "normal study" answer and is not a finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from ml import taxonomy
from ml.boxes.geometry import Coords, InputError, validate_box

DEFAULT_IOU_THRESHOLD: Final = 0.3
# The only fields a strict parse accepts (the web side refuses anything else; see parse_marks).
MARKS_FIELDS: Final = frozenset({"boxes", "selected"})
MARK_FIELDS: Final = frozenset({"label", "box", "confidence", "view", "x", "y", "w", "h"})

FindingId = int | str | None
ViewId = int | str | None


@dataclass(frozen=True, slots=True)
class Region:
    """One abnormal area on one view; ``boxes`` holds each reader's box for it (at least one)."""

    boxes: tuple[Coords, ...]
    view: ViewId = None


@dataclass(frozen=True, slots=True)
class ReferenceFinding:
    """A ground-truth finding: canonical label, answer mode and, if drawn, its regions."""

    label: str
    localizable: bool
    regions: tuple[Region, ...] = ()
    id: FindingId = None

    @property
    def presence_only(self) -> bool:
        """Present without a place although the label is normally drawn: only presence counts."""
        if self.localizable:
            return False
        known = taxonomy.lookup(self.label)
        return known is not None and known.localizable


class DrawnRegion(NamedTuple):
    """A region in scoring order, with where it came from in the reference.

    A named tuple rather than a dataclass: one is built per region of every parsed reference,
    and it is only ever read.
    """

    label: str
    finding: int
    index: int
    boxes: tuple[Coords, ...]
    finding_id: FindingId = None
    view: ViewId = None


@dataclass(frozen=True, slots=True)
class Reference:
    """The ground truth of one case. The derived fields index it once for repeated scoring."""

    findings: tuple[ReferenceFinding, ...] = ()
    iou_threshold: float | None = None
    regions: tuple[DrawnRegion, ...] = field(init=False, repr=False, compare=False)
    regions_by_label: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    select_labels: tuple[str, ...] = field(init=False, repr=False, compare=False)
    # Select labels that are presence-only findings, and each select label's finding id.
    presence_labels: frozenset[str] = field(init=False, repr=False, compare=False)
    select_ids: dict[str, FindingId] = field(init=False, repr=False, compare=False)
    flat_boxes: tuple[tuple[int, str, Coords, ViewId], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        regions: list[DrawnRegion] = []
        by_label: dict[str, tuple[int, ...]] = {}
        select: list[str] = []
        presence: set[str] = set()
        select_ids: dict[str, FindingId] = {}
        flat: list[tuple[int, str, Coords, ViewId]] = []
        for finding_index, finding in enumerate(self.findings):
            label = finding.label
            if not finding.localizable:
                if label not in select:
                    select.append(label)
                    select_ids[label] = finding.id
                    if finding.presence_only:
                        presence.add(label)
                continue
            for region_index, region in enumerate(finding.regions):
                r = len(regions)
                by_label[label] = (*by_label.get(label, ()), r)
                regions.append(
                    DrawnRegion(
                        label, finding_index, region_index, region.boxes, finding.id, region.view
                    )
                )
                flat.extend((r, label, box, region.view) for box in region.boxes)
        object.__setattr__(self, "regions", tuple(regions))
        object.__setattr__(self, "regions_by_label", by_label)
        object.__setattr__(self, "select_labels", tuple(select))
        object.__setattr__(self, "presence_labels", frozenset(presence))
        object.__setattr__(self, "select_ids", select_ids)
        object.__setattr__(self, "flat_boxes", tuple(flat))

    @property
    def is_normal(self) -> bool:
        return not self.findings


@dataclass(frozen=True, slots=True)
class Mark:
    """One box a resident drew and named on ``view``; ``confidence`` is an optional 1-5
    rating."""

    label: str
    box: Coords
    confidence: int | None = None
    view: ViewId = None


# The web side calls a resident's labelled box a Box.
Box = Mark


@dataclass(frozen=True, slots=True)
class Marks:
    """A resident's answer: drawn boxes, ticked labels, and whether "normal" was ticked."""

    boxes: tuple[Mark, ...] = ()
    selected: tuple[str, ...] = ()
    normal: bool = False


# Fast paths. Parsing runs on every submission, and most input is well formed: plain floats,
# exact label spellings. Each _fast_* function accepts a subset of what its careful counterpart
# accepts and returns the same value, or None to hand over to the careful path, which alone
# builds field names and error messages.


def _fast_box(value: Any) -> Coords | None:
    if type(value) is list and len(value) == 4:
        x1, y1, x2, y2 = value
        if (
            type(x1) is float
            and type(y1) is float
            and type(x2) is float
            and type(y2) is float
            and 0.0 <= x1 < x2 <= 1.0
            and 0.0 <= y1 < y2 <= 1.0
            and (x2 - x1) * (y2 - y1) != 0.0
        ):
            return (x1, y1, x2, y2)
    return None


def _fast_finding(value: Any) -> ReferenceFinding | None:
    if type(value) is not dict:
        return None
    known = taxonomy.lookup(value.get("label"))  # None also for "No finding": careful path
    finding_id = value.get("id")
    if known is None or not (finding_id is None or type(finding_id) in (int, str)):
        return None
    if value.get("views") is not None:
        return None  # the careful path checks one view per region
    raw_regions = value.get("regions")
    localizable = value.get("localizable")
    if not raw_regions:
        if (raw_regions is None or type(raw_regions) is list) and (
            localizable is None or localizable is False
        ):
            return ReferenceFinding(known.name, False, (), finding_id)
        return None
    if type(raw_regions) is not list or not (localizable is None or localizable is True):
        return None
    regions = []
    for raw_region in raw_regions:
        if type(raw_region) is not list or not raw_region:
            return None
        if type(raw_region[0]) is list:
            boxes = []
            for raw_box in raw_region:
                box = _fast_box(raw_box)
                if box is None:
                    return None
                boxes.append(box)
            regions.append(Region(tuple(boxes)))
        else:
            box = _fast_box(raw_region)
            if box is None:
                return None
            regions.append(Region((box,)))
    return ReferenceFinding(known.name, True, tuple(regions), finding_id)


def _fast_mark(value: Any, strict: bool = False) -> Mark | None:
    if type(value) is not dict or (strict and not value.keys() <= MARK_FIELDS):
        return None
    known = taxonomy.lookup(value.get("label"))
    box = _fast_box(value.get("box"))
    confidence = value.get("confidence")
    view = value.get("view")
    if known is None or box is None:
        return None
    if confidence is not None and not (type(confidence) is int and 1 <= confidence <= 5):
        return None
    if not (view is None or type(view) is int or type(view) is str):
        return None
    return Mark(known.name, box, confidence, view)


def parse_label(value: Any, *, field: str) -> str:
    """The canonical name of a label given by any synonym; InputError naming ``field``."""
    if not isinstance(value, str):
        raise InputError(field, f"expected a label name, got {type(value).__name__}")
    try:
        return taxonomy.canonical(value)
    except taxonomy.UnknownLabelError as error:
        raise InputError(field, str(error)) from error


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if type(value) is not dict and not isinstance(value, Mapping):
        raise InputError(field, f"expected an object, got {type(value).__name__}")
    return value


def _list(value: Any, field: str) -> list[Any] | tuple[Any, ...]:
    if type(value) is not list and not isinstance(value, list | tuple):
        raise InputError(field, f"expected a list, got {type(value).__name__}")
    return value


def _optional_list(data: Mapping[str, Any], key: str, field: str) -> list[Any] | tuple[Any, ...]:
    value = data.get(key)
    return () if value is None else _list(value, field)


def _threshold(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value <= 1.0:
        raise InputError(field, f"expected a number in (0, 1], got {value!r}")
    return float(value)


def _region(value: Any, field: str, view: ViewId = None) -> Region:
    items = _list(value, field)
    # A bare [x1, y1, x2, y2] is a region read by one reader.
    if items and not isinstance(items[0], list | tuple):
        return Region((validate_box(items, field=field),), view)
    if not items:
        raise InputError(field, "a region needs at least one box")
    boxes = tuple(validate_box(box, field=f"{field}[{i}]") for i, box in enumerate(items))
    return Region(boxes, view)


def _view(value: Any, field: str) -> ViewId:
    if value is None or (type(value) is int or isinstance(value, str)):
        return value
    raise InputError(field, f"expected a view key (an integer or a string), got {value!r}")


def _region_views(data: Mapping[str, Any], count: int, field: str) -> list[ViewId]:
    raw = data.get("views")
    if raw is None:
        return [None] * count
    views = _list(raw, f"{field}.views")
    if len(views) != count:
        raise InputError(f"{field}.views", f"expected one view per region ({count})")
    return [_view(view, f"{field}.views[{i}]") for i, view in enumerate(views)]


def _finding(value: Any, field: str) -> ReferenceFinding | None:
    data = _mapping(value, field)
    raw_label = data.get("label")
    if isinstance(raw_label, str) and taxonomy.is_normal(raw_label):
        return None
    label = parse_label(raw_label, field=f"{field}.label")
    raw_regions = _optional_list(data, "regions", f"{field}.regions")
    views = _region_views(data, len(raw_regions), field)
    regions = tuple(
        _region(region, f"{field}.regions[{i}]", views[i]) for i, region in enumerate(raw_regions)
    )
    localizable = data.get("localizable")
    if localizable is None:
        localizable = bool(regions)
    elif not isinstance(localizable, bool):
        raise InputError(f"{field}.localizable", f"expected true or false, got {localizable!r}")
    elif localizable and not regions:
        raise InputError(f"{field}.regions", "a localizable finding needs at least one region")
    elif not localizable and regions:
        raise InputError(f"{field}.regions", "a select (non-localizable) finding has no regions")
    finding_id = data.get("id")
    if finding_id is not None and (
        isinstance(finding_id, bool) or not isinstance(finding_id, int | str)
    ):
        raise InputError(f"{field}.id", f"expected an integer or a string, got {finding_id!r}")
    return ReferenceFinding(label, localizable, regions, finding_id)


def parse_reference(data: Mapping[str, Any]) -> Reference:
    """A Reference from its JSON shape; InputError naming the field for anything malformed."""
    data = _mapping(data, "reference")
    findings: list[ReferenceFinding] = []
    modes: dict[str, bool] = {}
    for i, raw in enumerate(_optional_list(data, "findings", "findings")):
        finding = _fast_finding(raw)
        if finding is None:
            finding = _finding(raw, f"findings[{i}]")
            if finding is None:
                continue
        # One label is either drawn or ticked in a case; both would score it twice.
        if modes.setdefault(finding.label, finding.localizable) != finding.localizable:
            raise InputError(
                f"findings[{i}].localizable",
                f"{finding.label!r} appears both as a drawn and as a selected finding",
            )
        findings.append(finding)
    threshold = _threshold(data.get("iou_threshold"), "iou_threshold")
    return Reference(tuple(findings), threshold)


def _mark_box(data: Mapping[str, Any], field: str) -> Coords:
    if "box" in data:
        return validate_box(data["box"], field=f"{field}.box")
    if all(key in data for key in ("x", "y", "w", "h")):
        x, y, w, h = (data[key] for key in ("x", "y", "w", "h"))
        for key, value in zip("xywh", (x, y, w, h), strict=True):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"{field}.{key}", f"expected a number, got {value!r}")
        x2, y2 = x + w, y + h
        # x + w can round a hair past the image edge; anything more is a real error.
        x2 = 1.0 if 1.0 < x2 <= 1.0 + 1e-9 else x2
        y2 = 1.0 if 1.0 < y2 <= 1.0 + 1e-9 else y2
        return validate_box([x, y, x2, y2], field=f"{field}.box")
    raise InputError(f"{field}.box", "expected a box [x1, y1, x2, y2] (or x, y, w, h)")


def _confidence(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InputError(field, f"expected an integer from 1 to 5, got {value!r}")
    return value


def _known_fields(data: Mapping[str, Any], allowed: frozenset[str], field: str) -> None:
    unknown = sorted(str(key) for key in data.keys() - allowed)
    if unknown:
        key = unknown[0] if unknown[0].strip() else repr(unknown[0])  # a blank name stays visible
        name = f"{field}.{key}" if field else key
        raise InputError(name, f"unknown field (expected {', '.join(sorted(allowed))})")


def _mark_label(value: Any, field: str) -> str:
    if isinstance(value, str) and taxonomy.is_normal(value):
        raise InputError(field, f"{value!r} means a normal study, not a finding to box")
    return parse_label(value, field=field)


def parse_marks(data: Mapping[str, Any], *, strict: bool = False) -> Marks:
    """Marks from their JSON shape; InputError naming the field for anything malformed.

    ``strict`` also refuses fields the shape does not have, at the top and in every box (a
    misspelt ``selcted`` would otherwise be an answer silently dropped). The web side parses
    strictly; the CLI keeps DESIGN's "extra fields are welcome"."""
    data = _mapping(data, "marks")
    if strict:
        _known_fields(data, MARKS_FIELDS, "")
    boxes = []
    for i, raw in enumerate(_optional_list(data, "boxes", "boxes")):
        fast = _fast_mark(raw, strict)
        if fast is not None:
            boxes.append(fast)
            continue
        field_name = f"boxes[{i}]"
        mark = _mapping(raw, field_name)
        if strict:
            _known_fields(mark, MARK_FIELDS, field_name)
        boxes.append(
            Mark(
                _mark_label(mark.get("label"), f"{field_name}.label"),
                _mark_box(mark, field_name),
                _confidence(mark.get("confidence"), f"{field_name}.confidence"),
                _view(mark.get("view"), f"{field_name}.view"),
            )
        )
    selected: list[str] = []
    normal = False
    for i, raw in enumerate(_optional_list(data, "selected", "selected")):
        if isinstance(raw, str) and taxonomy.is_normal(raw):
            normal = True
            continue
        label = parse_label(raw, field=f"selected[{i}]")
        if label not in selected:
            selected.append(label)
    return Marks(tuple(boxes), tuple(selected), normal)
