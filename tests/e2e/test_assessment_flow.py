"""An assessment in a real browser: while it is open the resident's Localize and Report answers
show no score, reference, explanation or XP; once the educator closes it, they do."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.htmx import htmx_ready
from tests.e2e.steps import log_in, mute_live_socket
from tests.localization.conftest import build_set
from tests.reporting.conftest import CANARY, make_case

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("RADGAME_E2E_SHOTS", "/tmp/radgame-e2e"))


@pytest.fixture
def exam(educator: Any, cohort: Any, resident: Any) -> Any:
    # Two cases, so answering one in each exercise leaves the assessment unfinished.
    cases = [make_case(owner=educator, title=f"Exam case {n}") for n in (1, 2)]
    return build_set(educator, cohort, cases, name="Final exam", mode="assessment")


def _page(make_page: Any) -> Any:
    page = make_page()
    mute_live_socket(page)
    return page


def _shows_nothing(page: Any, region: str) -> None:
    html = page.content()
    assert CANARY not in html
    assert not re.search(r"\d+%", page.locator(region).inner_text())  # no score
    assert "XP earned" not in html and "Reference report" not in html


def test_an_open_assessment_reveals_nothing_until_the_educator_closes_it(
    live_server: Any, make_page: Any, exam: Any
) -> None:
    from apps.localization.models import LocalizationAttempt
    from apps.reporting.models import ReportAttempt

    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    resident = _page(make_page)
    log_in(resident, base, "resident")

    # Localize: tick a finding of the checklist and submit the first case.
    resident.goto(f"{base}/localize/sets/{exam.pk}/play/")
    resident.wait_for_selector("cxr-viewer")
    resident.locator("input[name=selected]").first.check()
    resident.get_by_role("button", name="Submit answer").click()
    resident.wait_for_selector("#result-title:has-text('answer recorded')")
    _shows_nothing(resident, "#localize-result")
    localize_attempt = LocalizationAttempt.objects.get()
    resident.goto(f"{base}/localize/attempts/{localize_attempt.pk}/")
    _shows_nothing(resident, "#localize-result")

    # Report: write the findings of the first case and submit.
    resident.goto(f"{base}/report/sets/{exam.pk}/play/")
    htmx_ready(resident, "#report-text")
    resident.locator("#report-text").fill("Small left pleural effusion. Lungs otherwise clear.")
    resident.locator("#report-text").blur()
    resident.wait_for_selector("#draft-status:has-text('Draft saved')")
    resident.click("#report-form button[type=submit]")
    resident.wait_for_selector(".report-held")
    _shows_nothing(resident, "#report-result")
    resident.screenshot(path=str(SHOTS / "assessment-held.png"), full_page=True)
    report_attempt = ReportAttempt.objects.get()
    report_attempt.refresh_from_db()
    assert report_attempt.status == "scored"  # scored on the server, not shown
    resident.goto(f"{base}/report/attempts/{report_attempt.pk}/")
    _shows_nothing(resident, "#report-result")
    for api in (
        f"/api/v1/localize/attempts/{localize_attempt.pk}/",
        f"/api/v1/report/attempts/{report_attempt.pk}/",
    ):
        body = resident.request.get(f"{base}{api}").text()
        assert CANARY not in body and '"score":null' in body.replace(" ", "")
    assert resident.request.get(f"{base}/api/v1/jobs/{report_attempt.job_id}/").status == 404
    resident.goto(f"{base}/")
    assert "Play your first case" in resident.content()  # no XP, no accuracy yet

    # The educator closes the assessment.
    educator = _page(make_page)
    log_in(educator, base, "educator")
    educator.goto(f"{base}/cases/sets/{exam.pk}/")
    educator.get_by_role("link", name=re.compile("^Assessment")).click()
    educator.get_by_role("button", name="Close the assessment").click()
    educator.wait_for_selector("text=Closed")

    # Now the resident sees everything.
    resident.goto(f"{base}/report/attempts/{report_attempt.pk}/")
    resident.wait_for_selector("#report-result[data-status=scored]")
    assert CANARY in resident.content() and "clinical accuracy" in resident.content()
    resident.goto(f"{base}/localize/attempts/{localize_attempt.pk}/")
    assert resident.locator("[data-score]").count() == 1
    assert "XP earned" in resident.content()
    resident.screenshot(path=str(SHOTS / "assessment-closed.png"), full_page=True)
    resident.goto(f"{base}/")
    assert "Cases read" in resident.content()
