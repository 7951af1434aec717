"""The one attempt lifecycle: deliver a case, take an answer, decide when its score may be shown
and credited. Localize and Report call these; their own services only score and explain.

Rules written here once:
- one submission key type (a UUID, ``keys``) and one race strategy: the player's row is locked
  for the submit, attempt numbers are counted under that lock, and a replayed key (also two
  requests racing with it) returns the first attempt;
- the clock is the server's: from the delivery to the submit;
- practice shows the answer at once (the case is *revealed*); an assessment shows nothing that
  depends on a score until the player answered every case in every exercise, or the educator
  closes it; one attempt per case per exercise in an assessment;
- an attempt at a case whose answer was shown before, in either exercise, is after the reveal;
- XP is credited once the score may be shown (``credit``; the release below credits what an
  assessment held back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from apps.cases.models import Case, CaseSet, CaseSetMode, PracticeMode
from apps.core.compiled import compiled_values_after
from apps.core.exceptions import ApplicationError
from apps.inference.services import inference_jobs_unseal
from apps.progress.selectors import replay_day_start, replay_xp_today_subquery

from .credit import attempt_credit
from .hooks import (
    attempt_recorded,
    credit_fact_args,
    credit_fact_expressions,
    credit_facts_known,
)
from .keys import idempotency_key_parse
from .locks import player_lock_statement
from .models import AssessmentRelease, Attempt, CaseReveal, Delivery
from .registry import exercise, exercises
from .selectors import is_assessment, open_delivery_and_revealed, open_delivery_of

A = TypeVar("A", bound=Attempt)
P = TypeVar("P")


# ---------------------------------------------------------------- delivery


def practice_mode(case_set: CaseSet | None) -> str:
    """The mode an attempt in this set is played in: the set's in practice, active otherwise."""
    if case_set is None or is_assessment(case_set):
        return PracticeMode.ACTIVE
    return case_set.practice_mode


def delivery_open(*, user: Any, exercise: str, case: Case, case_set: CaseSet | None) -> Delivery:
    """The player's open delivery of ``case`` (a reload keeps its clock and key), or a new one."""
    existing = open_delivery_of(user=user, exercise=exercise, case=case)
    return _delivery_open(user, exercise, case, case_set, existing)


def delivery_open_revealed(
    *, user: Any, exercise: str, case: Case, case_set: CaseSet | None
) -> tuple[Delivery, bool]:
    """``delivery_open``, and whether the case's answer was shown to the player before this call
    (read with the open delivery in one statement)."""
    existing, revealed = open_delivery_and_revealed(user=user, exercise=exercise, case=case)
    return _delivery_open(user, exercise, case, case_set, existing), revealed


def _delivery_open(
    user: Any, exercise: str, case: Case, case_set: CaseSet | None, existing: Delivery | None
) -> Delivery:
    """``existing`` (the open delivery read by the caller), or a new one. In a guided set the
    worked example (the answer) is shown with the case, so the case is revealed here: the
    attempt that follows earns no accuracy credit."""
    if practice_mode(case_set) == PracticeMode.GUIDED:
        _reveal([(user.pk, case.pk)], exercise, timezone.now())
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Delivery.objects.create(
                user=user,
                exercise=exercise,
                case=case,
                case_set=case_set,
                delivered_at=timezone.now(),
            )
    except IntegrityError:  # two tabs opened the case at once: both get the first delivery
        return Delivery.objects.get(user=user, exercise=exercise, case=case, closed_at__isnull=True)


# ---------------------------------------------------------------- submit


