"""The XP rules (apps.exercises.xp), each through the one function and through both exercises."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from apps.exercises.levels import level_rules
from apps.exercises.xp import (
    ACCURACY_XP,
    ANSWER_XP,
    DIFFICULTY_WEIGHT,
    HINT_XP,
    REPLAY_XP,
    REPLAY_XP_DAILY_CAP,
    xp_for,
    xp_rules,
)
from apps.progress.models import ScoreEvent
from apps.progress.streaks import streak_rules

from .conftest import WRONG


def test_blank_answers_earn_nothing_even_when_they_score() -> None:
    assert xp_for(score=1.0, blank=True, post_reveal=False, difficulty=3, replay_xp_today=0) == 0


def test_first_reading_is_accuracy_and_difficulty_weighted() -> None:
    def xp(score: float, difficulty: int) -> int:
        return xp_for(
            score=score, blank=False, post_reveal=False, difficulty=difficulty, replay_xp_today=0
        )

    assert xp(0.0, 1) == ANSWER_XP
    assert xp(1.0, 1) == ANSWER_XP + ACCURACY_XP
    assert xp(-0.5, 1) == xp(0.0, 1)  # a negative clinical score is clamped
    assert xp(1.0, 3) == round(DIFFICULTY_WEIGHT[3] * (ANSWER_XP + ACCURACY_XP)) > xp(1.0, 2)
    assert xp(1.0, 2) > xp(1.0, 1) > xp(0.5, 1)


def test_replays_earn_flat_xp_up_to_a_daily_cap() -> None:
    def xp(today: int) -> int:
        return xp_for(score=1.0, blank=False, post_reveal=True, difficulty=3, replay_xp_today=today)

    assert xp(0) == REPLAY_XP
    assert xp(REPLAY_XP_DAILY_CAP - 2) == 2
    assert xp(REPLAY_XP_DAILY_CAP) == 0


def test_each_hint_costs_its_stated_xp_never_below_zero() -> None:
    def xp(hints: int, *, score: float = 1.0, post_reveal: bool = False) -> int:
        return xp_for(
            score=score,
            blank=False,
            post_reveal=post_reveal,
            difficulty=1,
            replay_xp_today=0,
            hints_used=hints,
        )

    full = ANSWER_XP + ACCURACY_XP
    assert xp(0) == full
    assert xp(1) == full - HINT_XP
    assert xp(2) == full - 2 * HINT_XP
    assert xp(2, score=0.0) == max(0, ANSWER_XP - 2 * HINT_XP) == 0  # never below 0
    assert xp(1, post_reveal=True) == max(0, REPLAY_XP - HINT_XP)
    assert any("hint" in rule and f"{HINT_XP} XP" in rule for rule in xp_rules())


def test_the_rules_are_written_on_the_profile_page(client_for, resident) -> None:
    body = client_for(resident).get(reverse("accounts:profile")).content.decode()
    assert "How XP, levels, streaks and accuracy work" in body
    for rule in xp_rules() + level_rules() + streak_rules():
        assert rule.split(",")[0].replace("'", "&#x27;") in body


pytestmark = pytest.mark.django_db


def test_localize_blank_earns_nothing_but_normal_on_a_normal_case_does(
    resident, educator, cohort, localize
) -> None:
    from tests.localization.conftest import build_case, build_set

    normal = build_case(educator, title="Normal", is_normal=True)
    normal_too = build_case(educator, title="Normal too", is_normal=True)
    practice = build_set(educator, cohort, [normal, normal_too], name="Normals")
    blank = localize(resident, normal, practice, marks={"boxes": []})
    assert blank.score == 1.0 and blank.blank and blank.xp == 0
    ticked = localize(
        resident, normal_too, practice, marks={"boxes": [], "selected": ["No finding"]}
    )
    weight = DIFFICULTY_WEIGHT[normal_too.difficulty]
    assert ticked.score == 1.0 and not ticked.blank
    assert ticked.xp == round(weight * (ANSWER_XP + ACCURACY_XP))


def test_report_blank_earns_nothing(resident, both, report) -> None:
    attempt = report(resident, both.case, both.practice, text="x . y")
    assert attempt.blank and attempt.xp == 0
    assert ScoreEvent.objects.get(attempt_ref=attempt.ref).xp == 0


def test_wrong_answers_earn_the_answer_xp_only(resident, both, localize) -> None:
    attempt = localize(resident, both.case, both.practice, marks=WRONG)
    weight = DIFFICULTY_WEIGHT[both.case.difficulty]
    assert attempt.score == 0.0 and attempt.xp == round(weight * ANSWER_XP)


def test_replays_stop_earning_at_the_daily_cap_in_both_exercises(
    resident, both, localize, report
) -> None:
    localize(resident, both.case, both.practice)
    earned = [localize(resident, both.case, both.practice).xp for _ in range(3)]
    earned += [report(resident, both.case, both.practice).xp for _ in range(4)]
    assert earned == [REPLAY_XP] * (REPLAY_XP_DAILY_CAP // REPLAY_XP) + [0] * (
        7 - REPLAY_XP_DAILY_CAP // REPLAY_XP
    )
    # Yesterday's replays do not count against today's cap.
    ScoreEvent.objects.filter(post_reveal=True).update(
        created_at=ScoreEvent.objects.first().created_at - timedelta(days=1)
    )
    assert localize(resident, both.case, both.practice).xp == REPLAY_XP


def test_difficulty_weights_the_first_reading(resident, educator, both, localize) -> None:
    from apps.cases.models import Case

    Case.objects.filter(pk=both.case.pk).update(difficulty=3)
    both.case.refresh_from_db()
    attempt = localize(resident, both.case, both.practice)
    assert attempt.xp == round(DIFFICULTY_WEIGHT[3] * (ANSWER_XP + ACCURACY_XP))
