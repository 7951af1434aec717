"""Instances of a finding: the mentions of one label in one report that describe one thing.

A report often names a finding twice (in the findings and again in the impression) and
sometimes names two of them ("small left and moderate right effusions", "a right upper lobe
nodule ... a left lower lobe nodule"). Positive mentions of a label are grouped into instances:
a mention joins the first instance it is compatible with (sides equal, or one unstated, or one
bilateral; zone groups overlapping or one unstated; sizes within a factor of 1.5), which then
takes the union of their attributes. Presence is the strongest of its mentions (present >
uncertain).

The instances of one label in the reference and the candidate are then matched one to one by
optimal assignment (as boxes are in Localize): the most pairs, then the least attribute cost.
Where one report states "bilateral" and the other lists the left and the right one apart, the
two sides are first joined into one bilateral instance, so the two wordings compare equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import permutations

from ml.report_metrics.findings import Finding, Presence, Span
from ml.report_metrics.modifiers import ZONE_GROUPS

SIZE_FACTOR = 1.5
# Exhaustive assignment up to this many instances a side; beyond it, greedy (never seen in a
# real report, where one label rarely has more than three instances).
_EXACT_LIMIT = 6


@dataclass
class Instance:
    """One finding of one report, from one or more of its mentions."""

    label: str
    presence: Presence
    laterality: str | None
    zones: tuple[str, ...]
    severity_range: tuple[int, int] | None
    severity: str | None
    size_mm: float | None
    change: str | None
    span: Span
    sentence_span: Span
    mentions: list[Finding] = field(default_factory=list)

    @classmethod
    def of(cls, finding: Finding) -> Instance:
        return cls(
            label=finding.label,
            presence=finding.presence,
            laterality=finding.laterality,
            zones=finding.zones,
            severity_range=finding.severity_range,
            severity=finding.severity,
            size_mm=finding.size_mm,
            change=finding.change,
            span=finding.span,
            sentence_span=finding.sentence_span,
            mentions=[finding],
        )

    def accepts(self, other: Instance) -> bool:
        sides = {self.laterality, other.laterality} - {None}
        if len(sides) > 1 and "bilateral" not in sides:
            return False
        mine = {ZONE_GROUPS[zone] for zone in self.zones}
        theirs = {ZONE_GROUPS[zone] for zone in other.zones}
        if mine and theirs and not mine & theirs:
            return False
        if self.size_mm and other.size_mm:
            low, high = sorted((self.size_mm, other.size_mm))
            if high > low * SIZE_FACTOR:
                return False
        return True

    def absorb(self, other: Instance) -> None:
        sides = {self.laterality, other.laterality} - {None}
        if len(sides) > 1:
            self.laterality = "bilateral"
        elif sides:
            self.laterality = sides.pop()
        self.zones = tuple(dict.fromkeys((*self.zones, *other.zones)))
        if other.severity_range is not None:
            if self.severity_range is None:
                self.severity_range, self.severity = other.severity_range, other.severity
            else:
                low = min(self.severity_range[0], other.severity_range[0])
                high = max(self.severity_range[1], other.severity_range[1])
                if other.severity_range[1] > self.severity_range[1]:
                    self.severity = other.severity
                self.severity_range = (low, high)
        if other.size_mm and (self.size_mm or 0) < other.size_mm:
            self.size_mm = other.size_mm
        self.change = self.change or other.change
        if other.presence == "present" and self.presence != "present":
            self.presence = "present"
        self.mentions.extend(other.mentions)


def group(findings: Iterable[Finding]) -> dict[str, list[Instance]]:
    """The positive instances of each label (sided ones first; see ``_grouping_order``)."""
    instances: dict[str, list[Instance]] = {}
    # Sided findings first, then bilateral, then unsided: the groups then do not depend on the
    # order of the sentences (a shuffled report gives the same instances).
    for finding in sorted((f for f in findings if f.is_positive), key=_grouping_order):
        if not finding.is_positive:
            continue
        new = Instance.of(finding)
        same_label = instances.setdefault(finding.label, [])
        home = next((instance for instance in same_label if instance.accepts(new)), None)
        if home is None:
            same_label.append(new)
        else:
            home.absorb(new)
    return instances


def _grouping_order(finding: Finding) -> tuple[object, ...]:
    side = {"left": 0, "right": 1, "bilateral": 2}.get(finding.laterality or "", 3)
    return (
        finding.label,
        side,
        finding.zones,
        -(finding.size_mm or 0.0),
        finding.severity_range or (9, 9),
        finding.presence != "present",
        finding.text.lower(),
        finding.span,
    )


def harmonise(mine: list[Instance], theirs: list[Instance]) -> list[Instance]:
    """``mine`` with left and right joined into one when ``theirs`` is one bilateral finding."""
    if len(theirs) != 1 or theirs[0].laterality != "bilateral" or len(mine) < 2:
        return mine
    sided = [instance for instance in mine if instance.laterality in ("left", "right")]
    if {instance.laterality for instance in sided} != {"left", "right"}:
        return mine
    joined = Instance.of(sided[0].mentions[0])
    joined.mentions = []
    for instance in sided:
        joined.absorb(instance)
    joined.laterality = "bilateral"
    return [joined, *(instance for instance in mine if instance not in sided)]


def assign(
    reference: Sequence[Instance],
    candidate: Sequence[Instance],
    cost: Callable[[Instance, Instance], float],
) -> list[tuple[int, int]]:
    """Pairs (reference index, candidate index): as many as possible, least total cost, ties
    to the earlier mentions (so the same input always gives the same pairs)."""
    if not reference or not candidate:
        return []
    costs = [[cost(ref, cand) for cand in candidate] for ref in reference]
    if len(reference) <= len(candidate):
        rows, cols, flip = len(reference), len(candidate), False
    else:
        rows, cols, flip = len(candidate), len(reference), True

    def at(row: int, col: int) -> float:
        return costs[col][row] if flip else costs[row][col]

    if cols <= _EXACT_LIMIT:
        best = min(
            permutations(range(cols), rows),
            key=lambda chosen: (round(sum(at(r, c) for r, c in enumerate(chosen)), 9), chosen),
        )
        pairs = list(enumerate(best))
    else:
        pairs, used = [], set()
        for row in range(rows):
            col = min((c for c in range(cols) if c not in used), key=lambda c: (at(row, c), c))
            used.add(col)
            pairs.append((row, col))
    return sorted((col, row) if flip else (row, col) for row, col in pairs)