@dataclass(frozen=True)
class AttemptStart:
    """What the lifecycle decided about an attempt before the exercise stores it."""

    attempt_no: int
    post_reveal: bool
    delivered_at: datetime | None
    submitted_at: datetime
    assessment: bool  # in an assessment still open for this player: nothing may be shown yet
    replay_xp_today: int = 0  # read under the lock with the rest (``xp.xp_for``'s daily cap)
    mode: str = PracticeMode.ACTIVE  # the set's practice mode (an assessment: active)
    hints_used: int = 0  # taken on the open delivery (``hints``), read under the lock
    # The credit receivers' facts (``hooks.Facts``), read with the rest: for ``attempt_credited``.
    known: Mapping[str, Any] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        taken = (
            (self.submitted_at - self.delivered_at).total_seconds() if self.delivered_at else None
        )
        return {
            "attempt_no": self.attempt_no,
            "post_reveal": self.post_reveal,
            "delivered_at": self.delivered_at,
            "submitted_at": self.submitted_at,
            "time_taken_s": taken,
            "mode": self.mode,
            "hints_used": self.hints_used,
        }

    @property
    def visible(self) -> bool:
        return not self.assessment


def attempt_existing(*, model: type[A], user: Any, key: Any, case: Case) -> A | None:
    attempt = model.objects.filter(user=user, idempotency_key=key).first()
    if attempt is not None and attempt.case_id != case.pk:
        raise ApplicationError(
            "This submission key belongs to another case; reload the page.",
            field="idempotency_key",
        )
    return attempt


def attempt_submit(
    *,
    model: type[A],
    user: Any,
    case: Case,
    case_set: CaseSet | None,
    idempotency_key: Any,
    prepare: Callable[[], P],
    store: Callable[[AttemptStart, P], A],
) -> tuple[A, bool]:
    """Run one submission through the lifecycle; returns ``(attempt, created)``.

    ``prepare`` parses (and where it is cheap, scores) the answer before the transaction, so the
    lock stays short; ``store`` creates the exercise's attempt row from ``start.fields()`` (and its
    own rows: marks, jobs) inside the submit transaction, and calls ``credit.attempt_credit``. A replayed
    key returns the attempt it created, whatever the replay carries; the caller has checked that
    the player may play ``case`` in ``case_set``.
    """
    key = idempotency_key_parse(idempotency_key)
    kind = model.EXERCISE
    # Whether the key was used is read once, under the lock (``_start``): a replay costs the lock,
    # a first submit (nearly all of them) saves a look-up. A refused answer is only refused once
    # that read says it is not a replay, which returns its attempt whatever it carries.
    refused: ApplicationError | None = None
    prepared: Any = None
    try:
        prepared = prepare()
    except ApplicationError as error:
        refused = error
    try:
        with transaction.atomic():
            start, answered_here, replayed = _start(model, user, case, case_set, key)
            if replayed:  # the key's attempt, committed before or while this request waited
                return attempt_existing(model=model, user=user, key=key, case=case), False
            if refused is not None:
                raise refused
            if answered_here:
                raise ApplicationError("You have already answered this case in this assessment.")
            attempt = store(start, prepared)
            _submitted(kind, attempt, start, case_set)
            return attempt, True
    except IntegrityError:
        # A concurrent request with the same key committed first.
        existing = attempt_existing(model=model, user=user, key=key, case=case)
        if existing is None:
            raise
        return existing, False


