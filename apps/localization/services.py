"""Writes of the Localize exercise: hand out a case, take an answer, score it, ask for words."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from apps.cases.marks import NORMAL_CHOICE, marks_parse
from apps.cases.models import Case, CaseSet, CaseSetMode
from apps.core.exceptions import ApplicationError
from apps.progress.services import score_event_record
from ml.boxes import Marks, score_localize

from .explanations import localization_attempt_explanations_dispatch
from .models import CaseDelivery, LocalizationAttempt, Mark
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


def localization_delivery_open(*, user: Any, case: Case, case_set: CaseSet | None) -> CaseDelivery:
    """The player's open delivery of ``case`` (a reload keeps its clock and key), or a new one."""
    existing = CaseDelivery.objects.filter(user=user, case=case, closed_at__isnull=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return CaseDelivery.objects.create(
                user=user, case=case, case_set=case_set, delivered_at=timezone.now()
            )
    except IntegrityError:  # two tabs opened the case at once: both get the first delivery
        return CaseDelivery.objects.get(user=user, case=case, closed_at__isnull=True)


# ---------------------------------------------------------------- parsing


def _key(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise ApplicationError(
            "The form is missing its submission key; reload the page.", field="idempotency_key"
        ) from None


def localization_marks_parse(*, marks_json: Any, selected: Iterable[Any] | None) -> Marks:
    """An answer as the form or the API sends it, read by the one marks parser."""
    return marks_parse(
        marks_json, selected=selected, max_boxes=MAX_BOXES, max_selected=MAX_SELECTED
    )


# ---------------------------------------------------------------- submit


def _existing(user: Any, key: uuid.UUID, case: Case) -> LocalizationAttempt | None:
    attempt = LocalizationAttempt.objects.filter(user=user, idempotency_key=key).first()
    if attempt is not None and attempt.case_id != case.pk:
        raise ApplicationError(
            "This submission key belongs to another case; reload the page.",
            field="idempotency_key",
        )
    return attempt


def _boxes_json(marks: Marks) -> list[dict[str, Any]]:
    return [
        {"label": mark.label, "box": list(mark.box), "confidence": mark.confidence}
        for mark in marks.boxes
    ]


def _mark_rows(attempt: LocalizationAttempt, marks: Marks) -> list[Mark]:
    rows = [
        Mark(
            attempt=attempt,
            index=j,
            label=mark.label,
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
) -> SubmitOutcome:
    """Score an answer synchronously and store it with its marks, XP and explanation job.

    Replaying an idempotency key returns the first attempt, also when the two requests race: the
    second waits for the player lock, its insert hits the unique key, and the committed attempt is
    returned. The caller has checked that the player may play ``case`` in ``case_set``.
    """
    key = _key(idempotency_key)
    existing = _existing(user, key, case)
    if existing is not None:
        return SubmitOutcome(existing, False)
    marks = localization_marks_parse(marks_json=marks_json, selected=selected)
    threshold = case_set.iou_threshold if case_set is not None else None
    scoring = scoring_reference(case=case, iou_threshold=threshold)
    # Scoring is pure and cheap; doing it before the transaction keeps the lock short.
    result = score_localize(scoring.reference, marks)
    try:
        return _store(user, case, case_set, key, marks, scoring, result)
    except IntegrityError:
        # A concurrent request with the same key committed first.
        existing = _existing(user, key, case)
        if existing is None:
            raise
        return SubmitOutcome(existing, False)


def _store(
    user: Any,
    case: Case,
    case_set: CaseSet | None,
    key: uuid.UUID,
    marks: Marks,
    scoring: Any,
    result: dict[str, Any],
) -> SubmitOutcome:
    with transaction.atomic():
        # One submit at a time per player: attempt numbers stay contiguous and the assessment rule
        # below cannot be raced by two tabs. A player submits a few times a minute at most.
        # Only the key is read: the lock is the point, the row is already in hand.
        list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        previous = LocalizationAttempt.objects.filter(user=user, case=case)
        assessment = case_set is not None and case_set.mode == CaseSetMode.ASSESSMENT
        # One read for the attempt number and, in an assessment, whether this set has an answer.
        seen = previous.aggregate(
            last=Max("attempt_no"),
            **({"in_set": Count("pk", filter=Q(case_set=case_set))} if assessment else {}),
        )
        if seen.get("in_set"):
            replay = _existing(user, key, case)  # the same key committed while we waited
            if replay is not None:
                return SubmitOutcome(replay, False)
            raise ApplicationError("You have already answered this case in this assessment.")
        last_no = seen["last"] or 0
        now = timezone.now()
        delivery = (
            CaseDelivery.objects.select_for_update()
            .filter(user=user, case=case, closed_at__isnull=True)
            .first()
        )
        delivered_at = delivery.delivered_at if delivery is not None else None
        attempt = LocalizationAttempt.objects.create(
            user=user,
            case=case,
            case_set=case_set,
            attempt_no=last_no + 1,
            idempotency_key=key,
            delivered_at=delivered_at,
            submitted_at=now,
            time_taken_s=(now - delivered_at).total_seconds() if delivered_at else None,
            score=result["score"],
            result=json.loads(json.dumps(result)),  # tuples to lists: what the JSON column holds
            reference=scoring.findings,
            scorer_version=SCORER_VERSION,
            iou_threshold=result["iou_threshold"],
            post_reveal=last_no > 0,
        )
        rows = Mark.objects.bulk_create(_mark_rows(attempt, marks))
        attempt.mark_rows = rows  # the feedback reads them without asking the database again
        if delivery is not None:
            CaseDelivery.objects.filter(pk=delivery.pk).update(closed_at=now)
        event = score_event_record(
            user=user,
            kind="localize",
            case=case,
            attempt_ref=attempt.ref,
            score=attempt.score,
            case_set=case_set,
            details={**result["counts"], "post_reveal": attempt.post_reveal},
        )
        attempt.xp = event.xp
        attempt.explain_job = localization_attempt_explanations_dispatch(
            attempt=attempt, boxes=_boxes_json(marks)
        )
        attempt.save(update_fields=["xp", "explain_job", "updated_at"])
        return SubmitOutcome(attempt, True)
