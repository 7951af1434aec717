"""Hints on a case: where to look (``hint_text``), one at a time, each costing XP (``xp.HINT_XP``).

Rules written here once, for both exercises:
- offered on a first reading in an active or rapid-fire practice set; not in a guided set (its
  worked example shows the answer), not in an assessment (hints would make its scores
  incomparable), and not once the case's answer was shown to the player (after the submit, or in
  the other exercise): nothing is left to hint at;
- the count lives on the open delivery; the submit copies it onto the attempt under the same
  player lock (``locks.player_lock``), so a hint is never taken between the submit's read and
  the delivery's close;
- the client names the hint it wants (``number``, from 1): asking again for a hint already taken
  returns it and costs nothing, so a double click or a retried request burns one hint only.

Who may play the case is checked by the exercise's view before calling these, as for a submit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from apps.cases.models import Case, CaseSet, PracticeMode
from apps.cases.selectors import case_answers
from apps.cases.view_names import named_views, view_projection
from apps.core.exceptions import ApplicationError

from .hint_text import HINTS_PER_CASE, HintFinding, HintView, hint_ladder
from .locks import player_lock
from .models import Delivery
from .selectors import case_revealed, is_assessment
from .services import delivery_open, practice_mode
from .xp import HINT_XP, hint_xp_cost

NOT_IN_ASSESSMENT = "Hints are not offered in an assessment."
NOT_IN_GUIDED = "A guided case shows its worked example: hints are not offered."
NOT_AFTER_REVEAL = (
    "This case's answer was already shown to you: hints are for a first reading only."
)


@dataclass(frozen=True)
class Hints:
    """The hints a player has taken on a delivery, and what asking for the next one costs."""

    texts: tuple[str, ...]
    limit: int = HINTS_PER_CASE
    cost_each: int = HINT_XP

    @property
    def used(self) -> int:
        return len(self.texts)

    @property
    def more(self) -> bool:
        return self.used < self.limit

    @property
    def next_number(self) -> int:
        return self.used + 1

    @property
    def xp_cost(self) -> int:
        return hint_xp_cost(self.used)


def hint_refusal(*, case_set: CaseSet | None) -> str | None:
    """Why a set offers no hints (None: it offers them, on a case not yet revealed)."""
    if is_assessment(case_set):
        return NOT_IN_ASSESSMENT
    if practice_mode(case_set) == PracticeMode.GUIDED:
        return NOT_IN_GUIDED
    return None


def hints_on_page(
    *, case: Case, case_set: CaseSet, delivery: Delivery | None, revealed: bool
) -> Hints | None:
    """The hint panel of a case page: None where hints are not offered (``revealed``: the case's
    answer was shown to the player, as the page already read); otherwise the hints already taken
    on this delivery (a reload shows them again). The truth is read only once a hint was taken."""
    if revealed or hint_refusal(case_set=case_set):
        return None
    used = min(delivery.hints_used, HINTS_PER_CASE) if delivery is not None else 0
    return Hints(texts=hint_texts(case=case)[:used] if used else ())


def hint_number_parse(value: Any) -> int:
    """The hint the client asks for, from 1 (an ApplicationError naming the field otherwise)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise ApplicationError(
            "Say which hint you want (number, from 1); reload the page.", field="number"
        )
    return number


def hint_take(*, user: Any, exercise: str, case: Case, case_set: CaseSet, number: Any) -> Hints:
    """Take hint ``number`` on the player's open delivery of ``case`` (opened if need be) and
    return every hint taken so far. Asking for one already taken returns the same, at no cost;
    skipping one, going past ``HINTS_PER_CASE``, or any refusal above is an ApplicationError."""
    wanted = hint_number_parse(number)
    refusal = hint_refusal(case_set=case_set)
    if refusal:
        raise ApplicationError(refusal)
    if wanted > HINTS_PER_CASE:
        raise ApplicationError(
            f"There are at most {HINTS_PER_CASE} hints for a case.", field="number"
        )
    with transaction.atomic():
        player_lock(user=user)  # the submit holds it too: see the module docstring
        if case_revealed(user=user, case_id=case.pk):
            raise ApplicationError(NOT_AFTER_REVEAL)
        delivery = delivery_open(user=user, exercise=exercise, case=case, case_set=case_set)
        used = delivery.hints_used
        if wanted > used + 1:
            raise ApplicationError(
                f"Hint {used + 1} comes first; reload the page to see the hints you have.",
                field="number",
            )
        if wanted == used + 1:
            Delivery.objects.filter(pk=delivery.pk).update(hints_used=wanted)
            used = wanted
    return Hints(texts=hint_texts(case=case)[:used])


def hint_texts(*, case: Case) -> tuple[str, ...]:
    """The case's hint ladder, from its ground truth (findings and boxes, not the report)."""
    answers = case_answers(case=case, with_report=False)
    findings = [
        HintFinding(label=f.label, regions=f.regions, region_views=f.region_views)
        for f in answers.findings
    ]
    images = list(case.images.order_by("position"))
    views = [
        HintView(
            image_id=image.pk,
            projection=view_projection(
                projection=image.projection, count=len(images), case_view=case.view
            ),
            name=name,
        )
        for image, name in named_views(images, case)
    ]
    return hint_ladder(findings=findings, views=views)
