"""Normal statements: phrases stating a region is normal, and the findings each rules out.

"Lungs are clear", "heart size is normal", "no acute cardiopulmonary process" are not findings
but explicit negatives for the findings they cover; ``NORMAL_STATEMENTS`` lists what each covers.
An explicit mention of a finding anywhere in the report wins over the negative a normal statement
implies ("lungs are clear except for basal atelectasis"): see ``extraction``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True)
class NormalStatement:
    """A phrase stating a region is normal, and the findings it rules out."""

    name: str
    pattern: str
    covers: tuple[str, ...]


_LUNG_CLEAR_COVERS = (
    "Consolidation",
    "Infiltration",
    "Pneumonia",
    "Edema",
    "Atelectasis",
    "Lung opacity",
)
_ACUTE_COVERS = ("Consolidation", "Pneumonia", "Edema", "Effusion", "Pneumothorax", "Lung opacity")

NORMAL_STATEMENTS: tuple[NormalStatement, ...] = (
    NormalStatement(
        "lungs_clear",
        r"(?:lungs?|lung\s+fields|lung\s+parenchyma)\s+(?:(?:are|is|remain|appears?)\s+)?"
        r"(?:(?:otherwise|grossly|essentially|well[-\s]expanded(?:\s+and)?|bilaterally|now|fully)"
        r"\s+)*(?:clear|unremarkable)|clear\s+lungs",
        _LUNG_CLEAR_COVERS,
    ),
    NormalStatement(
        "heart_normal",
        r"(?:heart|cardiac)(?:\s+(?:size|silhouette|contours?|shadow))?"
        r"\s+(?:(?:is|are|appears?|remains?)\s+)?(?:(?:otherwise|grossly|essentially)\s+)?"
        r"(?:normal(?:\s+in\s+size)?|within\s+normal\s+limits|not\s+enlarged|unremarkable)"
        r"|normal\s+(?:heart\s+size|cardiac\s+size|size\s+of\s+the\s+heart|cardiac\s+silhouette)",
        ("Cardiomegaly",),
    ),
    NormalStatement(
        "cardiomediastinal_normal",
        r"normal\s+cardiomediastinal\s+(?:silhouette|contours?)"
        r"|(?:cardiomediastinal\s+(?:silhouette|contours?)|heart\s+and\s+mediastinum)\s+"
        r"(?:(?:is|are|appears?)\s+)?(?:normal|within\s+normal\s+limits|unremarkable)",
        ("Cardiomegaly", "Enlarged cardiomediastinum"),
    ),
    NormalStatement(
        "no_acute_process",
        r"no\s+acute\s+(?:cardiopulmonary|cardiothoracic|intrathoracic|pulmonary|chest)\s+"
        r"(?:process|abnormality|abnormalities|disease|findings?|pathology)"
        r"|no\s+active\s+(?:cardiopulmonary\s+)?disease",
        _ACUTE_COVERS,
    ),
    NormalStatement(
        "normal_chest",
        r"normal\s+(?:chest(?:\s+(?:radiograph|x-?ray|film))?|study|examination)",
        (*_ACUTE_COVERS, "Cardiomegaly"),
    ),
    NormalStatement(
        "pleura_clear",
        r"no\s+pleural\s+(?:abnormality|abnormalities|disease)"
        r"|pleural\s+spaces?\s+(?:(?:are|is)\s+)?clear",
        ("Effusion", "Pneumothorax"),
    ),
    NormalStatement(
        "costophrenic_sharp",
        r"costophrenic\s+angles?\s+(?:(?:are|is)\s+)?(?:sharp|clear|preserved)",
        ("Effusion",),
    ),
    NormalStatement(
        "bones_intact",
        r"(?:osseous|bony|skeletal)\s+structures\s+(?:(?:are|is|appear)\s+)?"
        r"(?:intact|unremarkable|normal)"
        r"|no\s+(?:acute\s+)?(?:osseous|bony|skeletal)\s+(?:abnormality|abnormalities|injury|lesion)",
        ("Fracture",),
    ),
    NormalStatement(
        "vessels_normal",
        r"pulmonary\s+vasculature\s+(?:(?:is|appears)\s+)?(?:normal|within\s+normal\s+limits"
        r"|unremarkable)|no\s+(?:pulmonary\s+)?vascular\s+congestion",
        ("Edema", "Vascular congestion"),
    ),
    NormalStatement(
        "volumes_normal",
        r"(?:normal|adequate)\s+lung\s+volumes|lungs\s+are\s+(?:normally\s+|well[-\s])expanded",
        ("Hyperinflation",),
    ),
)


@cache
def compiled_normal_statements() -> tuple[tuple[re.Pattern[str], NormalStatement], ...]:
    return tuple(
        (re.compile(rf"\b(?:{statement.pattern})\b", re.IGNORECASE), statement)
        for statement in NORMAL_STATEMENTS
    )
