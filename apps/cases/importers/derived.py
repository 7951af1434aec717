"""A reference findings text written from dataset labels and boxes, for datasets without reports.

Deterministic: the taxonomy's wording of each label, and for boxes the side (in the PATIENT's
frame: on a frontal film the image's left half is the patient's right) and lung zone from
``ml.anatomy.box_location``. Labels without a box are stated without a location. A normal study
gets a normal report. The text is stored with ``is_derived=True`` and a source saying it is not a
radiologist's report, and every page that shows it says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from apps.cases.services.findings import TruthFinding
from ml import taxonomy
from ml.anatomy import box_location

DERIVED_SOURCE = "derived from NIH labels and boxes, not a radiologist's report"


def derived_source(dataset: str) -> str:
    return f"derived from {dataset} labels and boxes, not a radiologist's report"


NORMAL_TEXT = (
    "The lungs are clear. No pleural effusion or pneumothorax. "
    "The cardiomediastinal silhouette is within normal limits."
)
# Wording a report would use for labels whose canonical name reads badly in a sentence.
_WORDING = {
    "Effusion": "pleural effusion",
    "Infiltration": "infiltration",
    "Hernia": "hiatal hernia",
}
# Findings of the heart and mediastinum have no lung zone: their box says nothing a report would.
_NO_LOCATION_SYSTEMS = frozenset({"heart_mediastinum"})


def _words(label: str) -> str:
    return _WORDING.get(label, label[:1].lower() + label[1:] if not label.isupper() else label)


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _sentence(finding: TruthFinding, view: str) -> str:
    words = _words(finding.label)
    label = taxonomy.get(finding.label)
    if not finding.regions or label.system in _NO_LOCATION_SYSTEMS:
        if finding.label == "Cardiomegaly":
            return "The heart is enlarged (cardiomegaly)."
        return f"{words[:1].upper()}{words[1:]}."
    phrases: list[str] = []
    for region in finding.regions:
        # The first reader's box stands for the region; alternatives describe the same place.
        phrase = box_location(region[0].box, view or "PA").phrase
        if phrase not in phrases:
            phrases.append(phrase)
    where = _join([_place(phrase) for phrase in phrases])
    return f"{words[:1].upper()}{words[1:]} {where}."


def _place(phrase: str) -> str:
    if phrase.startswith("throughout"):
        return phrase
    if phrase.startswith("central"):
        return "in the central / mediastinal region"
    if phrase.startswith("both"):
        return f"in {phrase}"
    return f"in the {phrase}"


def derived_findings_text(
    findings: Sequence[TruthFinding], *, is_normal: bool, view: str = "PA"
) -> str:
    if is_normal or not findings:
        return NORMAL_TEXT
    return " ".join(_sentence(finding, view) for finding in findings)
