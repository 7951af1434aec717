"""What follows a credited attempt beyond the ledger. The lifecycle calls ``attempt_credited``
once per attempt, from ``credit.attempt_credit`` (the one place an attempt is credited, in
practice at once and in an assessment at its release); higher layers (the game: badges, spaced
review) register a receiver at start-up. Receivers run inside the credit's transaction: keep them to a
few statements.

A receiver may also register ``Facts``: expressions about the player that the submit reads in
its one statement of the player's state (under the player's lock, ``services._start``), so the
receiver can skip a read or a write it would otherwise make on every answer. They reach it as
``Credited.known``; a credit made elsewhere (an assessment's release, a scoring job) has none,
and the receiver reads what it needs as before."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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
    # The receivers' facts, read with the player's state before the attempt was stored (their
    # arguments included); empty when the credit was not made by a submit.
    known: Mapping[str, Any] = field(default_factory=dict)

    @property
    def first_reading(self) -> bool:
        """Counts towards accuracy: made before the answer was shown, and not blank."""
        return not self.attempt.post_reveal and not self.attempt.blank


@dataclass(frozen=True)
class Facts:
    """Facts about the player a receiver wants read with the player's state. ``args(user)``
    gives the values the expressions take as parameters (ints, datetimes, strings: the read is
    compiled once per process, ``apps.core.compiled``); ``expressions(user_ref, case_id,
    **args)`` gives the named expressions (``user_ref`` is an ``OuterRef`` to the player).
    Names carry the receiver's prefix: they share one namespace with the lifecycle's own."""

    name: str
    args: Callable[[Any], dict[str, Any]]
    expressions: Callable[..., dict[str, Any]]


Receiver = Callable[[Credited], None]
_RECEIVERS: list[Receiver] = []
_FACTS: list[Facts] = []


def on_attempt_credited(receiver: Receiver, facts: Facts | None = None) -> None:
    if receiver not in _RECEIVERS:
        _RECEIVERS.append(receiver)
    if facts is not None and facts.name not in {f.name for f in _FACTS}:
        _FACTS.append(facts)


def credit_fact_args(user: Any) -> dict[str, Any]:
    """Every receiver's arguments for the player (the compiled read's shape is their names)."""
    return {name: value for facts in _FACTS for name, value in facts.args(user).items()}


def credit_fact_expressions(user_ref: Any, case_id: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Every receiver's named expressions, each given its own arguments (by its prefix)."""
    out: dict[str, Any] = {}
    for facts in _FACTS:
        prefix = f"{facts.name}_"
        own = {name: value for name, value in args.items() if name.startswith(prefix)}
        expressions = facts.expressions(user_ref, case_id, **own)
        if any(not name.startswith(prefix) for name in expressions):
            raise ValueError(f"the facts of {facts.name!r} must be named {prefix}...")
        out.update(expressions)
    return out


def credit_facts_known(row: Mapping[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """What the receivers learn from the read's ``row``: their facts, and their arguments."""
    prefixes = tuple(f"{facts.name}_" for facts in _FACTS)
    return {**args, **{name: row[name] for name in row if name.startswith(prefixes)}}


def attempt_credited(*, attempt: Any, xp: int, known: Mapping[str, Any] | None = None) -> None:
    credited = Credited(attempt=attempt, xp=xp, known=known or {})
    for receiver in _RECEIVERS:
        receiver(credited)


# ---------------------------------------------------------------- recorded

# What changes an attempt's figures: its submit, its score arriving (a Report scored by a job),
# a re-score. Receivers that keep summaries of the attempt rows (apps.analytics) register here;
# they run inside the change's transaction, after the row is saved: one statement each.
RecordedReceiver = Callable[[Any], None]
_RECORDED: list[RecordedReceiver] = []


def on_attempt_recorded(receiver: RecordedReceiver) -> None:
    if receiver not in _RECORDED:
        _RECORDED.append(receiver)


def attempt_recorded(*, attempt: Any) -> None:
    for receiver in _RECORDED:
        receiver(attempt)
