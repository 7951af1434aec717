"""Writes of the Localize exercise: hand out a case, take an answer, score it, ask for words."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from apps.cases.marks import NORMAL_CHOICE, marks_parse
from apps.cases.models import Case, CaseSet
from apps.cases.selectors import CaseAnswers, case_view_ids
from apps.exercises.credit import attempt_credit_record, attempt_xp
from apps.exercises.keys import idempotency_key_parse
from apps.exercises.models import Delivery, ExerciseKind
from apps.exercises.services import (
    AttemptStart,
    attempt_submit,
    delivery_open,
    delivery_open_revealed,
)
from apps.inference.services import job_id_new
from ml.boxes import Marks, score_localize

from .explanations import attempt_explain_requests, localization_attempt_explanations_dispatch
from .models import LocalizationAttempt, Mark
from .reference import scoring_reference

# Stored beside every score: bump it when ml.boxes changes what a score means.
SCORER_VERSION = "ml.boxes/1"
# Generous for a chest film (a handful of findings), small enough that nobody can make the
# synchronous scorer or the explanation job do unbounded work.
MAX_BOXES = 60
MAX_SELECTED = 40


@dataclass(frozen=True)
class SubmitOutcome:
    attempt: LocalizationAttempt
    created: bool  # False when the idempotency key was seen before (a replay)


# ---------------------------------------------------------------- delivery


def localization_delivery_open(*, user: Any, case: Case, case_set: CaseSet | None) -> Delivery:
    """The player's open Localize delivery of ``case`` (the lifecycle's clock and key)."""
    return delivery_open(user=user, exercise=ExerciseKind.LOCALIZE, case=case, case_set=case_set)


def localization_delivery_open_revealed(
    *, user: Any, case: Case, case_set: CaseSet | None
) -> tuple[Delivery, bool]:
    """The open delivery, and whether the case was revealed to the player before (one read)."""
    return delivery_open_revealed(
        user=user, exercise=ExerciseKind.LOCALIZE, case=case, case_set=case_set
    )


# ---------------------------------------------------------------- parsing


def localization_marks_parse(
    *, marks_json: Any, selected: Iterable[Any] | None, views: Sequence[int] = ()
) -> Marks:
    """An answer as the form or the API sends it, read by the one marks parser; ``views`` are
    the case's view ids (a box without one lies on the first)."""
    return marks_parse(
        marks_json,
        selected=selected,
        max_boxes=MAX_BOXES,
        max_selected=MAX_SELECTED,
        views=views,
    )


# ---------------------------------------------------------------- submit


def _boxes_json(marks: Marks) -> list[dict[str, Any]]:
    return [
        {
            "label": mark.label,
            "box": list(mark.box),
            "confidence": mark.confidence,
            "view": mark.view,
        }
        for mark in marks.boxes
    ]


def _mark_rows(attempt: LocalizationAttempt, marks: Marks) -> list[Mark]:
    rows = [
        Mark(
            attempt=attempt,
            index=j,
            label=mark.label,
            image_id=mark.view,
            x1=mark.box[0],
            y1=mark.box[1],
            x2=mark.box[2],
            y2=mark.box[3],
            confidence=mark.confidence,
        )
        for j, mark in enumerate(marks.boxes)
    ]
    ticks = list(marks.selected) + ([NORMAL_CHOICE] if marks.normal else [])
    rows += [
        Mark(attempt=attempt, index=i, label=label, selected=True) for i, label in enumerate(ticks)
    ]
    return rows


def localization_attempt_submit(
    *,
    user: Any,
    case: Case,
    case_set: CaseSet | None,
    marks_json: Any,
    selected: Iterable[Any] | None,
    idempotency_key: Any,
    answers: CaseAnswers | None = None,
) -> SubmitOutcome:
    """Score an answer synchronously and store it with its marks, XP and explanation job, through
    the shared lifecycle (``apps.exercises.services.attempt_submit``: key, lock, number, clock,
    reveal, assessment). The caller has checked that the player may play ``case`` in
    ``case_set``; ``answers`` are the case's, when it read them with that check."""
    key = idempotency_key_parse(idempotency_key)

    def prepare() -> tuple[Marks, Any, dict[str, Any]]:
        marks = localization_marks_parse(
            marks_json=marks_json, selected=selected, views=case_view_ids(case=case)
        )
        threshold = case_set.iou_threshold if case_set is not None else None
        scoring = scoring_reference(case=case, iou_threshold=threshold, answers=answers)
        # Scoring is pure and cheap; doing it before the transaction keeps the lock short.
        return marks, scoring, score_localize(scoring.reference, marks)

    def store(start: AttemptStart, prepared: tuple[Marks, Any, dict[str, Any]]) -> Any:
        marks, scoring, result = prepared
        # Everything the row holds is known before it is written (its XP, its job's id), so it
        # is written once: the ledger row and the job follow, in the same transaction.
        attempt = LocalizationAttempt(
            user=user,
            case=case,
            case_set=case_set,
            idempotency_key=key,
            **start.fields(),
            blank=answer_is_blank(marks),
            score=result["score"],
            result=json.loads(json.dumps(result)),  # tuples to lists: what the JSON column holds
            reference=scoring.findings,
            scorer_version=SCORER_VERSION,
            iou_threshold=result["iou_threshold"],
        )
        attempt.mark_rows = _mark_rows(attempt, marks)  # the feedback reads them from memory
        boxes = _boxes_json(marks)
        planned = attempt_explain_requests(attempt=attempt, boxes=boxes)
        job_id = job_id_new() if planned[0] else None
        attempt.explain_job_id = job_id
        attempt.xp = attempt_xp(
            attempt=attempt, visible=start.visible, replay_xp_today=start.replay_xp_today
        )
        attempt.save(force_insert=True)
        Mark.objects.bulk_create(attempt.mark_rows)
        if attempt.xp is not None:
            attempt_credit_record(attempt=attempt, known=start.known)
        if job_id is not None:
            attempt.explain_job = localization_attempt_explanations_dispatch(
                attempt=attempt,
                boxes=boxes,
                sealed=not start.visible,
                planned=planned,
                job_id=job_id,
            )
        else:
            attempt.explain_job = None
        return attempt

    attempt, created = attempt_submit(
        model=LocalizationAttempt,
        user=user,
        case=case,
        case_set=case_set,
        idempotency_key=key,
        prepare=prepare,
        store=store,
    )
    return SubmitOutcome(attempt, created)


def answer_is_blank(marks: Marks) -> bool:
    """No box, no tick and no "normal": the answer says nothing (and earns no XP, even on a
    normal case, where it scores 1)."""
    return not marks.boxes and not marks.selected and not marks.normal
