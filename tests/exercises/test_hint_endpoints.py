"""The hint endpoints of both exercises (HTML for htmx, and the API): who may ask, what comes
back, and every refusal with its reason."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from apps.cases.services.sets import case_set_update
from apps.exercises.hint_text import SYSTEM_HINTS
from apps.exercises.hints import NOT_AFTER_REVEAL, NOT_IN_ASSESSMENT
from apps.exercises.models import Delivery
from apps.exercises.xp import HINT_XP

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PAGES = {"localize": "localization", "report": "reporting"}
APIS = {"localize": "api-localize-hint", "report": "report-api-hint"}


def _hint(client, exercise, case_set, case, number, **headers):
    url = reverse(f"{PAGES[exercise]}:hint", args=[case_set.pk, case.pk])
    return client.post(url, {"number": number}, **headers)


def _api(client, exercise, case_set, case, number):
    url = reverse(APIS[exercise], args=[case_set.pk, case.pk])
    return client.post(url, {"number": number}, content_type="application/json")


@pytest.mark.parametrize("exercise", sorted(PAGES))
def test_the_case_page_offers_a_hint_and_htmx_gets_it_in_the_live_region(
    client_for, resident, both, exercise
):
    client = client_for(resident)
    page = client.get(reverse(f"{PAGES[exercise]}:case", args=[both.practice.pk, both.case.pk]))
    body = page.content.decode()
    assert f"Hint (−{HINT_XP} XP)" in body and 'id="hint-live"' in body
    assert 'aria-live="polite"' in body and SYSTEM_HINTS["pleura"] not in body
    first = _hint(client, exercise, both.practice, both.case, 1, **HTMX)
    text = first.content.decode()
    assert first.status_code == 200 and SYSTEM_HINTS["pleura"] in text
    assert 'name="number" value="2"' in text and f"1 of 2 hints used (−{HINT_XP} XP)" in text
    assert first["Cache-Control"].startswith("max-age=0") or "no-store" in first["Cache-Control"]
    again = _hint(client, exercise, both.practice, both.case, 1, **HTMX)  # a double click
    assert again.status_code == 200 and 'name="number" value="2"' in again.content.decode()
    last = _hint(client, exercise, both.practice, both.case, 2, **HTMX).content.decode()
    assert "No more hints" in last and 'hx-swap-oob="true"' in last
    delivery = Delivery.objects.get(user=resident, exercise=exercise, closed_at__isnull=True)
    assert delivery.hints_used == 2


@pytest.mark.parametrize("exercise", sorted(PAGES))
def test_a_plain_post_returns_to_the_case_page_which_lists_the_hints(
    client_for, resident, both, exercise
):
    client = client_for(resident)
    response = _hint(client, exercise, both.practice, both.case, 1)
    case_url = reverse(f"{PAGES[exercise]}:case", args=[both.practice.pk, both.case.pk])
    assert response.status_code == 302 and response["Location"] == case_url
    body = client.get(case_url).content.decode()
    assert SYSTEM_HINTS["pleura"] in body and 'name="number" value="2"' in body


@pytest.mark.parametrize("exercise", sorted(PAGES))
def test_refusals_are_400s_with_their_reason(client_for, resident, both, exercise):
    client = client_for(resident)
    exam = _hint(client, exercise, both.assessment, both.other, 1, **HTMX)
    assert exam.status_code == 400 and NOT_IN_ASSESSMENT in exam.content.decode()
    assert exam["HX-Retarget"] == "#hint-error"
    skipped = _hint(client, exercise, both.practice, both.case, 2, **HTMX)
    assert skipped.status_code == 400 and "Hint 1 comes first" in skipped.content.decode()
    plain = _hint(client, exercise, both.assessment, both.other, 1)
    assert plain.status_code == 400 and NOT_IN_ASSESSMENT in plain.content.decode()


def test_no_hint_after_the_submit(client_for, resident, both, localize):
    localize(resident, both.case, both.practice)
    client = client_for(resident)
    for exercise in PAGES:
        response = _hint(client, exercise, both.practice, both.case, 1, **HTMX)
        assert response.status_code == 400
        assert escape(NOT_AFTER_REVEAL) in response.content.decode()
        assert _api(client, exercise, both.practice, both.case, 1).status_code == 400


def test_no_panel_where_hints_are_not_offered(client_for, resident, educator, both):
    client = client_for(resident)
    exam = client.get(reverse("localization:case", args=[both.assessment.pk, both.other.pk]))
    assert 'id="hints"' not in exam.content.decode()
    case_set_update(actor=educator, case_set=both.practice, practice_mode="guided")
    guided = client.get(reverse("reporting:case", args=[both.practice.pk, both.case.pk]))
    assert 'id="hints"' not in guided.content.decode()


@pytest.mark.parametrize("exercise", sorted(PAGES))
def test_a_case_the_player_may_not_see_is_a_404(client_for, both, exercise, outsider, make_user):
    for user in (outsider, make_user("stranger")):
        client = client_for(user)
        assert _hint(client, exercise, both.practice, both.case, 1).status_code == 404
        assert _api(client, exercise, both.practice, both.case, 1).status_code == 404
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("exercise", sorted(PAGES))
def test_anonymous_visitors_are_sent_to_log_in(client_for, both, exercise):
    page = _hint(client_for(None), exercise, both.practice, both.case, 1)
    assert page.status_code == 302 and "/login/" in page["Location"]
    assert _api(client_for(None), exercise, both.practice, both.case, 1).status_code in (401, 403)


@pytest.mark.parametrize("exercise", sorted(PAGES))
def test_the_api_returns_the_hint_and_its_cost(client_for, resident, educator, both, exercise):
    response = _api(client_for(resident), exercise, both.practice, both.case, 1)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    data = response.json()
    assert data["number"] == 1 and data["text"] == SYSTEM_HINTS["pleura"]
    assert data["hints_used"] == 1 and data["max_hints"] == 2
    assert data["xp_cost_each"] == HINT_XP and data["xp_cost_total"] == HINT_XP
    assert _api(client_for(resident), exercise, both.practice, both.case, 1).json() == data
    # An educator trying cases is a player too; their hints are their own.
    mine = _api(client_for(educator), exercise, both.practice, both.case, 1).json()
    assert mine["hints_used"] == 1
    refused = _api(client_for(resident), exercise, both.assessment, both.other, 1)
    assert refused.status_code == 400 and NOT_IN_ASSESSMENT in str(refused.json())
    assert _api(client_for(resident), exercise, both.practice, both.case, 3).status_code == 400


def test_the_result_shows_the_hints_used_and_their_cost(client_for, resident, both, localize):
    client = client_for(resident)
    _hint(client, "localize", both.practice, both.case, 1, **HTMX)
    attempt = localize(resident, both.case, both.practice)
    page = client.get(reverse("localization:attempt", args=[attempt.pk])).content.decode()
    assert f"1 hint used (−{HINT_XP} XP)" in page
    api = client.get(reverse("api-localize-attempt", args=[attempt.pk])).json()
    assert api["hints_used"] == 1 and api["xp"] == attempt.xp


def test_the_report_api_says_how_many_hints_an_attempt_used(client_for, resident, both, report):
    client = client_for(resident)
    _api(client, "report", both.practice, both.case, 1)
    attempt = report(resident, both.case, both.practice)
    data = client.get(reverse("report-api-attempt", args=[attempt.pk])).json()
    assert data["hints_used"] == 1
