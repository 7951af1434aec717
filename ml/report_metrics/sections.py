"""Exam sections: the parts of a report that are about the chest.

One dictation often covers several examinations of a visit, each under a heading sentence of its
own: "1. Chest. No acute disease. 2. Right shoulder. Healing fracture." The scorer compares chest
film readings, so the findings written under another examination's heading ("Abdomen.",
"Left knee.", "Pelvis x-ray:") are not findings of this film and are left out, as are the normal
statements there ("no fracture" of the ankle says nothing about the ribs).

A heading is a sentence that is only body regions ("Left knee.", "Hip and femur.", with an
optional "x-ray", "radiographs", "series", "views" or "films"), or one that opens with them and
a colon ("Right shoulder: two views."). Its section runs to the next heading. Text before any
heading is in scope, and so is every section headed by the chest, a part of the chest wall
(ribs, sternum, clavicle, thoracic spine) or a part of a structured chest report ("Heart:",
"Pleura:", "Bones:", "Upper abdomen:"); a heading naming the chest with another region ("Chest
and abdomen.") keeps its section in scope.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ml.report_metrics.findings import Span

_CHEST = (
    r"chest|thorax|lungs?|ribs?|sternum|clavicles?|thoracic\s+spine|t-?spine"
    r"|(?:pa|ap|frontal)(?:\s+and\s+lateral)?\s+chest"
    # The parts of a structured chest report ("Heart: normal. Upper abdomen: no free air.").
    r"|heart|mediastinum|pleura|pleural\s+spaces|bones|osseous\s+structures|soft\s+tissues"
    r"|upper\s+abdomen|lines(?:\s+and\s+tubes)?|tubes(?:\s+and\s+lines)?|(?:support\s+)?devices"
)
_ELSEWHERE = (
    r"abdomen|abdominal|pelvis|pelvic|kub|shoulders?|humerus|elbows?|forearms?|wrists?|hands?"
    r"|fingers?|thumbs?|hips?|femur|knees?|tibias?|fibulas?|tibia\s+and\s+fibula|ankles?|feet"
    r"|foot|toes?|heels?|calcaneus|skull|head|face|facial\s+bones|sinuses|mandible|neck"
    r"|soft\s+tissue\s+neck|cervical\s+spine|c-?spine|lumbar\s+spine|l-?spine|lumbosacral\s+spine"
    r"|sacrum|coccyx|scapula"
)
_REGION = r"(?:the\s+)?(?:(?:left|right|bilateral)\s+)?(?:" + _CHEST + "|" + _ELSEWHERE + r")"
_REGIONS = rf"(?P<regions>{_REGION}(?:\s*(?:,|and|&)\s*{_REGION})*)"
_VIEWS = r"(?:\s+(?:x-?rays?|radiographs?|series|views?|films?))?"
# "Left knee." as a whole sentence, or "Right shoulder: 3 images." opening one.
_HEADING = re.compile(rf"{_REGIONS}{_VIEWS}\s*(?::.*|\.)?", re.IGNORECASE | re.DOTALL)
_ONE_REGION = re.compile(_REGION, re.IGNORECASE)
_CHEST_REGION = re.compile(
    rf"(?:the\s+)?(?:(?:left|right|bilateral)\s+)?(?:{_CHEST})", re.IGNORECASE
)


def heading_region(text: str, sentence: Span) -> str | None:
    """The body regions a heading sentence names, lower case ("Left knee." -> "left knee",
    "Shoulder and clavicle:" -> "shoulder and clavicle"); None for any other sentence."""
    heading = _HEADING.fullmatch(text, *sentence)
    if heading is None:
        return None
    return " ".join(heading.group("regions").lower().split())


def _is_chest(regions: str) -> bool:
    """A heading is the chest's when it names no other region, or names the chest itself
    ("Chest and abdomen.")."""
    names = [match.group() for match in _ONE_REGION.finditer(regions)]
    chest = [name for name in names if _CHEST_REGION.fullmatch(name)]
    return len(chest) == len(names) or any(
        re.search(r"\b(?:chest|thorax|lungs?)\b", name) for name in chest
    )


def out_of_scope(text: str, sentences: Sequence[Span]) -> frozenset[Span]:
    """The sentences written under another examination's heading (headings included)."""
    outside: set[Span] = set()
    elsewhere = False
    for sentence in sentences:
        regions = heading_region(text, sentence)
        if regions is not None:
            elsewhere = not _is_chest(regions)
        if elsewhere:
            outside.add(sentence)
    return frozenset(outside)
