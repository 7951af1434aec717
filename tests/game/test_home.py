"""The resident's home: level wording, today's goal, streak, assignments with due dates and
completion, recent results, the Continue button's order, and a query count that does not grow
with the number of attempts."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.cases.models import Assignment
from apps.cases.services.sets import case_set_assign
from apps.exercises.levels import XP_PER_LEVEL
from apps.game.home import resident_home
from apps.localization.models import LocalizationAttempt
from apps.progress.models import ScoreEvent
from apps.progress.streaks import DAILY_GOAL_CASES
from tests.localization.conftest import build_set
from tests.reporting.conftest import make_case

from .conftest import *  # noqa: F403

pytestmark = pytest.mark.django_db


def test_home_shows_level_goal_streak_and_recent_results(client_for, resident, both, localize):
    attempt = localize(resident, both.case, both.practice)
    body = client_for(resident).get(reverse("home")).content.decode()
    xp = attempt.xp
    assert f"Level 1 · {xp} of {XP_PER_LEVEL} XP to level 2" in body
    assert f"1 of {DAILY_GOAL_CASES} cases" in body
    assert 'id="streak">1 day' in body
    assert reverse("localization:attempt", args=[attempt.pk]) in body
    assert f"+{xp} XP" in body and "100%" in body
    assert "Both one" not in body  # a resident sees a case's place, never its source title


def test_assignments_list_due_dates_and_completion(
    client_for, resident, educator, cohort, both, localize
):
    soon = timezone.now() + timedelta(days=2)
    case_set_assign(actor=educator, case_set=both.practice, cohort=cohort, due_at=soon)
    localize(resident, both.case, both.practice)
    home = resident_home(user=resident)
    rows = {row.case_set.pk: row for row in home.assignments}
    assert rows[both.practice.pk].done == 1 and rows[both.practice.pk].total == 2
    assert home.assignments[0].case_set == both.practice  # due soonest first
    assert rows[both.assessment.pk].done == 0  # answered in an open assessment counts once held
    body = client_for(resident).get(reverse("home")).content.decode()
    play = reverse("localization:play", args=[both.practice.pk])
    assert f'<a href="{play}">Practice</a>' in body
    assert "(Localize)</span> · 1 of 2 cases done" in body and "due " in body


def test_an_assigned_set_links_where_it_is_played(
    client_for, resident, educator, cohort, both, localize
):
    """Localize where it offers the set (as Continue does), else Report; a set with no published
    case is named without a link, as there is nothing to open."""
    from apps.cases.models import Finding

    reports = make_case(owner=educator, title="Report only")
    Finding.objects.filter(case=reports).delete()  # an IU-style study: findings only in its text
    report_set = build_set(educator, cohort, [reports], name="Reports")
    empty = build_set(educator, cohort, [], name="Empty")
    client = client_for(resident)
    body = client.get(reverse("home")).content.decode()
    for case_set, name in [(both.practice, "localization:play"), (report_set, "reporting:play")]:
        assert f'<a href="{reverse(name, args=[case_set.pk])}">{case_set.name}</a>' in body
    assert client.get(reverse("reporting:play", args=[report_set.pk])).status_code == 302
    assert "(Report)</span> · 0 of 1 case done" in body
    assert f"/sets/{empty.pk}/play/" not in body and "Empty" in body
    Assignment.objects.exclude(case_set=report_set).delete()
    assert client.get(reverse("game:continue"))["Location"] == reverse(
        "reporting:play", args=[report_set.pk]
    )


def test_an_educators_own_cohort_is_not_its_homework(client_for, resident, educator, cohort, both):
    """The cohort an educator runs is listed once, under "Cohorts you run": not again under "Your
    cohorts", and what it assigned there is not "assigned" to the educator itself."""
    assert both.practice in [row.case_set for row in resident_home(user=resident).assignments]
    assert resident_home(user=educator).assignments == []
    body = client_for(educator).get(reverse("home")).content.decode()
    assert "Nothing assigned to you yet." in body
    assert "You have not joined a cohort." in body and f"{cohort.name}</a> · 1 resident" in body


def test_an_overdue_assignment_is_marked(resident, educator, cohort, both):
    case_set_assign(
        actor=educator,
        case_set=both.practice,
        cohort=cohort,
        due_at=timezone.now() - timedelta(hours=1),
    )
    rows = {row.case_set.pk: row for row in resident_home(user=resident).assignments}
    assert rows[both.practice.pk].overdue


