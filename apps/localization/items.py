"""Which thing an explanation is about: one type that owns the item key stored on
``Explanation.item`` and carried in the explanation job's payload. Built and read only here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ItemKind = Literal["ref", "missed", "fp", "fp_select", "mislabelled"]


@dataclass(frozen=True)
class ExplanationItem:
    kind: ItemKind
    finding_id: int | None = None  # ref, missed
    mark: int | None = None  # fp, mislabelled: the box's index in the attempt
    label: str | None = None  # fp_select: the ticked label

    @classmethod
    def reference(cls, finding_id: int) -> ExplanationItem:
        return cls("ref", finding_id=finding_id)

    @classmethod
    def missed(cls, finding_id: int) -> ExplanationItem:
        return cls("missed", finding_id=finding_id)

    @classmethod
    def false_positive(cls, mark: int | None, label: str) -> ExplanationItem:
        """A wrong box (by its index) or, without a box, a wrongly ticked label."""
        return cls("fp", mark=mark) if mark is not None else cls("fp_select", label=label)

    @classmethod
    def mislabelled(cls, mark: int) -> ExplanationItem:
        return cls("mislabelled", mark=mark)

    @property
    def key(self) -> str:
        if self.kind in ("ref", "missed"):
            return f"{self.kind}:{self.finding_id}"
        if self.kind == "fp_select":
            return f"fp:select:{self.label}"
        return f"{self.kind}:{self.mark}"

    @classmethod
    def parse(cls, key: str) -> ExplanationItem:
        """The item a stored key names; a ValueError for anything this type never wrote."""
        kind, _, rest = key.partition(":")
        if kind == "fp" and rest.startswith("select:"):
            return cls("fp_select", label=rest[len("select:") :])
        if kind in ("ref", "missed") and rest.isdigit():
            return cls(kind, finding_id=int(rest))  # type: ignore[arg-type]
        if kind in ("fp", "mislabelled") and rest.isdigit():
            return cls(kind, mark=int(rest))  # type: ignore[arg-type]
        raise ValueError(f"not an explanation item: {key!r}")
