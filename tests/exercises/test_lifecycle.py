"""The one lifecycle, through both exercises: reveal across exercises, assessments that show and
credit nothing until released, one attempt per case per exercise, the educator's close."""

from __future__ import annotations

from uuid import uuid4

import pytest
from django.urls import reverse

from apps.core.exceptions import ApplicationError
from apps.exercises.models import CaseReveal
from apps.exercises.xp import REPLAY_XP
from apps.progress.models import ScoreEvent
from apps.progress.selectors import player_stats

from .conftest import WRONG

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- reveal across exercises


def test_localize_reveal_makes_the_report_attempt_post_reveal(resident, both, localize, report):
    first = localize(resident, both.case, both.practice)
    assert not first.post_reveal and first.xp > REPLAY_XP
    assert CaseReveal.objects.filter(user=resident, case=both.case, exercise="localize").exists()
    second = report(resident, both.case, both.practice)
    assert second.post_reveal and second.attempt_no == 1  # numbered per exercise
    assert second.xp == REPLAY_XP
    event = ScoreEvent.objects.get(attempt_ref=second.ref)
    assert event.post_reveal
    assert player_stats(user=resident).report_accuracy is None  # no accuracy credit


def test_report_reveal_makes_the_localize_attempt_post_reveal(resident, both, localize, report):
    first = report(resident, both.case, both.practice)
    assert not first.post_reveal and first.xp > REPLAY_XP
    second = localize(resident, both.case, both.practice)
    assert second.post_reveal and second.xp == REPLAY_XP
    stats = player_stats(user=resident)
    assert stats.localize_accuracy is None and stats.report_accuracy == pytest.approx(0.5)


@pytest.mark.parametrize("page", ["localization:case", "reporting:case"])
def test_the_resident_is_told_before_starting(client_for, resident, both, localize, page):
    client = client_for(resident)
    url = reverse(page, args=[both.practice.pk, both.case.pk])
    assert "already seen this case" not in client.get(url).content.decode()
    localize(resident, both.case, both.practice)
    body = client.get(url).content.decode()
    assert "already seen this case" in body


def test_next_case_apis_say_revealed(client_for, resident, both, report):
    client = client_for(resident)
    report(resident, both.case, both.practice)
    data = client.post(reverse("api-localize-next-case", args=[both.practice.pk])).json()
    assert data["case"]["id"] == both.case.pk and data["revealed"] is True


# ---------------------------------------------------------------- assessments


def test_open_assessment_holds_localize_scores_xp_and_jobs(client_for, resident, both, localize):
    attempt = localize(resident, both.case, both.assessment, marks=WRONG)
    assert attempt.xp is None
    assert not ScoreEvent.objects.filter(user=resident).exists()
    assert attempt.explain_job is not None and attempt.explain_job.sealed
    client = client_for(resident)
    data = client.get(reverse("api-localize-attempt", args=[attempt.pk])).json()
    assert data["score"] is None and data["xp"] is None and data["feedback"] is None
    assert data["explanation_job"] is None
    job = client.get(reverse("api-job-detail", kwargs={"job_id": attempt.explain_job_id}))
    assert job.status_code == 404
    home = client.get(reverse("home")).content.decode()
    assert "Play your first case" in home  # no XP, no accuracy moved


def test_open_assessment_holds_the_report_and_its_reference(client_for, resident, both, report):
    attempt = report(resident, both.case, both.assessment)
    assert attempt.status == "scored" and attempt.score == pytest.approx(0.5)
    assert attempt.xp is None and not ScoreEvent.objects.exists()
    client = client_for(resident)
    data = client.get(f"/api/v1/report/attempts/{attempt.pk}/").json()
    assert data["status"] == "held" and data["score"] is None and data["reference"] is None
    assert data["job_id"] is None and data["xp"] is None and data["feedback_visible"] is False
    page = client.get(reverse("reporting:attempt", args=[attempt.pk])).content.decode()
    assert "Answer recorded" in page and "GTCANARY" not in page and "clinical accuracy" not in page
    assert (
        client.get(reverse("api-job-detail", kwargs={"job_id": attempt.job_id})).status_code == 404
    )


@pytest.mark.parametrize("exercise", ["localize", "report"])
def test_one_attempt_per_case_per_exercise(resident, both, localize, report, exercise):
    play = localize if exercise == "localize" else report
    play(resident, both.case, both.assessment)
    with pytest.raises(ApplicationError, match="already answered"):
        play(resident, both.case, both.assessment)