def _start(
    model: type[Attempt], user: Any, case: Case, case_set: CaseSet | None, key: Any
) -> tuple[AttemptStart, bool, bool]:
    """Lock the player (one submit at a time per player: numbers stay contiguous and the
    assessment rule cannot be raced by two tabs), then read in one statement the last attempt
    number, the reveal, the open delivery's clock and, in an assessment, whether this case has an
    answer and whether the set was released.

    Whether the key was used meanwhile is read here too, under the lock, and never found out by
    inserting: an insert that meets a committed key row another transaction is updating (its
    score hook) waits for that transaction, which may be waiting for this player's lock."""
    assessment = is_assessment(case_set)
    # The lock is its own statement: a read in the locking statement would see the snapshot taken
    # before the wait, missing the attempt the other request just committed. Both go to the
    # database in one round trip (compiled_values_after), as two statements.
    args: dict[str, Any] = {
        "user_id": user.pk,
        "case_id": case.pk,
        "key": key,
        "since": replay_day_start(),
    }
    if assessment:
        args["case_set_id"] = case_set.pk  # type: ignore[union-attr]
    fact_args = credit_fact_args(user)
    (row,) = compiled_values_after(
        player_lock_statement(user=user),
        ("exercises._start", model._meta.label, assessment, tuple(fact_args)),
        lambda **fresh: _player_state(model, **fresh),
        {**args, **fact_args},
    )
    if assessment and row["released"] and not row["replayed"]:
        raise ApplicationError("This assessment is closed: its results are on the summary page.")
    start = AttemptStart(
        mode=practice_mode(case_set),
        attempt_no=(row["last_no"] or 0) + 1,
        post_reveal=bool(row["revealed"]),
        delivered_at=row["delivered"],
        submitted_at=timezone.now(),
        assessment=assessment,
        replay_xp_today=int(row["replay_xp"] or 0),
        hints_used=int(row["hints"] or 0),
        known=credit_facts_known(row, fact_args),
    )
    return start, bool(row.get("in_set")), bool(row["replayed"])


def _player_state(
    model: type[Attempt],
    *,
    user_id: int,
    case_id: int,
    key: Any,
    since: datetime,
    case_set_id: int | None = None,
    **fact_args: Any,
) -> Any:
    """``_start``'s one read of the player's state, as a queryset (its SQL is compiled once per
    process and shape): in an assessment (``case_set_id``) also ``in_set`` and ``released``; and
    the credit receivers' facts (``hooks.Facts``), which take ``fact_args``."""
    kind = model.EXERCISE
    mine = model.objects.filter(user=OuterRef("pk"), case_id=case_id).order_by()
    open_delivery = Delivery.objects.filter(
        user=OuterRef("pk"), exercise=kind, case_id=case_id, closed_at__isnull=True
    )
    annotations: dict[str, Any] = {
        "last_no": Subquery(mine.order_by("-attempt_no").values("attempt_no")[:1]),
        "replayed": Exists(
            model.objects.filter(user=OuterRef("pk"), idempotency_key=key).order_by()
        ),
        "revealed": Exists(CaseReveal.objects.filter(user=OuterRef("pk"), case_id=case_id)),
        "replay_xp": replay_xp_today_subquery(user=OuterRef("pk"), since=since),
        "delivered": Subquery(open_delivery.values("delivered_at")[:1]),
        # The hint service takes the same lock, so no hint is taken between this read and the
        # delivery's close.
        "hints": Subquery(open_delivery.values("hints_used")[:1]),
    }
    if case_set_id is not None:
        annotations["in_set"] = Exists(mine.filter(case_set_id=case_set_id))
        annotations["released"] = Exists(
            AssessmentRelease.objects.filter(case_set_id=case_set_id, user__isnull=True)
        ) | Exists(AssessmentRelease.objects.filter(case_set_id=case_set_id, user=OuterRef("pk")))
    annotations.update(credit_fact_expressions(OuterRef("pk"), case_id, fact_args))
    users = get_user_model().objects.filter(pk=user_id)
    return users.annotate(**annotations).values(*annotations)


def _submitted(kind: str, attempt: Attempt, start: AttemptStart, case_set: CaseSet | None) -> None:
    attempt_recorded(attempt=attempt)
    close = start.delivered_at is not None  # the state read found the open delivery
    reveal = start.visible and not start.post_reveal  # practice shows the answer now
    if close and reveal and connection.vendor == "postgresql":
        _close_and_reveal(attempt.user_id, kind, attempt.case_id, start.submitted_at)
    else:
        if close:
            Delivery.objects.filter(
                user=attempt.user_id, exercise=kind, case=attempt.case_id, closed_at__isnull=True
            ).update(closed_at=start.submitted_at)
        if reveal:
            _reveal([(attempt.user_id, attempt.case_id)], kind, start.submitted_at)
    if (
        not start.visible
        and case_set is not None
        and assessment_finished(user=attempt.user, case_set=case_set)
    ):
        _release(case_set=case_set, user=attempt.user)


