"""Name resolution: any spelling of a finding to its canonical Label."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from ml.taxonomy.catalogue_chest import LUNG_LABELS, PLEURA_LABELS
from ml.taxonomy.catalogue_devices import DEVICE_LABELS
from ml.taxonomy.catalogue_other import (
    BONE_LABELS,
    HILA_LABELS,
    MEDIASTINUM_LABELS,
    OTHER_LABELS,
    SOFT_TISSUE_LABELS,
)
from ml.taxonomy.label import Label

_NON_WORD = re.compile(r"[\W_]+")


def normalise(name: str) -> str:
    """The lookup key of a name: case, spaces, underscores, hyphens and slashes do not matter."""
    return _NON_WORD.sub("", name.casefold())


def _build_labels() -> Mapping[str, Label]:
    ordered = (
        LUNG_LABELS
        + PLEURA_LABELS
        + MEDIASTINUM_LABELS
        + HILA_LABELS
        + BONE_LABELS
        + SOFT_TISSUE_LABELS
        + DEVICE_LABELS
        + OTHER_LABELS
    )
    return MappingProxyType({label.name: label for label in ordered})


LABELS: Final[Mapping[str, Label]] = _build_labels()

# Normalised names that mean "this study is normal" rather than naming a finding.
NORMAL_NAMES: Final[frozenset[str]] = frozenset(
    normalise(name)
    for name in (
        "No Finding",
        "No findings",
        "Normal",
        "Normal study",
        "Normal chest",
        "No abnormality",
        "No acute abnormality",
        "Unremarkable",
    )
)


def _build_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for label in LABELS.values():
        for spelling in (label.name, *label.synonyms):
            key = normalise(spelling)
            owner = index.setdefault(key, label.name)
            # A spelling shared by two labels would make matching depend on table order.
            if owner != label.name:
                raise RuntimeError(f"{spelling!r} names both {owner!r} and {label.name!r}")
            if key in NORMAL_NAMES:
                raise RuntimeError(f"{spelling!r} is both a finding and a normal-study name")
    return index


_INDEX: Final[dict[str, str]] = _build_index()
# Exact spellings skip the regex: parsing resident marks calls canonical() for every box.
_EXACT: Final[dict[str, str]] = {
    spelling: label.name
    for label in LABELS.values()
    for spelling in (label.name, *label.synonyms, label.name.lower())
}
_DISPLAY_NAMES: Final[dict[str, str]] = {
    normalise(spelling): spelling
    for label in LABELS.values()
    for spelling in (label.name, *label.synonyms)
}


class UnknownLabelError(ValueError):
    """A finding name the taxonomy does not know; the message suggests close matches."""

    def __init__(self, name: str, suggestions: list[str] | None = None) -> None:
        self.label = name
        self.suggestions = suggestions if suggestions is not None else suggest(name)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"Unknown finding label {name!r}.{hint}")


def suggest(name: str, limit: int = 3) -> list[str]:
    """Known spellings closest to ``name``, best first, each with its canonical name."""
    close = difflib.get_close_matches(normalise(name), _INDEX.keys(), n=limit * 2, cutoff=0.6)
    suggestions: list[str] = []
    for key in close:
        display, owner = _DISPLAY_NAMES[key], _INDEX[key]
        text = display if display == owner else f"{display} ({owner})"
        if text not in suggestions:
            suggestions.append(text)
    return suggestions[:limit]


def _resolve(name: str) -> str | None:
    exact = _EXACT.get(name)
    if exact is not None:
        return exact
    key = normalise(name)
    found = _INDEX.get(key)
    if found is None:
        # Report wording is often plural ("nodules", "rib fractures", "masses").
        for suffix in ("es", "s"):
            if key.endswith(suffix) and (found := _INDEX.get(key[: -len(suffix)])) is not None:
                break
    return found


def lookup(name: str) -> Label | None:
    """The Label for any known spelling, or None."""
    found = _resolve(name) if isinstance(name, str) else None
    return LABELS[found] if found is not None else None


def canonical(name: str) -> str:
    """The canonical name for any known spelling; raises UnknownLabelError otherwise."""
    found = _resolve(name) if isinstance(name, str) else None
    if found is None:
        raise UnknownLabelError(str(name))
    return found


def get(name: str) -> Label:
    """The Label for any known spelling; raises UnknownLabelError otherwise."""
    return LABELS[canonical(name)]


def is_normal(name: str) -> bool:
    """True for names that mean a normal study ("No Finding", "Normal"), not a finding."""
    return isinstance(name, str) and normalise(name) in NORMAL_NAMES


def draw_labels() -> list[Label]:
    """Findings answered by drawing boxes, in catalogue order."""
    return [label for label in LABELS.values() if label.localizable]


def select_labels() -> list[Label]:
    """Findings answered by ticking a checklist, in catalogue order."""
    return [label for label in LABELS.values() if not label.localizable]
