"""S10 from the other side: the educator's own pages that show what a resident wrote never make
the browser ask for anything.

A resident writes htmx markup that would fire at once if it were live into the two things of
theirs an educator reads: a Report answer (``hx-get`` with ``hx-trigger="load"``, ``hx-post``,
``hx-boost``, an image, ``hx-on``, see test_htmx_injection.payloads) and their display name (an
image and a load-triggered ``hx-get``: the name field holds 120 characters). The educator then
opens every page of theirs that shows either: the resident's Report and Localize attempts as they
review them, the resident's drill-down, the cohort analytics and findings, the progress table, the
cohort's member list and its leaderboard. Every request is logged through Playwright's routing:
none may go to the canary paths, and the markup is shown as text where the page shows it.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import pytest
from django.urls import reverse

from tests.e2e.steps import SETTLE, log_in
from tests.e2e.test_htmx_injection import TRAP, leave, payloads, trap_canaries
from tests.reporting.conftest import REFERENCE, make_case, make_set

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NAME = f'<img src="{TRAP}/name/img"><b hx-get="{TRAP}/name/load" hx-trigger="load">n</b>'
ANSWER = f"Right lower lobe consolidation. {payloads('resident')}"
LIVE_IF_PARSED = f'hx-get="{TRAP}/resident/load" hx-trigger="load"'


def residents_work(resident: Any, educator: Any, cohort: Any) -> tuple[Any, Any, Any]:
    """The resident's name and one attempt in each exercise, set up through the services (Report
    is scored in-process at the commit, as the test settings run jobs)."""
    from apps.accounts.services import user_update_profile
    from apps.localization.services import localization_attempt_submit
    from apps.reporting.services import report_attempt_submit

    assert len(NAME) <= 120  # kept whole by user_update_profile
    user_update_profile(user=resident, display_name=NAME, email=resident.email)
    case = make_case(owner=educator, title="Injected", findings=REFERENCE)
    case_set = make_set(owner=educator, cases=[case], cohort=cohort, name="Injection set")
    report, _ = report_attempt_submit(
        user=resident,
        case=case,
        case_set=case_set,
        text=ANSWER,
        idempotency_key=uuid.uuid4().hex,
    )
    localize = localization_attempt_submit(
        user=resident,
        case=case,
        case_set=case_set,
        marks_json='{"boxes": []}',
        selected=["Effusion"],
        idempotency_key=uuid.uuid4(),
    ).attempt
    return report, localize, case_set


def test_residents_htmx_markup_triggers_nothing_on_the_educators_pages(
    asgi_server: str,
    page: Any,
    page_problems: list[str],
    resident: Any,
    educator: Any,
    cohort: Any,
) -> None:
    report, localize, _ = residents_work(resident, educator, cohort)
    c, r = cohort.pk, resident.pk
    # Each page, and the resident's text it must show (as text): none where it shows it only
    # in some states (a leaderboard lists residents who opted in).
    pages: list[tuple[str, list[str]]] = [
        (reverse("reporting:attempt", args=[report.pk]), [LIVE_IF_PARSED, NAME]),
        (reverse("localization:attempt", args=[localize.pk]), [NAME]),
        (reverse("analytics:resident", args=[c, r]), [NAME]),
        (reverse("analytics:cohort", args=[c]), [NAME]),
        (reverse("analytics:findings", args=[c]), []),
        (reverse("progress:cohort", args=[c]), [NAME]),
        (reverse("cohorts:detail", args=[c]), [NAME]),
        (reverse("game:cohort_leaderboard", args=[c]), []),
    ]
    requests, trapped = trap_canaries(page)
    log_in(page, asgi_server, educator.username)

    started = time.monotonic()
    for path, shown in pages:
        response = page.goto(f"{asgi_server}{path}")
        assert response is not None and response.status == 200, (path, response)
        page.wait_for_load_state("load")
        page.evaluate(SETTLE)
        page.wait_for_timeout(500)  # anything a load trigger would fire has fired by now
        text = page.locator("main").inner_text() if page.locator("main").count() else ""
        text = text or page.locator("body").inner_text()
        for expected in shown:
            assert expected in text, (path, expected)
    seconds = time.monotonic() - started

    assert not trapped, trapped
    assert not [url for url in requests if TRAP in url]
    print(f"{len(pages)} educator pages, 0 canary requests, {seconds:.1f} s")
    leave(page, page_problems)