_CLOSE_AND_REVEAL = """
WITH closed AS (
    UPDATE {delivery} SET closed_at = %s
    WHERE user_id = %s AND exercise = %s AND case_id = %s AND closed_at IS NULL
)
INSERT INTO {reveal} (user_id, case_id, exercise, revealed_at) VALUES (%s, %s, %s, %s)
ON CONFLICT DO NOTHING
"""


def _close_and_reveal(user_id: int, kind: str, case_id: int, when: datetime) -> None:
    """The delivery's close and the reveal (a first practice answer: nearly every submit) in one
    statement: PostgreSQL runs a data-modifying WITH to completion whether or not it is read.
    The two rows are those ``_submitted``'s separate close and ``_reveal`` write."""
    sql = _CLOSE_AND_REVEAL.format(
        delivery=connection.ops.quote_name(Delivery._meta.db_table),
        reveal=connection.ops.quote_name(CaseReveal._meta.db_table),
    )
    at = connection.ops.adapt_datetimefield_value(when)
    with connection.cursor() as cursor:
        kind = str(kind)
        cursor.execute(sql, [at, user_id, kind, case_id, user_id, case_id, kind, at])


def _reveal(pairs: list[tuple[int, int]], kind: str, when: datetime) -> None:
    CaseReveal.objects.bulk_create(
        [CaseReveal(user_id=u, case_id=c, exercise=kind, revealed_at=when) for u, c in pairs],
        ignore_conflicts=True,
    )


# ---------------------------------------------------------------- assessments


def assessment_finished(*, user: Any, case_set: CaseSet) -> bool:
    """The player answered every case of the set in every exercise it can be played in."""
    for spec in exercises():
        ids = spec.case_ids_in_set(case_set)
        if not ids:
            continue
        answered = (
            spec.attempt_model.objects.filter(user=user, case_set=case_set, case_id__in=ids)
            .values("case_id")
            .distinct()
            .count()
        )
        if answered < len(ids):
            return False
    return True


def assessment_close(*, actor: Any, case_set: CaseSet) -> AssessmentRelease:
    """The educator ends an assessment: every player's results are released and credited, and
    no further answer is taken. Closing twice returns the first close."""
    if case_set.mode != CaseSetMode.ASSESSMENT:
        raise ApplicationError("Only an assessment can be closed.")
    with transaction.atomic():
        existing = AssessmentRelease.objects.filter(case_set=case_set, user__isnull=True).first()
        if existing is not None:
            return existing
        return _release(case_set=case_set, user=None, closed_by=actor)


def _release(*, case_set: CaseSet, user: Any, closed_by: Any = None) -> AssessmentRelease:
    """Show and credit what was held back: to one player, or (``user=None``) to everybody."""
    now = timezone.now()
    release = AssessmentRelease.objects.create(
        case_set=case_set, user=user, released_at=now, closed_by=closed_by
    )
    for spec in exercises():
        attempts = spec.attempt_model.objects.filter(case_set=case_set).select_related(
            "user", "case", "case_set"
        )
        if user is not None:
            attempts = attempts.filter(user=user)
        rows = list(attempts.order_by("submitted_at", "pk"))
        _reveal([(a.user_id, a.case_id) for a in rows], spec.kind, now)
        for attempt in rows:
            if attempt.xp is None and attempt_credit(attempt=attempt, visible=True) is not None:
                spec.attempt_model.objects.filter(pk=attempt.pk).update(xp=attempt.xp)
        job_ids = [getattr(a, f"{field}_id") for a in rows for field in spec.job_fields]
        inference_jobs_unseal(job_ids=[pk for pk in job_ids if pk is not None])
    return release


def exercise_model(kind: str) -> type[Attempt]:
    return exercise(kind).attempt_model
