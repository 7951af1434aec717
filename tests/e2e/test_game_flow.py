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
from tests.e2e.test_localize_flow import browser_page, log_in, wait_ready  # noqa: F401
from tests.localization.conftest import build_case, build_set, truth

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def cases(educator: Any, cohort: Any, resident: Any) -> tuple[Any, list[Any]]:
    """Four films with emphysema (a finding ticked from the checklist), in one practice set."""
    films = [
        build_case(educator, title=f"Film {n}", findings=[truth("Emphysema", [], "Hyperlucent.")])
        for n in range(4)
    ]
    return build_set(educator, cohort, films, name="Game set"), films


def _play(page: Any, url: str, case_set: Any, case: Any, tick: str) -> None:
    page.goto(f"{url}/localize/sets/{case_set.pk}/cases/{case.pk}/")
    wait_ready(page)
    page.locator(f"input[name=selected][value='{tick}']").first.check()
    page.get_by_role("button", name="Submit answer").click()
    page.wait_for_selector("#localize-result", timeout=15_000)


def test_three_cases_then_a_review_on_another_film(
    browser_page,  # noqa: F811  (the fixture imported above)
    live_server,
    resident,
    cases,
):
    page = browser_page
    case_set, films = cases
    log_in(page, live_server, "resident")
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
    page.locator("input[name=selected][value='Emphysema']").first.check()
    page.get_by_role("button", name="Submit answer").click()
    page.wait_for_selector("#localize-result", timeout=15_000)
    item.refresh_from_db()
    assert item.reviews == 1 and item.misses == 1  # found: rated Good, due another day
    assert item.due > timezone.now() + timedelta(hours=20)
    page.goto(f"{live_server.url}/game/mistakes/")
    assert "Emphysema" in page.locator("table").inner_text()


def test_a_guided_case_shows_the_worked_example_first(
    browser_page,  # noqa: F811  (the fixture imported above)
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
    log_in(page, live_server, "resident")
    page.goto(f"{live_server.url}/localize/sets/{case_set.pk}/cases/{films[0].pk}/")
    wait_ready(page)
    example = page.locator("#worked-example")
    assert "Emphysema" in example.inner_text() and "Hyperlucent." in example.inner_text()
    example_top = example.bounding_box()["y"]
    assert example_top < page.locator("#localize-form").bounding_box()["y"]  # shown first
    page.locator("input[name=selected][value='Emphysema']").first.check()
    page.get_by_role("button", name="Submit answer").click()
    page.wait_for_selector("#localize-result", timeout=15_000)
    attempt = LocalizationAttempt.objects.get(user=resident)
    assert attempt.mode == "guided" and attempt.post_reveal  # no accuracy credit
