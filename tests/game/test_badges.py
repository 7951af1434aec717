"""Each badge, awarded from the lifecycle's credit hook, once; and the hook stays cheap."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.exercises.hooks import Credited
from apps.exercises.services import assessment_close
from apps.game.badges import BADGES, PNEUMOTHORACES_FOR_BADGE
from apps.game.models import BadgeAward, FindingResult, ReviewItem
from apps.game.services import game_attempt_credited
from apps.localization.models import LocalizationAttempt
from apps.progress.models import ScoreEvent
from apps.progress.services import score_event_record
from tests.exercises.conftest import RIGHT, WRONG
from tests.localization.conftest import build_set
from tests.reporting.conftest import fake_result, make_case

from .conftest import *  # noqa: F403

pytestmark = pytest.mark.django_db


def held(user: Any) -> set[str]:
    return set(BadgeAward.objects.filter(user=user).values_list("badge", flat=True))


def test_first_perfect_case_once_and_never_from_a_replay(
    resident, make_user, cohort, both, localize
):
    localize(resident, both.case, both.practice, marks=WRONG)
    assert "first_perfect" not in held(resident)
    localize(resident, both.case, both.practice, marks=RIGHT)  # a replay: after the reveal
    assert "first_perfect" not in held(resident)
    localize(resident, both.other, both.assessment, marks=RIGHT)  # held back: no credit yet
    assert "first_perfect" not in held(resident)
    third = both.practice.items.exclude(case=both.case).get().case
    localize(resident, third, both.practice, marks=RIGHT)
    assert "first_perfect" in held(resident)
    localize(resident, third, both.practice, marks=RIGHT)
    assert BadgeAward.objects.filter(user=resident, badge="first_perfect").count() == 1


def _pneumothorax_attempt(user: Any, case: Any, pk: int, *, found: bool) -> LocalizationAttempt:
    """A credited first reading whose stored result hit (or missed) a pneumothorax."""
    key = "hits" if found else "misses"
    return LocalizationAttempt(
        pk=pk,
        user=user,
        case=case,
        attempt_no=1,
        idempotency_key=uuid.uuid4(),
        submitted_at=timezone.now(),
        score=1.0 if found else 0.0,
        post_reveal=False,
        blank=False,
        result={key: [{"label": "Pneumothorax", "region": 0}]},
        iou_threshold=0.3,
    )


def test_ten_pneumothoraces_found(resident, both):
    for n in range(PNEUMOTHORACES_FOR_BADGE - 1):
        game_attempt_credited(
            Credited(_pneumothorax_attempt(resident, both.case, 9000 + n, found=True), 50)
        )
    game_attempt_credited(
        Credited(_pneumothorax_attempt(resident, both.case, 9100, found=False), 5)
    )
    assert "pneumothorax_10" not in held(resident)  # a miss is not a find
    last = _pneumothorax_attempt(resident, both.case, 9200, found=True)
    game_attempt_credited(Credited(last, 50))
    assert "pneumothorax_10" in held(resident)
    game_attempt_credited(Credited(last, 50))  # recorded twice: nothing new
    assert FindingResult.objects.filter(user=resident, outcome="found").count() == 10


def test_a_weeks_streak(resident, both, localize):
    now = timezone.now()
    for day in range(1, 7):
        score_event_record(
            user=resident,
            kind="localize",
            case=both.case,
            attempt_ref=f"old:{day}",
            score=1.0,
            xp=10,
            post_reveal=False,
        )
        ScoreEvent.objects.filter(attempt_ref=f"old:{day}").update(
            created_at=now - timedelta(days=day)
        )
    assert "week_streak" not in held(resident)
    localize(resident, both.case, both.practice)  # the seventh day
    assert "week_streak" in held(resident)


def _report(user: Any, case: Any, case_set: Any, coverage: float) -> Any:
    from apps.inference.services import inference_job_finish
    from apps.reporting.services import report_attempt_submit

    attempt, _ = report_attempt_submit(
        user=user,
        case=case,
        case_set=case_set,
        text="Lungs clear. No effusion.",
        idempotency_key=uuid.uuid4(),
    )
    result = fake_result()
    result["style"]["coverage"] = {"score": coverage, "weight": 0.4, "reason": "."}
    inference_job_finish(job_id=attempt.job_id, status="done", result=result, error="")
    return attempt


def test_full_coverage_report(resident, both):
    _report(resident, both.case, both.practice, coverage=0.75)
    assert "full_coverage" not in held(resident)
    assert ReviewItem.objects.filter(user=resident, label="Effusion").exists()  # the miss
    third = both.practice.items.exclude(case=both.case).get().case
    _report(resident, third, both.practice, coverage=1.0)
    assert "full_coverage" in held(resident)


def test_assessment_improved(resident, educator, cohort, both, localize):
    localize(resident, both.case, both.assessment, marks=WRONG)
    localize(resident, both.other, both.assessment, marks=WRONG)
    assessment_close(actor=educator, case_set=both.assessment)
    assert "assessment_improved" not in held(resident)  # no earlier assessment
    later = build_set(
        educator,
        cohort,
        [make_case(owner=educator, title="Post")],
        name="Post-test",
        mode="assessment",
    )
    localize(resident, later.items.get().case, later, marks=RIGHT)
    assert "assessment_improved" not in held(resident)  # held until released
    assessment_close(actor=educator, case_set=later)
    assert "assessment_improved" in held(resident)


def test_a_worse_assessment_earns_nothing(resident, educator, cohort, both, localize):
    localize(resident, both.case, both.assessment, marks=RIGHT)
    assessment_close(actor=educator, case_set=both.assessment)
    later = build_set(
        educator,
        cohort,
        [make_case(owner=educator, title="Post")],
        name="Post-test",
        mode="assessment",
    )
    localize(resident, later.items.get().case, later, marks=WRONG)
    assessment_close(actor=educator, case_set=later)
    assert "assessment_improved" not in held(resident)


def test_the_hook_costs_a_few_statements(resident, both, localize):
    attempt = localize(resident, both.case, both.practice, marks=WRONG)
    attempt.pk += 1000  # a new attempt as far as the game knows
    with CaptureQueriesContext(connection) as ctx:
        game_attempt_credited(Credited(attempt, attempt.xp))
    # a review served with this case? the missed label's item, and its insert; the streak
    assert len(ctx.captured_queries) <= 4


def test_every_badge_and_its_rule_is_on_the_profile_and_earned_ones_on_home(
    client_for, resident, both, localize
):
    from html import unescape

    profile = unescape(client_for(resident).get(reverse("accounts:profile")).content.decode())
    for badge in BADGES:
        assert badge.name in profile and badge.rule in profile
    localize(resident, both.case, both.practice)
    home = client_for(resident).get(reverse("home")).content.decode()
    assert "First perfect case" in home
