"""What this case says about one error: where the finding is in the patient's frame, what the
resident marked (or did not), what a wrong mark probably was, and what tells the two apart.

Built from the request's own case context (the resident's marks and the film's reference
findings), so the knowledge explainer writes about this film and the model prompts carry the same
facts. Every sentence is deterministic and uses only names the taxonomy canonicalises.
"""

from __future__ import annotations

from dataclasses import dataclass

from ml.vlm.schema import Box, ExplainRequest, LabelledBox
from ml.vlm.text import sanitize_untrusted

DEFAULT_IOU_THRESHOLD = 0.3
# Two boxes this close (centre to centre, in image widths) are "in the same place".
NEAR = 0.15

# Pairs residents confuse, and what tells them apart on a chest film (keys are canonical names).
_CONTRASTS: dict[frozenset[str], str] = {
    frozenset({"Nodule", "Mass"}): (
        "Size separates them: a nodule is up to 3 cm across, a mass is larger."
    ),
    frozenset({"Atelectasis", "Consolidation"}): (
        "Atelectasis loses volume (fissures, hila or the diaphragm pulled towards it); "
        "consolidation keeps its volume and often shows air bronchograms."
    ),
    frozenset({"Effusion", "Consolidation"}): (
        "An effusion is dependent, with a meniscus and a blunted costophrenic angle and no air "
        "bronchograms; consolidation follows lung segments and may show air bronchograms."
    ),
    frozenset({"Effusion", "Atelectasis"}): (
        "An effusion forms a basal meniscus and blunts the costophrenic angle; atelectasis is a "
        "linear or wedge-shaped opacity with loss of volume."
    ),
    frozenset({"Effusion", "Pleural thickening"}): (
        "Fluid layers at the base with a meniscus; pleural thickening is a fixed band along the "
        "chest wall or apex with no meniscus."
    ),
    frozenset({"Infiltration", "Consolidation"}): (
        "An infiltrate is hazy and poorly marginated with vessels still visible; consolidation is "
        "dense enough to hide the vessels."
    ),
    frozenset({"Pneumonia", "Consolidation"}): (
        "Consolidation describes the opacity; pneumonia is the clinical diagnosis it suggests "
        "when the patient has signs of infection."
    ),
    frozenset({"Fibrosis", "Edema"}): (
        "Fibrosis gives coarse reticular lines with volume loss, worst at the bases; oedema gives "
        "septal lines, vessel diversion and perihilar haze without volume loss."
    ),
    frozenset({"Emphysema", "Pneumothorax"}): (
        "In emphysema lung markings thin out but continue to the chest wall; in a pneumothorax "
        "there is a visceral pleural line with no markings beyond it."
    ),
    frozenset({"Nodule", "Infiltration"}): (
        "A nodule is rounded with a defined edge; an infiltrate is ill-defined and patchy."
    ),
}


@dataclass(frozen=True)
class CaseFacts:
    """Sentences about this case for one request; None where the case says nothing."""

    frame: str | None  # "the patient's right, on the left of the image"
    resident_did: str | None  # what the resident's marks did about this finding
    probably_saw: str | None  # false positives: what the mark probably was
    distinguish: str | None  # what tells the finding from what the resident called it


def canonical(label: str) -> str:
    """The taxonomy's name for a label; an unknown label is cleaned like any untrusted text."""
    from ml import taxonomy

    cleaned = sanitize_untrusted(label, max_chars=80)
    try:
        return taxonomy.get(cleaned).name
    except (LookupError, ValueError):
        return cleaned


def frame_phrase(box: Box | None, view: str) -> str | None:
    """Where a box is in the patient's frame, said against the image: frontal films show the
    patient's right on the image's left."""
    if box is None:
        return None
    from ml import anatomy

    try:
        side = anatomy.box_location(list(box), view=view).side
    except (LookupError, ValueError):
        return None
    if side == "right":
        return "the patient's right, on the left of the image"
    if side == "left":
        return "the patient's left, on the right of the image"
    return None


def case_facts(request: ExplainRequest) -> CaseFacts:
    """The case-specific sentences for ``request``."""
    label = canonical(request.label)
    marked = canonical(request.marked_label) if request.marked_label else None
    frame = frame_phrase(request.focus_box, request.view)
    if request.error == "missed":
        return CaseFacts(
            frame, _missed(request, label), None, _overlapping_contrast(request, label)
        )
    if request.error == "false_positive":
        saw, other = _false_positive(request, marked or label)
        return CaseFacts(frame, None, saw, contrast(marked or label, other) if other else None)
    if request.error == "mislabelled":
        return CaseFacts(frame, None, None, contrast(label, marked) if marked else None)
    return CaseFacts(frame, None, None, None)


def contrast(first: str, second: str | None) -> str | None:
    if second is None or first == second:
        return None
    return _CONTRASTS.get(frozenset({first, second}))


def _threshold(request: ExplainRequest) -> float:
    return request.iou_threshold or DEFAULT_IOU_THRESHOLD


def _iou(a: Box, b: Box) -> float:
    from ml.boxes.geometry import iou

    return iou(a, b)


def _centre_distance(a: Box, b: Box) -> float:
    ax, ay = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    bx, by = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    return float(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5)


def _mirror(box: Box) -> Box:
    x1, y1, x2, y2 = box
    return (1 - x2, y1, 1 - x1, y2)


def _is_mirror(box: Box, other: Box, view: str) -> bool:
    """``box`` sits where ``other`` would be with the sides swapped (frontal films only)."""
    sides = frame_phrase(box, view), frame_phrase(other, view)
    if None in sides or sides[0] == sides[1]:
        return False
    mirror = _mirror(box)
    return _iou(mirror, other) > 0 or _centre_distance(mirror, other) < NEAR


