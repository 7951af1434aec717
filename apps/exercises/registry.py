"""Which exercises exist: each exercise app registers its attempt model at start-up, so the
lifecycle (a lower layer) can reason about both without importing either."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ExerciseSpec:
    kind: str  # an ExerciseKind value
    attempt_model: Any  # a concrete subclass of apps.exercises.models.Attempt
    # The ids of the set's cases this exercise can be played on (published, and for Report with a
    # reference report): an assessment is finished when every one of them is answered.
    case_ids_in_set: Callable[[Any], list[int]]
    # The attempt's job foreign keys, held back from the player while an assessment is open.
    job_fields: tuple[str, ...] = ()


_EXERCISES: dict[str, ExerciseSpec] = {}


def exercise_register(spec: ExerciseSpec) -> None:
    _EXERCISES[spec.kind] = spec


def exercises() -> list[ExerciseSpec]:
    return [_EXERCISES[kind] for kind in sorted(_EXERCISES)]


def exercise(kind: str) -> ExerciseSpec:
    return _EXERCISES[kind]
