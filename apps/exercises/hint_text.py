"""What a hint says: where to look, derived from the case's ground truth, never what is there.

A hint names an anatomical system or a place on the film, the way a supervising radiologist
nudges a resident ("look at the left lower zone", "check the mediastinal contours"). It never
names a finding: no label, no synonym, no sign specific to one label. The ladder has
``HINTS_PER_CASE`` rungs, each more specific than the last:

1. the system of the case's most significant finding (lungs, pleura, heart and mediastinum...);
2. the place: for a finding drawn as a box, where its box lies on the view it is drawn on
   (``ml.anatomy.box_location``, in the patient's frame); for a diffuse finding (ticked, or
   recorded without a box) the area or feature to examine.

A normal study, and a report-only study (its truth is free text, and the web side does not run
the report extractor), get the same honest pair: the search pattern, then the review areas where
findings hide. Nothing points at a place where nothing is recorded.

Pure: no database, so every finding type is tested without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ml import taxonomy
from ml.anatomy import box_location

Box = Sequence[float]

# Hint 1: the system to review.
SYSTEM_HINTS: dict[str, str] = {
    "lungs": "Review the lung fields: compare the two lungs zone by zone, upper, mid and lower.",
    "pleura": "Trace the pleural margins: from each apex, down the chest wall, to the "
    "costophrenic angles.",
    "heart_mediastinum": "Check the heart and the mediastinal contours: size, shape and position.",
    "hila": "Compare the two hila: their size, density and position.",
    "bones": "Review the bones: ribs, clavicles, shoulders and spine.",
    "soft_tissues": "Look at the soft tissues: the chest wall, the neck and the axillae.",
    "devices": "Account for everything that is not anatomy, and follow each object to where it "
    "ends.",
    "other": "Look beyond the lungs and the heart: the diaphragm, what lies below it, and the "
    "edges of the film.",
}

# Hint 2 for a finding with no box: the area or feature to examine, by label (canonical name),
# else by system. Written for the radiograph, never naming the finding.
AREA_HINTS: dict[str, str] = {
    "Edema": "Look at both lungs as a whole, from the hila out to the periphery.",
    "Vascular congestion": "Compare the upper-zone and lower-zone vessels, and look at the hila.",
    "Emphysema": "Judge the lung volumes: count the ribs above the diaphragm and look at the "
    "shape of the diaphragm.",
    "Fibrosis": "Look at the periphery and the bases of both lungs, and at the lung volumes.",
    "Tuberculosis": "Look closely at both upper zones and the apices.",
    "Lung tumor": "Look at the lung fields and at both hila for anything focal.",
    "Pericardial effusion": "Look at the size and the shape of the cardiac silhouette.",
    "Osteopenia": "Judge the density of the bones: ribs, spine and shoulders.",
    "Scoliosis": "Follow the alignment of the spine from top to bottom.",
    "Vertebral degenerative changes": "Look at the vertebral bodies and the spaces between them.",
    "Other disease": "Go back over the whole film, system by system.",
}
# Labels that share an area with one above (one sentence, one place to change it).
for _label, _same in (
    ("Hyperinflation", "Emphysema"),
    ("COPD", "Emphysema"),
    ("Interstitial lung disease", "Fibrosis"),
    ("Tuberculosis sequelae", "Tuberculosis"),
    ("Kyphosis", "Scoliosis"),
    ("Spinal deformity", "Scoliosis"),
):
    AREA_HINTS[_label] = AREA_HINTS[_same]

SYSTEM_AREA_HINTS: dict[str, str] = {
    "lungs": "Compare each lung zone with the same zone on the other side.",
    "pleura": "Look at the lung edges against the chest wall, the apices and the costophrenic "
    "angles of both sides.",
    "heart_mediastinum": "Look at the borders of the heart and the mediastinum, and where the "
    "trachea runs.",
    "hila": "Compare the size and the density of the two hila.",
    "bones": "Follow each rib, both clavicles and the spine in turn.",
    "soft_tissues": "Look along the chest wall on both sides and at the base of the neck.",
    "devices": "Follow each object from where it enters to where it ends.",
    "other": "Look at both domes of the diaphragm and under them.",
}

# For a normal study, and a study whose truth is only free text.
SEARCH_PATTERN_HINTS: tuple[str, ...] = (
    "Work through your search pattern in order: airway, lungs, pleura, heart and mediastinum, "
    "hila, bones, soft tissues, and below the diaphragm.",
    "Before you answer, recheck the review areas where findings hide: the apices, behind the "
    "heart, the costophrenic angles and below the diaphragm.",
)

HINTS_PER_CASE = len(SEARCH_PATTERN_HINTS)

_THIRDS = {"upper": "upper", "mid": "middle", "lower": "lower"}


@dataclass(frozen=True)
class HintFinding:
    """What a hint may read of a ground-truth finding."""

    label: str
    regions: Sequence[Sequence[Box]] = ()  # per region, each reader's box
    region_views: Sequence[int | None] = ()  # the view (image id) of each region


@dataclass(frozen=True)
class HintView:
    image_id: int
    projection: str  # "PA", "AP", "Lateral" or "" (apps.cases.view_names.view_projection)
    name: str  # as the viewer names the view: its projection, or "View 2"


def hint_ladder(
    *, findings: Sequence[HintFinding], views: Sequence[HintView] = ()
) -> tuple[str, ...]:
    """The ``HINTS_PER_CASE`` hints of a case, least specific first."""
    primary = _primary(findings)
    if primary is None:
        return SEARCH_PATTERN_HINTS
    label = taxonomy.lookup(primary.label)
    system = label.system if label is not None else "other"
    first = SYSTEM_HINTS[system]
    if primary.regions:
        second = _place_hint(primary, views)
    else:
        name = label.name if label is not None else ""
        second = AREA_HINTS.get(name, SYSTEM_AREA_HINTS[system])
    return (first, second)


def _primary(findings: Sequence[HintFinding]) -> HintFinding | None:
    """The finding the hints lead to: the most clinically significant (taxonomy weight), the
    first recorded among equals. Unknown labels weigh least, but still count."""
    best: HintFinding | None = None
    best_weight = -1.0
    for finding in findings:
        label = taxonomy.lookup(finding.label)
        weight = label.weight if label is not None else 0.0
        if weight > best_weight:
            best, best_weight = finding, weight
    return best


def _place_hint(finding: HintFinding, views: Sequence[HintView]) -> str:
    by_id = {view.image_id: view for view in views}
    places: list[str] = []
    for index, boxes in enumerate(finding.regions):
        if not boxes:
            continue
        view_id = finding.region_views[index] if index < len(finding.region_views) else None
        view = by_id.get(view_id) if view_id is not None else None
        place = _place(boxes[0], view, several_views=len(views) > 1)
        if place not in places:
            places.append(place)
    if not places:
        return SYSTEM_AREA_HINTS["other"]
    if len(places) == 1:
        return f"Look {places[0]}."
    return f"Look {places[0]}, and also {places[1]}."


def _place(box: Box, view: HintView | None, *, several_views: bool) -> str:
    projection = view.projection if view is not None else ""
    try:
        location = box_location(box, view=projection or "PA")
    except ValueError:  # a projection ml.anatomy does not know: read it as a frontal film
        location = box_location(box, view="PA")
    if location.side == "midline":
        words = f"centrally, in the {_THIRDS[location.zone]} third of the chest"
    elif location.phrase.startswith("throughout"):
        words = location.phrase
    elif location.phrase.startswith("both"):
        words = f"at {location.phrase}"
    else:
        words = f"at the {location.phrase}"
    if several_views and view is not None and location.side is not None:
        # A lateral phrase names its view already.
        words += f" on the {view.projection} view" if view.projection else f" on {view.name}"
    return words
