"""Hints (apps.exercises.hints): one at a time, counted on the delivery and on the attempt,
costing XP through the one XP rule, refused where they make no sense."""

from __future__ import annotations

import pytest

from apps.cases.services.sets import case_set_update
from apps.core.exceptions import ApplicationError
from apps.exercises.hint_text import HINTS_PER_CASE, SYSTEM_AREA_HINTS, SYSTEM_HINTS
from apps.exercises.hints import (
    NOT_AFTER_REVEAL,
    NOT_IN_ASSESSMENT,
    NOT_IN_GUIDED,
    hint_take,
)
from apps.exercises.models import Delivery
from apps.exercises.xp import HINT_XP, xp_for
from apps.progress.models import ScoreEvent

pytestmark = pytest.mark.django_db


def _take(user, case, case_set, number, exercise="localize"):
    return hint_take(user=user, exercise=exercise, case=case, case_set=case_set, number=number)


def _open(user, case, exercise="localize"):
    return Delivery.objects.get(user=user, case=case, exercise=exercise, closed_at__isnull=True)


def test_hints_come_one_at_a_time_from_the_cases_truth_and_are_counted(resident, both):
    first = _take(resident, both.case, both.practice, 1)
    # The fixture case's one finding is a ticked effusion: the pleura, then where to look.
    assert first.texts == (SYSTEM_HINTS["pleura"],) and first.used == 1 and first.more
    assert _open(resident, both.case).hints_used == 1
    second = _take(resident, both.case, both.practice, 2)
    assert second.texts == (SYSTEM_HINTS["pleura"], SYSTEM_AREA_HINTS["pleura"])
    assert not second.more and second.xp_cost == 2 * HINT_XP
    assert all("effusion" not in text.casefold() for text in second.texts)


def test_asking_again_for_a_hint_taken_costs_nothing(resident, both):
    _take(resident, both.case, both.practice, 1)
    again = _take(resident, both.case, both.practice, "1")  # a double click, a retried request
    assert again.used == 1 and _open(resident, both.case).hints_used == 1


@pytest.mark.parametrize("number", [0, -1, "two", None, HINTS_PER_CASE + 1])
def test_a_bad_or_out_of_range_number_is_refused(resident, both, number):
    with pytest.raises(ApplicationError):
        _take(resident, both.case, both.practice, number)


def test_a_hint_cannot_be_skipped(resident, both):
    with pytest.raises(ApplicationError, match="Hint 1 comes first"):
        _take(resident, both.case, both.practice, 2)
    assert Delivery.objects.filter(user=resident, hints_used__gt=0).count() == 0


def test_the_attempt_records_its_hints_and_earns_less_xp(resident, both, localize):
    _take(resident, both.case, both.practice, 1)
    _take(resident, both.case, both.practice, 2)
    attempt = localize(resident, both.case, both.practice)
    full = xp_for(
        score=attempt.score,
        blank=False,
        post_reveal=False,
        difficulty=both.case.difficulty,
        replay_xp_today=0,
    )
    assert attempt.hints_used == 2 and attempt.xp == max(0, full - 2 * HINT_XP)
    assert ScoreEvent.objects.get(attempt_ref=attempt.ref).xp == attempt.xp
    # The delivery is closed with its count; the next delivery of the case starts at none.
    assert Delivery.objects.get(user=resident, case=both.case).hints_used == 2


def test_a_report_attempt_records_its_hints_and_earns_less_xp(resident, both, report):
    _take(resident, both.case, both.practice, 1, exercise="report")
    attempt = report(resident, both.case, both.practice)
    full = xp_for(
        score=attempt.score,
        blank=False,
        post_reveal=False,
        difficulty=both.case.difficulty,
        replay_xp_today=0,
    )
    assert attempt.hints_used == 1 and attempt.xp == max(0, full - HINT_XP)


def test_hints_in_one_exercise_do_not_cost_in_the_other(resident, both, localize):
    _take(resident, both.case, both.practice, 1, exercise="report")
    assert localize(resident, both.case, both.practice).hints_used == 0


def test_no_hints_after_the_submit_or_once_the_answer_was_shown(resident, both, localize):
    localize(resident, both.case, both.practice)
    with pytest.raises(ApplicationError, match=NOT_AFTER_REVEAL):
        _take(resident, both.case, both.practice, 1)
    # Revealed in Localize: the Report exercise offers no hints on the case either.
    with pytest.raises(ApplicationError, match=NOT_AFTER_REVEAL):
        _take(resident, both.case, both.practice, 1, exercise="report")


def test_no_hints_in_an_assessment(resident, both):
    with pytest.raises(ApplicationError, match=NOT_IN_ASSESSMENT):
        _take(resident, both.other, both.assessment, 1)
    assert not Delivery.objects.filter(user=resident).exists()


def test_no_hints_in_a_guided_set(resident, educator, both):
    case_set_update(actor=educator, case_set=both.practice, practice_mode="guided")
    both.practice.refresh_from_db()
    with pytest.raises(ApplicationError, match=NOT_IN_GUIDED):
        _take(resident, both.case, both.practice, 1)


def test_rapid_fire_offers_hints(resident, educator, both):
    case_set_update(actor=educator, case_set=both.practice, practice_mode="rapid", rapid_seconds=20)
    both.practice.refresh_from_db()
    assert _take(resident, both.case, both.practice, 1).used == 1


def test_a_single_unnamed_view_is_read_as_the_cases_view(educator):
    """The hint reads a box on the film the viewer names: a study of one unnamed view is the
    case's View fact, so a lateral film's box is placed on the lateral view."""
    from apps.cases.models import Case
    from apps.exercises.hints import hint_texts
    from tests.cases.factories import make_case

    case = make_case(educator)
    assert "lateral" not in hint_texts(case=case)[1]
    Case.objects.filter(pk=case.pk).update(view="LL")
    case.refresh_from_db()
    assert hint_texts(case=case)[1].endswith("on the lateral view.")
