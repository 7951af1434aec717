"""The game loop in a real browser (Debian chromium): a resident plays three cases and the home
page shows the XP, today's goal, the streak and a badge; the finding missed on the first case
comes due and Continue serves it on a different case with that finding."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.game.models import ReviewItem
from apps.progress.streaks import DAILY_GOAL_CASES
from tests.e2e.htmx import htmx_ready
from tests.e2e.steps import emphysema_films, log_in, open_case, tick_and_submit, wait_ready

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def cases(educator: Any, cohort: Any, resident: Any) -> tuple[Any, list[Any]]:
    """Four films with emphysema (a finding ticked from the checklist), in one practice set."""
    return emphysema_films(educator, cohort, 4, name="Game set")


def _play(page: Any, url: str, case_set: Any, case: Any, tick: str) -> None:
    open_case(page, url, case_set, case)
    tick_and_submit(page, tick)


def test_three_cases_then_a_review_on_another_film(
    browser_page,
    live_server,
    resident,
    cases,
):
    page = browser_page
    case_set, films = cases
    log_in(page, live_server.url, "resident")
    assert "None yet." in page.locator("#badges").inner_text()

    _play(page, live_server.url, case_set, films[0], "No finding")  # misses the emphysema
    _play(page, live_server.url, case_set, films[1], "Emphysema")
    _play(page, live_server.url, case_set, films[2], "Emphysema")

    page.goto(f"{live_server.url}/")
    assert re.search(r"Level 1 · \d+ of 250 XP to level 2", page.locator("#level").inner_text())
    assert f"3 of {DAILY_GOAL_CASES} cases" in page.locator("#goal").inner_text()
    assert page.locator("#streak").inner_text().startswith("1 day")
    assert "First perfect case" in page.locator("#badges").inner_text()
    assert page.locator("#reviews-due").inner_text().startswith("0")

    # The missed emphysema comes due (as it would tomorrow) ...
    item = ReviewItem.objects.get(user=resident, label="Emphysema")
    assert item.source_case_id == films[0].pk
    ReviewItem.objects.filter(pk=item.pk).update(due=timezone.now() - timedelta(minutes=1))
    page.goto(f"{live_server.url}/")
    assert page.locator("#reviews-due").inner_text().startswith("1")
    # ... and Continue serves it on a film the resident has not seen, never the missed one.
    page.locator("#continue").click()
    page.wait_for_url(re.compile(rf".*/localize/sets/{case_set.pk}/cases/{films[3].pk}/$"))
    wait_ready(page)
    assert "Emphysema" not in page.locator("h1").inner_text()  # nothing says what is re-tested
    tick_and_submit(page, "Emphysema")
    item.refresh_from_db()
    assert item.reviews == 1 and item.misses == 1  # found: rated Good, due another day
    assert item.due > timezone.now() + timedelta(hours=20)
    page.goto(f"{live_server.url}/game/mistakes/")
    assert "Emphysema" in page.locator("table").inner_text()

    # The assigned set is a link named by the set, with its progress; from the keyboard it
    # opens the set (all four played: its results).
    page.goto(f"{live_server.url}/")
    htmx_ready(page, "body")
    assigned = page.locator("#assignments li", has_text="Game set")
    assert "4 of 4 cases done" in assigned.inner_text()
    link = page.locator("#assignments").get_by_role("link", name="Game set")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/localize/sets/{case_set.pk}/$"))


def test_a_guided_case_shows_the_worked_example_first(
    browser_page,
    live_server,
    resident,
    educator,
    cases,
):
    from apps.cases.services.sets import case_set_update
    from apps.localization.models import LocalizationAttempt

    page = browser_page
    case_set, films = cases
    case_set_update(actor=educator, case_set=case_set, practice_mode="guided")
    log_in(page, live_server.url, "resident")
    open_case(page, live_server.url, case_set, films[0])
    example = page.locator("#worked-example")
    assert "Emphysema" in example.inner_text() and "Hyperlucent." in example.inner_text()
    example_top = example.bounding_box()["y"]
    assert example_top < page.locator("#localize-form").bounding_box()["y"]  # shown first
    tick_and_submit(page, "Emphysema")
    attempt = LocalizationAttempt.objects.get(user=resident)
    assert attempt.mode == "guided" and attempt.post_reveal  # no accuracy credit
