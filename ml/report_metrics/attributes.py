"""Which words of a sentence describe which finding, and what they say (side, zone, size, change).

A finding's attributes are read from its *window*: the clause that holds it, cut at commas,
semicolons and joining words ("and", "with", "but"), and narrowed so it never reaches into
another finding of the same clause. A clause without a finding ("left greater than right")
belongs to the finding before it in the sentence, or, when it opens the sentence ("right lower
lobe and lingular consolidation"), to the one after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ml.report_metrics.findings import Span
from ml.report_metrics.modifiers import (
    CHANGE_RE,
    LATERALITY_RE,
    LATERALITY_WORDS,
    SEVERITY_RANK,
    SEVERITY_RE,
    SEVERITY_WORDS,
    ZONE_RE,
    ZONE_WORDS,
    normalise_change,
)

_CLAUSE_BREAK = re.compile(
    r"[;,]|\b(?:and(?!/)|but|with|while|whereas|however|although|which)\b", re.IGNORECASE
)
# A clause stating something normal or absent describes no finding of its neighbours.
_NORMAL_CLAUSE = re.compile(
    r"\b(?:clear|normal|unremarkable|no|not|without|negative|intact)\b", re.IGNORECASE
)
# Systems where side and zone mean something for the finding.
_SIDED_SYSTEMS = frozenset({"lungs", "pleura", "hila", "bones", "soft_tissues", "devices", "other"})
_ZONED_SYSTEMS = frozenset({"lungs", "pleura"})


# "2 cm", "2.1 x 1.5 cm", "15-mm": the largest dimension, in millimetres.
_SIZE = re.compile(
    r"\b(\d+(?:\.\d+)?)(?:\s*(?:x|by)\s*(\d+(?:\.\d+)?))?(?:\s*(?:x|by)\s*(\d+(?:\.\d+)?))?"
    r"\s*-?\s*(mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)\b",
    re.IGNORECASE,
)
_GRADE = SEVERITY_RE.pattern.removeprefix(r"\b(").removesuffix(r")\b")
# "moderate left and small right": two sides coordinated before one mention, each graded.
_TWO_SIDES = re.compile(
    rf"\b(?:({_GRADE})\s+)?(left|right)(?:-sided)?\s*(?:,|and|&)\s*(?:({_GRADE})\s+)?"
    r"(left|right)(?:-sided)?\b",
    re.IGNORECASE,
)
_WORD_OF_RANK = {rank: word for word, rank in reversed(SEVERITY_RANK.items())}


@dataclass(frozen=True, slots=True)
class Attributes:
    laterality: str | None
    zones: tuple[str, ...]
    severity: str | None
    severity_range: tuple[int, int] | None
    change: str | None
    size_mm: float | None = None
    # Two coordinated sides with their own grades: ((side, severity range), ...), else ().
    instances: tuple[tuple[str, tuple[int, int] | None], ...] = ()


def severity_word(rank: int) -> str:
    """The plain word for a severity rank ("small", "moderate", "large")."""
    return _WORD_OF_RANK[rank]


def clauses(text: str, sentence: Span) -> list[Span]:
    """The clauses of one sentence, as character spans."""
    start, end = sentence
    pieces: list[Span] = []
    cursor = start
    for match in _CLAUSE_BREAK.finditer(text, start, end):
        if match.start() > cursor:
            pieces.append((cursor, match.start()))
        cursor = match.end()
    if cursor < end:
        pieces.append((cursor, end))
    return pieces or [sentence]


def windows(text: str, sentence: Span, targets: list[Span]) -> list[list[Span]]:
    """For each target of one sentence (in order), the text spans that describe it."""
    if not targets:
        return []
    own: list[list[Span]] = [[] for _ in targets]
    loose: list[tuple[int, Span]] = []  # (index of the clause, clause) for clauses with no target
    last_owner: list[int | None] = []
    for clause_index, (c_start, c_end) in enumerate(clauses(text, sentence)):
        inside = [i for i, (t_start, _) in enumerate(targets) if c_start <= t_start < c_end]
        if not inside:
            loose.append((clause_index, (c_start, c_end)))
            last_owner.append(None)
            continue
        for position, i in enumerate(inside):
            left = targets[inside[position - 1]][1] if position else c_start
            right = targets[inside[position + 1]][0] if position + 1 < len(inside) else c_end
            own[i].append((min(left, targets[i][0]), max(right, targets[i][1])))
        last_owner.append(inside[-1])
    for clause_index, clause in loose:
        if _NORMAL_CLAUSE.search(text, *clause):
            continue  # "right lung clear, but left lower lobe atelectasis": not the atelectasis
        before = [owner for owner in last_owner[:clause_index] if owner is not None]
        after = [owner for owner in last_owner[clause_index + 1 :] if owner is not None]
        if before:
            own[before[-1]].append(clause)
        elif after:
            # A leading clause describes the first finding of the next clause that has one.
            first_after = min(i for i in range(len(targets)) if targets[i][0] >= clause[1])
            own[first_after].append(clause)
    return own


def read_attributes(
    text: str, window: list[Span], target: Span, system: str, *, own_clause_only: bool = False
) -> Attributes:
    """Side, zones, severity and change of the finding at ``target`` from its window."""
    spans = window[:1] if own_clause_only else window
    sides: set[str] = set()
    zones: list[str] = []
    ranks: list[tuple[int, str]] = []
    change: str | None = None
    for start, end in spans:
        for match in LATERALITY_RE.finditer(text, start, end):
            sides.add(LATERALITY_WORDS[match.group(1).lower()])
        for match in ZONE_RE.finditer(text, start, end):
            zone = ZONE_WORDS[match.group(1).lower()]
            if zone not in zones:
                zones.append(zone)
        for match in SEVERITY_RE.finditer(text, start, end):
            word = SEVERITY_WORDS[match.group(1).lower()]
            ranks.append((SEVERITY_RANK[word], word))
        if change is None:
            change = _change_outside(text, start, end, target)
    laterality = _side(sides) if system in _SIDED_SYSTEMS else None
    zone_tuple = tuple(zones) if system in _ZONED_SYSTEMS else ()
    severity = max(ranks)[1] if ranks else None
    severity_range = (min(ranks)[0], max(ranks)[0]) if ranks else None
    instances = _two_sides(text, spans, target) if laterality == "bilateral" else ()
    return Attributes(
        laterality, zone_tuple, severity, severity_range, change, _size(text, spans), instances
    )


def _size(text: str, spans: list[Span]) -> float | None:
    sizes = []
    for start, end in spans:
        for match in _SIZE.finditer(text, start, end):
            value = max(float(group) for group in match.groups()[:3] if group)
            sizes.append(value * (10.0 if match.group(4).lower().startswith("c") else 1.0))
    return max(sizes) if sizes else None


def _two_sides(
    text: str, spans: list[Span], target: Span
) -> tuple[tuple[str, tuple[int, int] | None], ...]:
    start = min(span_start for span_start, _ in spans)
    match = _TWO_SIDES.search(text, start, target[0]) if start < target[0] else None
    if match is not None:
        first_grade, first_side, second_grade, second_side = match.groups()
        if first_side.lower() == second_side.lower() or not (first_grade or second_grade):
            return ()
        # "small left and right effusions": the grade given once covers both.
        first_grade, second_grade = first_grade or second_grade, second_grade or first_grade
        return (
            (first_side.lower(), _rank_range(first_grade)),
            (second_side.lower(), _rank_range(second_grade)),
        )
    return ()


def _rank_range(word: str | None) -> tuple[int, int] | None:
    if word is None:
        return None
    rank = SEVERITY_RANK[SEVERITY_WORDS[word.lower()]]
    return (rank, rank)


def _side(sides: set[str]) -> str | None:
    if "bilateral" in sides or {"left", "right"} <= sides:
        return "bilateral"
    return next(iter(sides), None)


def _change_outside(text: str, start: int, end: int, target: Span) -> str | None:
    # The mention itself can hold a change-like word ("heart size is increased") that is a
    # description, not a comparison, so only the words around it count.
    for lo, hi in ((start, min(end, target[0])), (max(start, target[1]), end)):
        if lo < hi:
            match = CHANGE_RE.search(text, lo, hi)
            if match:
                return normalise_change(match.group(1))
    return None
