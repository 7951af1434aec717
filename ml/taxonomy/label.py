"""The Label record and the vocabularies its fields draw from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

System = Literal[
    "lungs", "pleura", "heart_mediastinum", "hila", "bones", "soft_tissues", "devices", "other"
]

# The anatomical systems a systematic chest film report addresses, in reading order.
SYSTEMS: Final[tuple[System, ...]] = (
    "lungs",
    "pleura",
    "heart_mediastinum",
    "hila",
    "bones",
    "soft_tissues",
    "devices",
    "other",
)

# Clinical-significance weights shared with the report scorer (DESIGN.md section 4).
URGENT: Final = 1.0
ACTIONABLE: Final = 0.5
NOT_ACTIONABLE: Final = 0.25
BENIGN: Final = 0.0
WEIGHTS: Final[tuple[float, ...]] = (URGENT, ACTIONABLE, NOT_ACTIONABLE, BENIGN)

# Readable aliases for the ``localizable`` flag in the catalogue tables.
DRAW: Final = True
SELECT: Final = False


@dataclass(frozen=True)
class Label:
    """One canonical finding: how it is answered, how much it matters, what it means."""

    name: str
    localizable: bool
    weight: float
    description: str
    system: System
    synonyms: tuple[str, ...] = ()

    @property
    def mode(self) -> Literal["draw", "select"]:
        """The Localize answer mode: boxes for focal findings, a checklist tick otherwise."""
        return "draw" if self.localizable else "select"
