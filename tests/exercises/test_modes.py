"""Practice modes per set, recorded on every attempt: guided shows the worked example first and
earns no accuracy credit; active shows nothing before the submit; rapid-fire adds a countdown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.cases.services.sets import case_set_update
from apps.exercises.xp import REPLAY_XP
from apps.progress.models import ScoreEvent
from apps.progress.selectors import player_stats

from .conftest import RIGHT

pytestmark = pytest.mark.django_db

ANSWER_SENTENCE = "pleural effusion"  # in the fixture cases' reference report and finding


def _set_mode(educator, case_set, mode, seconds=None):
    return case_set_update(
        actor=educator, case_set=case_set, practice_mode=mode, rapid_seconds=seconds
    )


def test_active_is_the_default_and_recorded(resident, both, localize):
    attempt = localize(resident, both.case, both.practice)
    assert attempt.mode == "active" and not attempt.post_reveal


def test_guided_shows_the_worked_example_first_and_earns_no_accuracy(
    client_for, resident, educator, both, localize
):
    from apps.cases.models import Finding

    Finding.objects.filter(case=both.case).update(sentence="Small left pleural effusion.")
    _set_mode(educator, both.practice, "guided")
    page = client_for(resident).get(
        reverse("localization:case", args=[both.practice.pk, both.case.pk])
    )
    body = page.content.decode()
    assert "Worked example" in body and "Small left pleural effusion." in body
    assert body.index("Worked example") < body.index("localize-form")  # before the marking
    attempt = localize(resident, both.case, both.practice, marks=RIGHT)
    assert attempt.mode == "guided" and attempt.post_reveal and attempt.xp == REPLAY_XP
    assert ScoreEvent.objects.get(attempt_ref=attempt.ref).post_reveal
    assert player_stats(user=resident).localize_accuracy is None


def test_active_and_rapid_pages_hold_no_answer(client_for, resident, educator, both):
    from apps.cases.models import Finding

    Finding.objects.filter(case=both.case).update(sentence="Small left pleural effusion.")
    url = reverse("localization:case", args=[both.practice.pk, both.case.pk])
    assert "Small left pleural effusion." not in client_for(resident).get(url).content.decode()
    _set_mode(educator, both.practice, "rapid", 20)
    body = client_for(resident).get(url).content.decode()
    assert "Small left pleural effusion." not in body and "Worked example" not in body
    assert 'data-countdown="20"' in body and "countdown.js" in body


def test_rapid_fire_is_recorded_and_an_assessment_is_always_active(
    resident, educator, both, localize
):
    _set_mode(educator, both.practice, "rapid", 15)
    assert localize(resident, both.case, both.practice).mode == "rapid"
    both.assessment.practice_mode = "guided"
    both.assessment.save(update_fields=["practice_mode"])
    attempt = localize(resident, both.other, both.assessment)
    assert attempt.mode == "active" and not attempt.post_reveal


def test_the_set_form_takes_a_mode_and_refuses_a_bad_countdown(client_for, educator, both):
    from apps.core.exceptions import ApplicationError

    with pytest.raises(ApplicationError):
        _set_mode(educator, both.practice, "rapid", 2)
    with pytest.raises(ApplicationError):
        _set_mode(educator, both.practice, "sleepy")
    body = (
        client_for(educator)
        .get(reverse("cases:set_detail", args=[both.practice.pk]))
        .content.decode()
    )
    assert "Practice mode" in body and "Rapid-fire countdown" in body


def test_guided_report_shows_the_reference_first_and_earns_no_accuracy(
    client_for, resident, educator, both, report
):
    from tests.reporting.conftest import CANARY

    _set_mode(educator, both.practice, "guided")
    url = reverse("reporting:case", args=[both.practice.pk, both.case.pk])
    body = client_for(resident).get(url).content.decode()
    assert "Worked example (guided)" in body and "The radiologist's report" in body
    assert CANARY in body and "Effusion" in body  # the reference report and the case's finding
    assert body.index("Worked example") < body.index('id="report-form"')  # above the editor
    assert "already seen" not in body  # a worked example, not an after-the-reveal attempt
    attempt = report(resident, both.case, both.practice)
    assert attempt.mode == "guided" and attempt.post_reveal
    assert player_stats(user=resident).report_accuracy is None


def test_an_active_report_page_holds_no_reference(client_for, resident, both):
    from tests.reporting.conftest import CANARY

    url = reverse("reporting:case", args=[both.practice.pk, both.case.pk])
    body = client_for(resident).get(url).content.decode()
    assert CANARY not in body and "Worked example" not in body
