"""S10: htmx attributes in text people write never make the browser ask for anything, and no
answer or score lands in localStorage.

The educator's reference report and the resident's own answer both carry htmx markup that would
fire at once if it were live (``hx-get`` with ``hx-trigger="load"``, ``hx-post``, ``hx-boost``, an
image, ``hx-on``); the resident submits and reads the result page, where both are shown. Every
request the page makes is logged through Playwright's routing: none may go to the canary paths.
Then localStorage is dumped: no ground-truth canary and no score.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.e2e.steps import log_in
from tests.reporting.conftest import CANARY, REFERENCE, make_case, make_set

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TRAP = "/hx-canary"


def payloads(who: str) -> str:
    return (
        f'<div hx-get="{TRAP}/{who}/load" hx-trigger="load">a</div> '
        f'<button hx-post="{TRAP}/{who}/post" hx-trigger="load">b</button> '
        f'<a href="{TRAP}/{who}/boost" hx-boost="true">c</a> '
        f'<img src="{TRAP}/{who}/img"> '
        f"<span hx-on:htmx:load=\"fetch('{TRAP}/{who}/on')\">d</span>"
    )


def trap_canaries(page: Any) -> tuple[list[str], list[str]]:
    """Log every request the page makes, and answer the canary paths with a 404 (so a live
    trigger could not fail silently): returns (every URL asked for, the canary ones)."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    trapped: list[str] = []

    def trap(route: Any) -> None:
        trapped.append(route.request.url)
        route.fulfill(status=404, body="")

    page.route(f"**{TRAP}/**", trap)
    return requests, trapped


def leave(page: Any, page_problems: list[str]) -> None:
    """Leave the page, closing its websocket before the server stops. Leaving aborts a poll in
    flight (a live region polls every few seconds): that is htmx reporting the navigation, not
    the injected markup (which made no request at all), so it is not a page problem."""
    page.goto("about:blank")
    page_problems[:] = [
        p
        for p in page_problems
        if not p.startswith(("console.error: htmx:sendAbort", "console.error: htmx:afterRequest"))
    ]


def test_htmx_markup_in_reports_triggers_nothing_and_nothing_is_stored(
    asgi_server: str,
    page: Any,
    page_problems: list[str],
    resident: Any,
    educator: Any,
    cohort: Any,
) -> None:
    case = make_case(owner=educator, title="Injected", findings=f"{REFERENCE} {payloads('gt')}")
    make_set(owner=educator, cases=[case], cohort=cohort, name="Injection set")
    requests, trapped = trap_canaries(page)

    log_in(page, asgi_server, resident.username)
    page.goto(f"{asgi_server}/report/")
    page.click("text=Start")
    page.wait_for_selector("cxr-viewer[data-state=ready]", timeout=15000)
    page.locator("#report-text").fill(f"Right lower lobe consolidation. {payloads('resident')}")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#report-result[data-status=scored]", timeout=60000)
    page.wait_for_timeout(1500)  # anything a load trigger would fire has fired by now
    result = page.locator("#report-result").inner_text()
    assert CANARY in result and 'hx-trigger="load"' in result  # shown, as text

    assert not trapped, trapped
    assert not [url for url in requests if TRAP in url]
    stored = page.evaluate("JSON.stringify(Object.assign({}, window.localStorage))")
    assert CANARY not in stored
    assert "clinical accuracy" not in stored.lower() and "score" not in stored.lower()
    leave(page, page_problems)
