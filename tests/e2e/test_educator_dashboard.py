"""The educator's dashboard in a real browser: open the cohort dashboard, read a plot, drill down
to a resident and to one of their results, and download the attempts export."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest

from apps.analytics.exports import ATTEMPT_COLUMNS
from tests.analytics.conftest import Played, build_played
from tests.e2e.steps import log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def played(educator: Any, cohort: Any, resident: Any) -> Played:
    return build_played(educator, cohort, resident)


def test_educator_reads_the_dashboard_drills_down_and_exports(
    live_server: Any,
    browser_page: Any,
    cohort: Any,
    played: Played,
    tmp_path: Path,
) -> None:
    base = live_server.url
    page = browser_page
    log_in(page, base, "educator")

    page.goto(f"{base}/cohorts/{cohort.pk}/")
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_selector("h1:has-text('Dashboard of')")
    assert "Practice set: 1 case left" in page.locator("[data-resident=resident]").inner_text()

    plot = page.get_by_role("img", name="Cohort learning curve")
    plot.scroll_into_view_if_needed()
    assert plot.is_visible()
    assert plot.locator("g.series").count() == 2  # Localize and Report, each labelled in place

    page.get_by_role("link", name="resident", exact=True).click()
    page.wait_for_selector("h2:has-text('Every attempt')")
    assert page.locator("tr[data-attempt]").count() == 4
    assert page.get_by_role("img", name="FROC curve of resident").is_visible()
    page.locator(f"tr[data-attempt='localize-{played.chest.pk}'] a", has_text="result").click()
    page.wait_for_selector("[data-reviewing]")
    assert "read only" in page.locator("[data-reviewing]").inner_text()

    page.goto(f"{base}/analytics/cohorts/{cohort.pk}/")
    with page.expect_download() as download:
        page.locator("a[data-export='attempts.csv']").click()
    path = tmp_path / "attempts.csv"
    download.value.save_as(path)
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(ATTEMPT_COLUMNS) and len(rows) == 5
