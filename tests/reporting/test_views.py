"""Report pages: who may open what, the play flow, autosave, submit, the live result (the judge's
region and escaping: test_judge_views.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.urls import reverse

from apps.reporting.models import MAX_REPORT_CHARS, ReportAttempt, ReportDraft

from .conftest import CANARY, CANDIDATE, fake_result

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PLAYERS = (
    "resident",
    "educator",
    "admin",
)  # the set is assigned to resident's cohort, owned by educator
REFUSED = ("other_resident", "other_educator", "outsider")


def _set_urls(report_set: Any, case: Any) -> dict[str, tuple[str, str]]:
    ids = [report_set.pk, case.pk]
    return {
        "play": ("get", reverse("reporting:play", args=[report_set.pk])),
        "case": ("get", reverse("reporting:case", args=ids)),
        "draft": ("post", reverse("reporting:draft", args=ids)),
        "submit": ("post", reverse("reporting:submit", args=ids)),
    }


def _attempt_urls(attempt: Any) -> dict[str, tuple[str, str]]:
    return {
        "attempt": ("get", reverse("reporting:attempt", args=[attempt.pk])),
        "judge": ("get", reverse("reporting:attempt_judge", args=[attempt.pk])),
        "retry": ("post", reverse("reporting:attempt_retry", args=[attempt.pk])),
    }


def _call(client: Any, method: str, url: str) -> Any:
    data = {"text": "Lungs are clear.", "idempotency_key": uuid.uuid4().hex}
    return client.post(url, data) if method == "post" else client.get(url)


# ---------------------------------------------------------------------------------- personas


def test_index_needs_login_and_is_open_to_every_player(
    personas: dict[str, Any], client_for: Any
) -> None:
    url = reverse("reporting:index")
    response = client_for(None).get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for user in personas.values():
        assert client_for(user).get(url).status_code == 200


@pytest.mark.parametrize("name", PLAYERS)
def test_set_urls_allow_players_of_the_set(
    name: str, personas: dict[str, Any], client_for: Any, report_set: Any, report_case: Any
) -> None:
    client = client_for(personas[name])
    for label, (method, url) in _set_urls(report_set, report_case).items():
        response = _call(client, method, url)
        assert response.status_code in (200, 302), (label, response.status_code)


@pytest.mark.parametrize("name", REFUSED)
def test_set_urls_are_404_for_everyone_else(
    name: str, personas: dict[str, Any], client_for: Any, report_set: Any, report_case: Any
) -> None:
    client = client_for(personas[name])
    for label, (method, url) in _set_urls(report_set, report_case).items():
        assert _call(client, method, url).status_code == 404, label
    assert not ReportAttempt.objects.exists() and not ReportDraft.objects.exists()


def test_set_urls_redirect_anonymous_to_login(
    client_for: Any, report_set: Any, report_case: Any
) -> None:
    for label, (method, url) in _set_urls(report_set, report_case).items():
        response = _call(client_for(None), method, url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], label


def test_unpublished_or_unreportable_or_foreign_cases_are_404(
    resident: Any, educator: Any, other_educator: Any, client_for: Any, report_set: Any
) -> None:
    from .conftest import make_case, make_set

    client = client_for(resident)
    no_report = report_set.items.get(case__title="No reference").case
    assert (
        client.get(reverse("reporting:case", args=[report_set.pk, no_report.pk])).status_code == 404
    )
    draft_case = make_case(owner=educator, published=False)
    make_set(owner=educator, cases=[draft_case])
    assert (
        client.get(reverse("reporting:case", args=[report_set.pk, draft_case.pk])).status_code
        == 404
    )
    foreign = make_case(owner=other_educator)
    make_set(owner=other_educator, cases=[foreign])
    assert (
        client.get(reverse("reporting:case", args=[report_set.pk, foreign.pk])).status_code == 404
    )


# The educators who run the resident's cohort read the result (the dashboard's drill-down) but
# never retry it; everyone else gets a 404 for all of it.
READERS = {"educator": {"attempt", "judge"}, "admin": {"attempt", "judge"}}


@pytest.mark.parametrize(
    "name", ["other_resident", "educator", "other_educator", "admin", "outsider"]
)
def test_attempt_urls_are_owner_only(
    name: str,
    personas: dict[str, Any],
    client_for: Any,
    report_set: Any,
    report_case: Any,
    submit: Any,
) -> None:
    attempt = submit(personas["resident"], report_case, report_set)
    client = client_for(personas[name])
    for label, (method, url) in _attempt_urls(attempt).items():
        expected = 200 if label in READERS.get(name, set()) else 404
        assert _call(client, method, url).status_code == expected, label
    owner = client_for(personas["resident"])
    for label, (method, url) in _attempt_urls(attempt).items():
        if method == "get":
            assert owner.get(url).status_code == 200, label


def test_mutating_urls_refuse_get(
    client_for: Any, resident: Any, report_set: Any, report_case: Any, submit: Any
) -> None:
    client = client_for(resident)
    attempt = submit(resident, report_case, report_set)
    urls = [
        _set_urls(report_set, report_case)["draft"][1],
        _set_urls(report_set, report_case)["submit"][1],
        _attempt_urls(attempt)["retry"][1],
    ]
    for url in urls:
        assert client.get(url).status_code == 405


# ----------------------------------------------------------------------------------- play flow


def test_index_lists_sets_with_reportable_progress(
    resident: Any, client_for: Any, report_set: Any, report_case: Any, submit: Any
) -> None:
    client = client_for(resident)
    body = client.get(reverse("reporting:index")).content.decode()
    assert "Chest 1" in body and "0 / 2" in body  # the case without a reference does not count
    submit(resident, report_case, report_set)
    body = client.get(reverse("reporting:index")).content.decode()
    assert "1 / 2" in body


def test_play_goes_to_the_next_unreported_case_then_says_done(
    resident: Any,
    client_for: Any,
    report_set: Any,
    report_case: Any,
    second_case: Any,
    submit: Any,
) -> None:
    client = client_for(resident)
    play = reverse("reporting:play", args=[report_set.pk])
    assert client.get(play)["Location"] == reverse(
        "reporting:case", args=[report_set.pk, report_case.pk]
    )
    submit(resident, report_case, report_set)
    assert client.get(play)["Location"] == reverse(
        "reporting:case", args=[report_set.pk, second_case.pk]
    )
    submit(resident, second_case, report_set)
    response = client.get(play)
    assert response.status_code == 200 and "reported every case" in response.content.decode()


def test_case_page_shows_study_context_and_editor_without_answers(
    resident: Any, client_for: Any, report_set: Any, report_case: Any
) -> None:
    response = client_for(resident).get(
        reverse("reporting:case", args=[report_set.pk, report_case.pk])
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert '<cxr-viewer class="report-viewer" mode="view"' in body
    image = report_case.images.get()
    assert reverse("cases:image", args=[image.pk, "display"]) in body
    assert "54 years" in body and "Female" in body and "PA" in body
    assert "Cough and fever" in body
    assert 'name="idempotency_key"' in body and "data-report-editor" in body
    assert 'hx-trigger="keyup changed delay:1s, blur"' in body
    assert 'hx-history="false"' in body
    assert CANARY not in body and "Right lower lobe consolidation" not in body
    assert "static/js/reporting.js" in body


def test_draft_autosave_restores_after_reload(
    resident: Any, client_for: Any, report_set: Any, report_case: Any
) -> None:
    client = client_for(resident)
    ids = [report_set.pk, report_case.pk]
    response = client.post(
        reverse("reporting:draft", args=ids), {"text": "Heart size normal."}, **HTMX
    )
    assert response.status_code == 200 and "Draft saved" in response.content.decode()
    body = client.get(reverse("reporting:case", args=ids)).content.decode()
    assert ">Heart size normal.</textarea>" in body


def test_draft_autosave_reports_errors_in_place(
    resident: Any, client_for: Any, report_set: Any, report_case: Any
) -> None:
    response = client_for(resident).post(
        reverse("reporting:draft", args=[report_set.pk, report_case.pk]),
        {"text": "z" * 20001},
        **HTMX,
    )
    assert response.status_code == 200 and "Draft not saved" in response.content.decode()


def test_submit_via_htmx_swaps_in_the_pending_live_region(
    resident: Any, client_for: Any, report_set: Any, report_case: Any
) -> None:
    key = uuid.uuid4().hex
    url = reverse("reporting:submit", args=[report_set.pk, report_case.pk])
    response = client_for(resident).post(url, {"text": CANDIDATE, "idempotency_key": key}, **HTMX)
    body = response.content.decode()
    attempt = ReportAttempt.objects.get()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert body.lstrip().startswith('<section id="report-work"')
    assert f'data-job="{attempt.job_id}"' in body
    assert 'hx-trigger="every 2s, refresh"' in body and 'hx-history="false"' in body
    assert f'data-clear-draft="{resident.pk}:{report_case.pk}"' in body
    assert "Scoring your report" in body
    # A double click sends the same key: same attempt, same page.
    again = client_for(resident).post(url, {"text": CANDIDATE, "idempotency_key": key}, **HTMX)
    assert again.status_code == 200 and ReportAttempt.objects.count() == 1


def test_submit_without_htmx_redirects_to_the_result(
    resident: Any, client_for: Any, report_set: Any, report_case: Any
) -> None:
    url = reverse("reporting:submit", args=[report_set.pk, report_case.pk])
    response = client_for(resident).post(
        url, {"text": CANDIDATE, "idempotency_key": uuid.uuid4().hex}
    )
    attempt = ReportAttempt.objects.get()
    assert response["Location"] == reverse("reporting:attempt", args=[attempt.pk])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write your findings before submitting."),
        ("    ", "Write your findings before submitting."),
        ("w" * (MAX_REPORT_CHARS + 1), "The findings are too long"),
        ("Lungs \x00\x07 clear", "control characters"),
    ],
)
def test_bad_submissions_come_back_as_form_errors(
    text: str, message: str, resident: Any, client_for: Any, report_set: Any, report_case: Any
) -> None:
    url = reverse("reporting:submit", args=[report_set.pk, report_case.pk])
    response = client_for(resident).post(
        url, {"text": text, "idempotency_key": uuid.uuid4().hex}, **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="field-error" role="alert"' in body and message in body
    assert "<textarea" in body  # the editor stays, with what was typed
    assert not ReportAttempt.objects.exists()
    assert CANARY not in body


def test_result_arrives_in_the_live_region(
    resident: Any, client_for: Any, report_set: Any, report_case: Any, submit: Any, finish: Any
) -> None:
    client = client_for(resident)
    attempt = submit(resident, report_case, report_set)
    url = reverse("reporting:attempt", args=[attempt.pk])
    pending = client.get(url, **HTMX).content.decode()
    assert "Scoring your report" in pending and f'data-job="{attempt.job_id}"' in pending
    finish(attempt)
    response = client.get(url, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert body.lstrip().startswith('<div id="report-result"')
    assert "hx-trigger" not in body and "data-job" not in body  # final: polling stops
    assert "50%" in body and "70%" in body and "clinical accuracy" in body
    assert "Missed finding" in body and "Effusion" in body and "actionable" in body
    assert "Not addressed: bones." in body and "Systematic coverage" in body
    assert "rougeL" in body and "bleu2" in body
    assert f"+{_xp(attempt)}" in body
    # The error points at its sentence on both sides, highlighted server-side.
    assert body.count('<mark class="hl hl-missed_finding" title="Error 1">') == 2
    assert '<mark class="hl hl-missed_finding" title="Error 1">No pleural effusion.</mark>' in body
    assert f"{CANARY}" in body  # the reference, now that the report is submitted
    assert "Reported correctly: Consolidation" in body
    assert "Next case" in body


def _xp(attempt: Any) -> int:
    attempt.refresh_from_db()
    return attempt.xp


def test_de_identification_masks_in_feedback_read_removed(
    resident: Any, client_for: Any, report_set: Any, report_case: Any, submit: Any, finish: Any
) -> None:
    """IU reports write each removed word as XXXX: the error quoting one reads "[removed]", not
    a raw XXXX (nor "not given", which turned "no XXXX of effusion" into nonsense)."""
    attempt = submit(resident, report_case, report_set)
    result = fake_result()
    result["errors"][0]["message"] = 'The reference says "There are no XXXX of an effusion."'
    finish(attempt, result=result)
    body = (
        client_for(resident).get(reverse("reporting:attempt", args=[attempt.pk])).content.decode()
    )
    assert "XXXX" not in body and "no not given of" not in body
    assert 'There are no <span class="masked"' in body and ">[removed]</span> of an" in body


def test_derived_reference_is_labelled(
    resident: Any, client_for: Any, report_set: Any, second_case: Any, submit: Any, finish: Any
) -> None:
    attempt = submit(resident, second_case, report_set)
    finish(attempt)
    body = (
        client_for(resident).get(reverse("reporting:attempt", args=[attempt.pk])).content.decode()
    )
    assert "derived from NIH labels and boxes, not a radiologist&#x27;s report" in body


def test_reload_of_a_submitted_case_shows_its_result(
    resident: Any, client_for: Any, report_set: Any, report_case: Any, submit: Any, finish: Any
) -> None:
    attempt = submit(resident, report_case, report_set)
    finish(attempt)
    body = (
        client_for(resident)
        .get(reverse("reporting:case", args=[report_set.pk, report_case.pk]))
        .content.decode()
    )
    assert 'id="report-result"' in body and "<textarea" not in body


def test_failed_scoring_shows_the_error_and_retry_works(
    resident: Any, client_for: Any, report_set: Any, report_case: Any, submit: Any, finish: Any
) -> None:
    client = client_for(resident)
    attempt = submit(resident, report_case, report_set)
    finish(attempt, error="reference: is 6000 characters long; the limit is 5000")
    body = client.get(reverse("reporting:attempt", args=[attempt.pk]), **HTMX).content.decode()
    assert "Scoring failed" in body and "the limit is 5000" in body and "Retry scoring" in body
    response = client.post(reverse("reporting:attempt_retry", args=[attempt.pk]), **HTMX)
    body = response.content.decode()
    attempt.refresh_from_db()
    assert attempt.status == "pending" and f'data-job="{attempt.job_id}"' in body
    # Retrying something that is not failed says why.
    again = client.post(reverse("reporting:attempt_retry", args=[attempt.pk]), **HTMX)
    assert "Only an attempt whose scoring failed" in again.content.decode()


def test_index_query_count_does_not_grow_with_sets(
    resident: Any, educator: Any, cohort: Any, client_for: Any, report_set: Any, report_case: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .conftest import make_set

    client = client_for(resident)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("reporting:index"))
    for number in range(4):
        make_set(owner=educator, cases=[report_case], cohort=cohort, name=f"Extra {number}")
    with CaptureQueriesContext(connection) as five:
        body = client.get(reverse("reporting:index")).content.decode()
    assert "Extra 3" in body
    assert len(five.captured_queries) == len(one.captured_queries)
