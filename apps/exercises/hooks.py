"""What follows a credited attempt beyond the ledger. The lifecycle calls ``attempt_credited``
once per attempt, from ``attempt_credit`` (the one place an attempt is credited, in practice at
once and in an assessment at its release); higher layers (the game: badges, spaced review)
register a receiver at start-up. Receivers run inside the credit's transaction: keep them to a
few statements."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FindingOutcomes:
    """An attempt's answer, finding by finding (canonical labels), as its exercise scored it."""

    found: tuple[str, ...] = ()  # present and found (a hit, a matched finding)
    # present and missed, mislabelled (the true label), or reported wrongly (location, severity)
    missed: tuple[str, ...] = ()
    false: tuple[str, ...] = ()  # marked or reported but absent
    full_coverage: bool = False  # a report that addressed every region a chest film report should


def outcome_labels(labels: Iterable[Any]) -> tuple[str, ...]:
    """Labels once each, in order of first appearance (no blanks)."""
    return tuple(dict.fromkeys(str(label) for label in labels if label))


@dataclass(frozen=True)
class Credited:
    attempt: Any  # an apps.exercises.models.Attempt subclass, scored and credited
    xp: int

    @property
    def first_reading(self) -> bool:
        """Counts towards accuracy: made before the answer was shown, and not blank."""
        return not self.attempt.post_reveal and not self.attempt.blank


Receiver = Callable[[Credited], None]
_RECEIVERS: list[Receiver] = []


def on_attempt_credited(receiver: Receiver) -> None:
    if receiver not in _RECEIVERS:
        _RECEIVERS.append(receiver)


def attempt_credited(*, attempt: Any, xp: int) -> None:
    credited = Credited(attempt=attempt, xp=xp)
    for receiver in _RECEIVERS:
        receiver(credited)
