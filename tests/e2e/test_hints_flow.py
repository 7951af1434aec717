"""Hints in a real browser (Debian chromium): a resident asks for a hint, then a second one from
the keyboard, reads them in the live region, submits, and sees the XP the hints cost; a refused
hint says why; on a 390 x 844 phone the hint panel and the home's goal bar stay inside their
cards."""

from __future__ import annotations

import os
from typing import Any

import pytest

from apps.exercises.hint_text import AREA_HINTS, SYSTEM_HINTS
from apps.exercises.xp import HINT_XP, xp_for
from tests.e2e.steps import (
    PHONE,
    emphysema_films,
    log_in,
    mute_live_socket,
    open_case,
    tick_and_submit,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def films(educator: Any, cohort: Any, resident: Any) -> tuple[Any, list[Any]]:
    """Two films with emphysema (ticked from the checklist) in one active practice set."""
    return emphysema_films(educator, cohort, 2, name="Hint set")


def test_a_resident_takes_two_hints_and_the_result_shows_their_cost(
    browser_page,
    live_server,
    resident,
    films,
):
    from apps.localization.models import LocalizationAttempt

    page = browser_page
    case_set, cases = films
    log_in(page, live_server.url, "resident")
    open_case(page, live_server.url, case_set, cases[0])
    live = page.locator("#hint-live")
    assert live.get_attribute("aria-live") == "polite" and live.inner_text().strip() == ""

    page.get_by_role("button", name=f"Hint (−{HINT_XP} XP)").click()
    page.wait_for_selector("#hint-live li")
    assert live.locator("li").all_inner_texts() == [SYSTEM_HINTS["lungs"]]
    assert f"1 of 2 hints used (−{HINT_XP} XP)" in live.inner_text()
    assert "Emphysema" not in live.inner_text()

    # The second from the keyboard: focus the button, press Enter.
    page.locator("#hint-button").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#hint-live li:nth-child(2)")
    assert live.locator("li").all_inner_texts() == [SYSTEM_HINTS["lungs"], AREA_HINTS["Emphysema"]]
    button = page.locator("#hint-button")
    assert button.is_disabled() and button.inner_text() == "No more hints"

    tick_and_submit(page, "Emphysema")
    attempt = LocalizationAttempt.objects.get(user=resident)
    full = xp_for(
        score=1.0, blank=False, post_reveal=False, difficulty=cases[0].difficulty, replay_xp_today=0
    )
    assert attempt.hints_used == 2 and attempt.xp == full - 2 * HINT_XP
    summary = page.locator(".localize-summary").inner_text()
    assert f"+{attempt.xp}" in summary and f"2 hints used (−{2 * HINT_XP} XP)" in summary


def test_a_refused_hint_says_why(
    browser_page,
    live_server,
    resident,
    films,
    page_problems,
):
    from apps.exercises.hints import NOT_AFTER_REVEAL
    from apps.exercises.models import CaseReveal

    page = browser_page
    case_set, cases = films
    log_in(page, live_server.url, "resident")
    open_case(page, live_server.url, case_set, cases[0])
    # Meanwhile the answer is shown to the resident (another tab submitted the Report).
    CaseReveal.objects.create(
        user=resident, case=cases[0], exercise="report", revealed_at=cases[0].created_at
    )
    page.get_by_role("button", name=f"Hint (−{HINT_XP} XP)").click()
    alert = page.locator("#hint-error")
    alert.wait_for(state="visible")
    assert alert.get_attribute("role") == "alert" and NOT_AFTER_REVEAL in alert.inner_text()
    assert page.locator("#hint-live li").count() == 0
    # The browser logs the 400 it was meant to get; nothing else may be logged.
    expected = [p for p in page_problems if "status of 400" in p]
    assert len(expected) == 1
    page_problems.remove(expected[0])


def test_on_a_phone_the_hint_panel_and_the_goal_bar_fit_their_cards(
    make_page, live_server, resident, films, tmp_path
):
    page = make_page(**PHONE)
    mute_live_socket(page)
    case_set, cases = films
    log_in(page, live_server.url, "resident")
    page.screenshot(path=str(tmp_path / "home-390.png"), full_page=True)
    overflow = page.evaluate(
        """() => {
          const card = document.querySelector('#game');
          const style = getComputedStyle(card);
          const inner = card.getBoundingClientRect().right - parseFloat(style.paddingRight)
            - parseFloat(style.borderRightWidth);
          const bar = document.querySelector('#goal progress').getBoundingClientRect();
          return {bar: bar.right, inner, page: document.scrollingElement.scrollWidth};
        }"""
    )
    assert overflow["bar"] <= overflow["inner"] + 0.5, overflow
    assert overflow["page"] <= 390, overflow

    open_case(page, live_server.url, case_set, cases[0])
    button = page.locator("#hint-button")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    button.tap()
    page.wait_for_selector("#hint-live li")
    hints = page.locator("#hints").bounding_box()
    assert hints["x"] >= 0 and hints["x"] + hints["width"] <= 390
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "case-390.png"), full_page=True)


def test_the_report_page_offers_hints_beside_the_editor(
    browser_page,
    live_server,
    resident,
    films,
):
    page = browser_page
    case_set, cases = films
    from apps.cases.services import case_report_write

    case_report_write(
        actor=case_set.owner, case=cases[1], findings="Hyperexpanded lungs.", impression=""
    )
    log_in(page, live_server.url, "resident")
    page.goto(f"{live_server.url}/report/sets/{case_set.pk}/cases/{cases[1].pk}/")
    page.locator("#report-text").fill("Lungs are clear.")
    page.get_by_role("button", name=f"Hint (−{HINT_XP} XP)").click()
    page.wait_for_selector("#hint-live li")
    assert page.locator("#hint-live li").all_inner_texts() == [SYSTEM_HINTS["lungs"]]
    assert page.locator("#report-text").input_value() == "Lungs are clear."  # the text stays