def _where(box: Box | None, view: str) -> str:
    from ml.vlm.knowledge import location_phrase

    return location_phrase(box, view) or "elsewhere on the film"


def _boxes(items: tuple[LabelledBox, ...] | None) -> list[tuple[str, Box]]:
    return [(canonical(item.label), item.box) for item in items or () if item.box is not None]


def _missed(request: ExplainRequest, label: str) -> str | None:
    from ml.vlm.knowledge import bare, noun_phrase

    if request.marks is None:
        return None
    if request.box is None:
        ticked = [canonical(m.label) for m in request.marks if m.box is None]
        if request.marks and not ticked:
            return (
                f"You drew boxes but ticked nothing; {bare(label)} was recorded without a place, "
                "so it needed a tick."
            )
        return None
    if not request.marks:
        return "You made no marks on this film."
    boxes = _boxes(request.marks)
    same = [(box, _iou(box, request.box)) for name, box in boxes if name == label]
    if same:
        box, best = max(same, key=lambda pair: pair[1])
        if best > 0:
            return (
                f"Your {bare(label)} box overlapped it only partly (IoU {best:.2f}, "
                f"{_threshold(request):.2f} needed): box the whole {bare(label)}, edge to edge."
            )
        if _is_mirror(box, request.box, request.view):
            return (
                f"Your {bare(label)} box is in the mirror position, "
                f"{_where(box, request.view)}: on a frontal film the patient's right is on the "
                "left of the image."
            )
        return (
            f"Your {bare(label)} box is {_where(box, request.view)}, away from this {bare(label)}."
        )
    overlapping = [
        (name, _iou(box, request.box))
        for name, box in boxes
        if _iou(box, request.box) > 0 or _centre_distance(box, request.box) < NEAR
    ]
    if overlapping:
        name = max(overlapping, key=lambda pair: pair[1])[0]
        return f"You boxed this area but called it {noun_phrase(name)}."
    if boxes:
        return f"None of your marks is near it; you marked {_listing(boxes, request.view)}."
    return f"You drew no boxes on this film, and {bare(label)} needed one."


def _overlapping_contrast(request: ExplainRequest, label: str) -> str | None:
    if request.box is None:
        return None
    for name, box in _boxes(request.marks):
        if name != label and (
            _iou(box, request.box) > 0 or _centre_distance(box, request.box) < NEAR
        ):
            found = contrast(label, name)
            if found:
                return found
    return None


def _false_positive(request: ExplainRequest, marked: str) -> tuple[str | None, str | None]:
    """What the resident probably saw, and the name of the finding they probably saw (if any)."""
    from ml.vlm.knowledge import bare, noun_phrase

    if request.findings is None:
        return None, None
    findings = _boxes(request.findings)
    box = request.marked_box
    if box is None:
        if not request.findings:
            return "The reference readers found this film normal.", None
        return f"What this film does show: {_listing_names(request)}.", None
    near = [
        (name, found, _iou(box, found))
        for name, found in findings
        if name != marked and (_iou(box, found) > 0 or _centre_distance(box, found) < NEAR)
    ]
    if near:
        name, found, _ = max(near, key=lambda item: item[2])
        return (
            f"Your box lies on the {bare(name)} {_where(found, request.view)}, which is probably "
            f"what you saw: it is {noun_phrase(name)}, not {noun_phrase(marked)}.",
            name,
        )
    same = [found for name, found in findings if name == marked]
    for found in same:
        if _is_mirror(box, found, request.view):
            return (
                f"There is {noun_phrase(marked)} in the mirror position, "
                f"{_where(found, request.view)}: on a frontal film the patient's right is on the "
                "left of the image.",
                None,
            )
    if same:
        return (
            f"The {bare(marked)} on this film is {_where(same[0], request.view)}.",
            None,
        )
    mimic = _anatomy_mimic(box, request.view)
    return f"What you saw there is probably {mimic}.", None


def _anatomy_mimic(box: Box, view: str) -> str:
    """The normal structure that most often imitates a finding where the box lies."""
    from ml import anatomy

    try:
        location = anatomy.box_location(list(box), view=view)
    except (LookupError, ValueError):
        return "normal anatomy or an overlapping shadow"
    if location.side is None:
        return "overlapping normal structures on the lateral view"
    if location.side == "midline":
        return "the heart, aorta or spine in the mediastinum"
    centre_x = (box[0] + box[2]) / 2
    lateral = abs(centre_x - 0.5) > 0.3
    if location.zone == "upper":
        return "the overlapping ends of the first rib and the clavicle at the apex"
    if location.zone == "mid":
        if lateral:
            return "crossing rib shadows"
        return "the hilar vessels, which can look like a nodule or an opacity where seen end-on"
    if lateral:
        return "breast soft tissue or a nipple shadow"
    return "the diaphragm or the heart border"


def _listing(boxes: list[tuple[str, Box]], view: str) -> str:
    from ml.vlm.knowledge import noun_phrase

    parts = [f"{noun_phrase(name)} {_where(box, view)}" for name, box in boxes[:3]]
    if len(boxes) > 3:
        parts.append(f"{len(boxes) - 3} more")
    return _join(parts)


def _listing_names(request: ExplainRequest) -> str:
    from ml.vlm.knowledge import location_phrase, noun_phrase

    parts = []
    for finding in request.findings[:4]:
        where = location_phrase(finding.box, request.view) if finding.box else None
        parts.append(f"{noun_phrase(canonical(finding.label))}{f' {where}' if where else ''}")
    return _join(parts)


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