def test_finishing_every_case_in_both_exercises_releases_and_credits(
    client_for, resident, both, localize, report
):
    first = localize(resident, both.case, both.assessment)
    localize(resident, both.other, both.assessment)
    # Localize is done, Report is not: still nothing.
    assert not ScoreEvent.objects.exists()
    report(resident, both.case, both.assessment)
    last = report(resident, both.other, both.assessment)
    first.refresh_from_db()
    last.refresh_from_db()
    assert first.xp and last.xp
    assert ScoreEvent.objects.filter(user=resident).count() == 4
    assert CaseReveal.objects.filter(user=resident).count() == 2
    client = client_for(resident)
    data = client.get(reverse("api-localize-attempt", args=[first.pk])).json()
    assert data["score"] == 1.0 and data["feedback"] is not None
    assert client.get(f"/api/v1/report/attempts/{last.pk}/").json()["status"] == "scored"
    assert client.get(reverse("api-job-detail", kwargs={"job_id": last.job_id})).status_code == 200


def test_a_report_scored_after_the_release_is_credited_then(resident, both, localize):
    from apps.inference.services import inference_job_finish
    from apps.reporting.services import report_attempt_submit
    from tests.reporting.conftest import fake_result

    localize(resident, both.case, both.assessment)
    localize(resident, both.other, both.assessment)
    attempts = [
        report_attempt_submit(
            user=resident, case=case, case_set=both.assessment, text="Clear.", idempotency_key=key
        )[0]
        for case, key in ((both.case, uuid4()), (both.other, uuid4()))
    ]
    # Released at the last answer, while both scores are still pending.
    for attempt in attempts:
        assert ScoreEvent.objects.filter(attempt_ref=attempt.ref).count() == 0
        inference_job_finish(job_id=attempt.job_id, status="done", result=fake_result(), error="")
        attempt.refresh_from_db()
        assert attempt.xp is not None
        assert ScoreEvent.objects.filter(attempt_ref=attempt.ref).count() == 1


# ---------------------------------------------------------------- the educator's close


@pytest.mark.parametrize(
    ("persona", "status"),
    [("educator", 200), ("admin", 200), ("other_educator", 404), ("resident", 403),
     ("outsider", 403)],
)  # fmt: skip
def test_assessment_page_personas(personas, client_for, both, persona, status):
    client = client_for(personas[persona])
    response = client.get(reverse("exercises:assessment", args=[both.assessment.pk]))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [("educator", 200), ("admin", 200), ("other_educator", 404), ("resident", 403),
     ("outsider", 403)],
)  # fmt: skip
def test_close_api_personas(personas, client_for, both, persona, status):
    from apps.exercises.selectors import assessment_closed

    client = client_for(personas[persona])
    response = client.post(reverse("api-assessment-close", args=[both.assessment.pk]))
    assert response.status_code == status
    assert assessment_closed(case_set=both.assessment) is (status == 200)


@pytest.mark.parametrize(("persona", "closes"), [("educator", True), ("resident", False)])
def test_close_page_personas(personas, client_for, both, persona, closes):
    from apps.exercises.selectors import assessment_closed

    client = client_for(personas[persona])
    response = client.post(reverse("exercises:assessment_close", args=[both.assessment.pk]))
    assert response.status_code == (302 if closes else 403)
    assert assessment_closed(case_set=both.assessment) is closes


def test_a_practice_set_cannot_be_closed(client_for, educator, both):
    response = client_for(educator).post(reverse("api-assessment-close", args=[both.practice.pk]))
    assert response.status_code == 404


def test_close_releases_credits_and_stops_answers(client_for, educator, resident, both, localize):
    attempt = localize(resident, both.case, both.assessment)
    assert attempt.xp is None
    client_for(educator).post(reverse("api-assessment-close", args=[both.assessment.pk]))
    attempt.refresh_from_db()
    assert attempt.xp and ScoreEvent.objects.filter(attempt_ref=attempt.ref).exists()
    assert attempt.explain_job is None or not attempt.explain_job.sealed
    data = client_for(resident).get(reverse("api-localize-attempt", args=[attempt.pk])).json()
    assert data["score"] == 1.0
    with pytest.raises(ApplicationError, match="closed"):
        localize(resident, both.other, both.assessment)
    # The play buttons lead to the summaries, not to a case that can no longer be answered.
    client = client_for(resident)
    for play in ("localization:play", "reporting:play"):
        response = client.get(reverse(play, args=[both.assessment.pk]))
        assert response.status_code in (200, 302)
        assert "/cases/" not in response.get("Location", "")
    # Closing twice keeps the first close.
    again = client_for(educator).post(reverse("api-assessment-close", args=[both.assessment.pk]))
    assert again.status_code == 200


# ---------------------------------------------------------------- counts


def test_home_names_cases_and_attempts(client_for, resident, both, localize):
    localize(resident, both.case, both.practice)
    localize(resident, both.case, both.practice)
    body = client_for(resident).get(reverse("home")).content.decode()
    assert "Cases read" in body and "(2 attempts)" in body


def test_residents_exclude_educators_and_admins(client_for, educator, admin_user, cohort, resident):
    from apps.cohorts.models import MemberRole, Membership

    Membership.objects.create(cohort=cohort, user=admin_user, role=MemberRole.RESIDENT)
    body = client_for(educator).get(reverse("home")).content.decode()
    assert "· 1 resident<" in body