def test_continue_goes_to_the_assignment_due_soonest(client_for, resident, educator, cohort, both):
    case_set_assign(
        actor=educator,
        case_set=both.assessment,
        cohort=cohort,
        due_at=timezone.now() + timedelta(days=1),
    )
    case_set_assign(
        actor=educator,
        case_set=both.practice,
        cohort=cohort,
        due_at=timezone.now() + timedelta(days=5),
    )
    response = client_for(resident).get(reverse("game:continue"))
    assert response["Location"] == reverse("localization:play", args=[both.assessment.pk])


def test_continue_falls_back_to_new_practice_then_browsing(
    client_for, resident, educator, both, localize
):
    from apps.cases.models import Assignment

    Assignment.objects.all().delete()
    shared = build_set(educator, None, [both.other], name="Shared practice")
    shared.shared = True
    shared.save(update_fields=["shared"])
    client = client_for(resident)
    # Not assigned to the resident's cohort and residents do not see shared sets: nothing new.
    assert client.get(reverse("game:continue"))["Location"] == reverse("localization:index")
    case_set_assign(actor=educator, case_set=shared, cohort=resident.memberships.get().cohort)
    Assignment.objects.filter(case_set=shared).update(due_at=None)
    localize(resident, both.other, shared)  # the assignment is finished...
    assert client.get(reverse("game:continue"))["Location"] == reverse("localization:index")


def test_continue_offers_unfinished_practice_when_assignments_are_done(
    client_for, resident, educator, cohort, both, localize
):
    from apps.cases.models import Assignment

    extra = build_set(educator, cohort, [make_case(owner=educator, title="New")], name="Extra")
    Assignment.objects.exclude(case_set=extra).delete()
    Assignment.objects.filter(case_set=extra).update(due_at=None)
    step = client_for(resident).get(reverse("game:continue"))["Location"]
    assert step == reverse("localization:play", args=[extra.pk])


def _home_queries(client: Any) -> int:
    url = reverse("home")
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _bulk_attempts(user: Any, case: Any, case_set: Any, n: int, days: int = 120) -> None:
    """``n`` scored Localize attempts and their ledger rows, written in bulk and spread over
    ``days`` days (months of play)."""
    now = timezone.now()
    start = LocalizationAttempt.objects.filter(user=user).count()
    per_day = max(1, n // days)
    for day, first in enumerate(range(0, n, per_day)):
        numbers = range(start + first, start + min(n, first + per_day))
        attempts = LocalizationAttempt.objects.bulk_create(
            [
                LocalizationAttempt(
                    user=user,
                    case=case,
                    case_set=case_set,
                    attempt_no=k + 1,
                    idempotency_key=uuid.uuid4(),
                    submitted_at=now,
                    score=0.5,
                    xp=5,
                    post_reveal=True,
                    result={},
                    reference=[],
                    scorer_version="bulk",
                    iou_threshold=0.3,
                )
                for k in numbers
            ]
        )
        events = ScoreEvent.objects.bulk_create(
            [
                ScoreEvent(
                    user=user,
                    kind="localize",
                    case=case,
                    case_set=case_set,
                    attempt_ref=f"localization.attempt:{a.pk}",
                    score=0.5,
                    xp=5,
                    post_reveal=True,
                )
                for a in attempts
            ]
        )
        when = now - timedelta(days=day % days, hours=1)
        ScoreEvent.objects.filter(pk__gte=events[0].pk, pk__lte=events[-1].pk).update(
            created_at=when
        )


def test_home_query_count_does_not_grow_with_attempts(client_for, resident, both, localize):
    localize(resident, both.case, both.practice)
    client = client_for(resident)
    few = _home_queries(client)
    _bulk_attempts(resident, both.case, both.practice, 2_000)
    assert _home_queries(client) == few


def test_home_query_count_does_not_grow_with_assigned_sets(
    client_for, resident, educator, cohort, both, localize
):
    localize(resident, both.case, both.practice)
    client = client_for(resident)
    few = _home_queries(client)
    for n in range(6):
        build_set(educator, cohort, [both.other, both.case], name=f"More {n}")
    body = client.get(reverse("home")).content.decode()
    assert body.count("/play/") >= 8  # every set linked...
    assert _home_queries(client) == few  # ...by the one query that lists them


@pytest.mark.slow
def test_home_with_100k_attempts_is_bounded_and_quick(client_for, resident, both, localize):
    localize(resident, both.case, both.practice)
    client = client_for(resident)
    few = _home_queries(client)
    _bulk_attempts(resident, both.case, both.practice, 100_000)
    started = time.perf_counter()
    assert _home_queries(client) == few
    assert time.perf_counter() - started < 10  # generous: two page loads on a loaded machine
