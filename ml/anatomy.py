"""Where a box lies on a chest film, in the patient's frame, for feedback sentences.

Coordinates are normalised image coordinates ``[x1, y1, x2, y2]`` (origin top-left).

Side: frontal films (PA and AP) are displayed as if facing the patient, so the image's left half
is the patient's RIGHT. A box centred within ``MIDLINE_HALF_WIDTH`` of the image centre is
"midline" (heart, mediastinum, spine), unless it reaches ``BILATERAL_REACH`` or further into both
outer halves, which makes it "bilateral". Lateral films have no side.

Zone: vertical thirds of the lung fields. NIH ChestX-ray14 films (1024 x 1024) include the lower
neck and the upper abdomen: over the radiologist boxes of the demo set and typical adult PA films
the lung apices sit near y = 0.10 and the costophrenic angles near y = 0.82, so the lung fields are
taken as ``LUNG_TOP``..``LUNG_BOTTOM`` and split into upper [0.10, 0.34), mid [0.34, 0.58) and
lower [0.58, 0.82]. A box above or below the fields counts in the nearest zone. A box covering at
least ``ZONE_COVER`` of a third's height counts in that zone too, so a tall box reads "right mid
and lower zones".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

Side = Literal["right", "left", "bilateral", "midline"]
Zone = Literal["upper", "mid", "lower"]

LUNG_TOP: Final = 0.10
LUNG_BOTTOM: Final = 0.82
MIDLINE_HALF_WIDTH: Final = 0.08
BILATERAL_REACH: Final = 0.25
ZONE_COVER: Final = 0.5

ZONES: Final[tuple[Zone, ...]] = ("upper", "mid", "lower")
_FRONTAL_VIEWS: Final = frozenset({"pa", "ap", "apsupine", "aperect", "frontal", "supine"})
_LATERAL_VIEWS: Final = frozenset({"lateral", "lat", "ll", "rl", "latl", "latr"})


@dataclass(frozen=True)
class Location:
    """Where a box lies: side in the patient's frame (None on a lateral film), zone, phrase."""

    side: Side | None
    zone: Zone
    phrase: str
    zones: tuple[Zone, ...] = ()


def _is_lateral(view: str | None) -> bool:
    if view is None:
        return False
    key = "".join(ch for ch in view.casefold() if ch.isalnum())
    if key in _LATERAL_VIEWS:
        return True
    if key in _FRONTAL_VIEWS or key == "":
        return False
    raise ValueError(f"Unknown view {view!r}; expected PA, AP, frontal, lateral or None.")


def _side(x1: float, x2: float) -> Side:
    centre = (x1 + x2) / 2
    if x1 <= BILATERAL_REACH and x2 >= 1 - BILATERAL_REACH:
        return "bilateral"
    if abs(centre - 0.5) <= MIDLINE_HALF_WIDTH:
        return "midline"
    # The image's left half is the patient's right on a frontal film.
    return "right" if centre < 0.5 else "left"


def _zones(y1: float, y2: float) -> tuple[Zone, tuple[Zone, ...]]:
    third = (LUNG_BOTTOM - LUNG_TOP) / 3
    centre = min(max((y1 + y2) / 2, LUNG_TOP), LUNG_BOTTOM)
    main = ZONES[min(int((centre - LUNG_TOP) / third), 2)]
    covered = []
    for index, zone in enumerate(ZONES):
        top = LUNG_TOP + index * third
        # The outer zones extend beyond the lung fields: apices and bases vary between films.
        low = -1.0 if index == 0 else top
        high = 2.0 if index == 2 else top + third
        overlap = min(y2, high) - max(y1, low)
        if zone == main or overlap >= ZONE_COVER * third:
            covered.append(zone)
    return main, tuple(covered)


def _zone_words(zones: tuple[Zone, ...], *, plural: bool) -> str:
    if len(zones) == 3:
        return ""
    joined = " and ".join(zones)
    return f"{joined} zones" if plural or len(zones) > 1 else f"{joined} zone"


def box_location(box: Sequence[float], view: str | None = "PA") -> Location:
    """The side (patient's frame), main zone and a readable phrase for a normalised box."""
    if len(box) != 4:
        raise ValueError(f"A box has four coordinates, got {len(box)}.")
    x1, y1, x2, y2 = (float(v) for v in box)
    if not (0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0):
        raise ValueError(f"Box {list(box)!r} is not a normalised [x1, y1, x2, y2] box.")
    zone, zones = _zones(y1, y2)
    if _is_lateral(view):
        words = _zone_words(zones, plural=False)
        phrase = (
            f"{words} on the lateral view" if words else "throughout the lung on the lateral view"
        )
        return Location(None, zone, phrase, zones)
    side = _side(x1, x2)
    if side == "midline":
        return Location(side, zone, "central / mediastinal", zones)
    if side == "bilateral":
        words = _zone_words(zones, plural=True)
        phrase = f"both {words}" if words else "throughout both lungs"
        return Location(side, zone, phrase, zones)
    words = _zone_words(zones, plural=False)
    phrase = f"{side} {words}" if words else f"throughout the {side} lung"
    return Location(side, zone, phrase, zones)
