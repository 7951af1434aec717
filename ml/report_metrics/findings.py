"""The Finding record that extraction produces and comparison consumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Presence = Literal["present", "absent", "uncertain"]
Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Finding:
    """One statement about one finding in a report.

    ``span`` is the mention itself and ``sentence_span`` the sentence it came from, both as
    ``[start, end)`` character offsets into the original text. ``implied`` marks an absent
    finding that a normal statement ("lungs are clear") stands for rather than names.
    ``severity_range`` keeps both ends of "mild to moderate" so comparison can be tolerant;
    ``size_mm`` is the largest dimension written with a unit ("2.1 x 1.5 cm" is 21 mm).
    """

    label: str
    presence: Presence
    laterality: str | None
    zone: str | None
    severity: str | None
    change: str | None
    span: Span
    sentence_span: Span
    text: str
    implied: bool = False
    zones: tuple[str, ...] = ()
    severity_range: tuple[int, int] | None = None
    size_mm: float | None = None
    hedge: str | None = None  # "probable" or "possible" when uncertain

    @property
    def is_positive(self) -> bool:
        """Present or uncertain: the reader is telling the clinician it may be there."""
        return self.presence != "absent"

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of DESIGN.md section 4 ("finding"), plus the mention's text."""
        return {
            "label": self.label,
            "presence": self.presence,
            "laterality": self.laterality,
            "zone": self.zone,
            "severity": self.severity,
            "change": self.change,
            "span": list(self.span),
            "sentence_span": list(self.sentence_span),
            "text": self.text,
            "implied": self.implied,
            "size_mm": self.size_mm,
            "hedge": self.hedge,
        }
