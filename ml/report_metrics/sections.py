"""Exam sections: the parts of a report that are about the chest.

One dictation often covers several examinations of a visit, each under a heading sentence of its
own: "1. Chest. No acute disease. 2. Right shoulder. Healing fracture." The scorer compares chest
film readings, so the findings written under another examination's heading ("Abdomen.",
"Left knee.", "Pelvis x-ray:") are not findings of this film and are left out, as are the normal
statements there ("no fracture" of the ankle says nothing about the ribs).

A heading is a sentence that is only a body region, with an optional side and an optional
"x-ray", "radiograph(s)", "series", "views" or "film(s)". Its section runs to the next heading.
Text before any heading, and every section headed by the chest or a part of the chest wall
(ribs, sternum, clavicle, thoracic spine), is in scope.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ml.report_metrics.findings import Span

_CHEST = (
    r"chest|thorax|lungs?|ribs?|sternum|clavicles?|thoracic\s+spine|t-?spine"
    r"|(?:pa|ap|frontal)(?:\s+and\s+lateral)?\s+chest"
)
_ELSEWHERE = (
    r"abdomen|abdominal|pelvis|pelvic|kub|shoulders?|humerus|elbows?|forearms?|wrists?|hands?"
    r"|fingers?|thumbs?|hips?|femur|knees?|tibias?|fibulas?|tibia\s+and\s+fibula|ankles?|feet"
    r"|foot|toes?|heels?|calcaneus|skull|head|face|facial\s+bones|sinuses|mandible|neck"
    r"|soft\s+tissue\s+neck|cervical\s+spine|c-?spine|lumbar\s+spine|l-?spine|lumbosacral\s+spine"
    r"|sacrum|coccyx|scapula"
)
_HEADING = re.compile(
    r"(?:the\s+)?(?:(?:left|right|bilateral)\s+)?(?P<region>" + _CHEST + "|" + _ELSEWHERE + r")"
    r"(?:\s+(?:x-?rays?|radiographs?|series|views?|films?))?\s*[.:]?",
    re.IGNORECASE,
)
_CHEST_REGION = re.compile(rf"(?:{_CHEST})", re.IGNORECASE)


def heading_region(text: str, sentence: Span) -> str | None:
    """The body region a heading sentence names ("Left knee." -> "knee"); None for any other
    sentence."""
    heading = _HEADING.fullmatch(text, *sentence)
    return heading.group("region").lower() if heading is not None else None


def out_of_scope(text: str, sentences: Sequence[Span]) -> frozenset[Span]:
    """The sentences written under another examination's heading (headings included)."""
    outside: set[Span] = set()
    elsewhere = False
    for sentence in sentences:
        region = heading_region(text, sentence)
        if region is not None:
            elsewhere = _CHEST_REGION.fullmatch(region) is None
        if elsewhere:
            outside.add(sentence)
    return frozenset(outside)
