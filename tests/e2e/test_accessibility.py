"""Accessibility: axe-core in Debian chromium on every HTML page, as each kind of visitor.

The pages come from the authorization matrix (``tests/core/test_authz_matrix.py``): every GET
route that answers HTML, visited as anonymous where it is public, else as the resident and the
educator where the row allows them (the admin where only it may), on the matrix's world (a
cohort, a case in a set, a Localize and a Report result, an assessment, jobs). A new page route
gets its row there and so is checked here too. Pass: zero violations of impact "serious" or
"critical".

axe-core is the npm package pinned in package.json (``npm ci`` installs it: ``make e2e`` and
``.ci/run`` do); it is read from node_modules, never fetched, and injected as a driver init script,
which the pages' Content-Security-Policy does not govern.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.core.test_authz_matrix import GET, MATRIX, World, world  # noqa: F401
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.steps import PHONE, SETTLE, emphysema_films, open_case, wait_ready

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
# Rows that answer something other than a page: files, CSV, JSON, partials, redirects.
NOT_PAGES = {
    "healthz",
    "cases:image",
    "cases:image original",
    "progress:cohort_csv",
    "localization:attempt_explanations",
    "reporting:attempt_judge",
    "game:continue",
    "game:review",
    "api-schema",
}


def _visitors(allowed: frozenset[str]) -> list[str]:
    """Anonymous where the page is public; otherwise the resident and the educator where each
    may (the exercises show each its own controls); the admin where only it may (elsewhere it
    sees the educator's templates)."""
    if "anon" in allowed:
        return ["anon"]
    visitors = [persona for persona in ("resident", "educator") if persona in allowed]
    return visitors or (["admin"] if "admin" in allowed else [])


def _pages() -> list[tuple[str, str]]:
    return [
        (name, persona)
        for name, row in MATRIX.items()
        if row.method == GET
        and name not in NOT_PAGES
        and not name.startswith(("api-", "report-api"))
        for persona in _visitors(row.allowed)
    ]


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        message = f"{AXE.relative_to(REPO_ROOT)} is missing: run `npm ci` (make e2e does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def _session_cookie(user: Any, base_url: str) -> dict[str, Any]:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    name = django_settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value, "url": base_url}


def _run_axe(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(
        """async () => {
          const result = await axe.run(document, { resultTypes: ["violations"] });
          return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(
              (n) => `${n.target.join(" ")} (${(n.failureSummary || "").slice(0, 160)})`),
          }));
        }"""
    )


def violations_of(page: Any, url: str) -> list[dict[str, Any]]:
    """The serious and critical axe violations of ``url`` once it has settled."""
    page.goto(url, wait_until="load")
    page.evaluate(SETTLE)  # custom elements rendered, load-triggered partials requested
    return [v for v in _run_axe(page) if v["impact"] in BLOCKING]


def _report(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for where, items in found.items():
        for item in items:
            lines.append(
                f"{where}: [{item['impact']}] {item['id']}: {item['help']} {item['nodes']}"
            )
    return "\n".join(lines)


def test_every_page_has_no_serious_violation(
    make_page: Any,
    live_server: Any,
    world: World,  # noqa: F811 (the matrix's fixture, imported above)
    axe_source: str,
    educator: Any,
    admin_user: Any,
) -> None:
    users = {"resident": world.resident, "educator": educator, "admin": admin_user}
    pages: dict[str, Any] = {}
    found: dict[str, list[dict[str, Any]]] = {}
    visited = 0
    for name, persona in _pages():
        if persona not in pages:
            page = make_page()
            page.context.add_init_script(script=axe_source)
            # No websocket server behind live_server: the live regions fall back to polling.
            page.route_web_socket(re.compile(r".*/ws/.*"), lambda ws: None)
            if persona != "anon":
                page.context.add_cookies([_session_cookie(users[persona], live_server.url)])
            pages[persona] = page
        url = live_server.url + MATRIX[name].url(world)
        # A route added later that answers a file (a CSV export, say) is not a page to audit:
        # ask first, and audit only what comes back as HTML.
        answer = pages[persona].request.get(url)
        if "text/html" not in answer.headers.get("content-type", ""):
            continue
        problems = violations_of(pages[persona], url)
        visited += 1
        if problems:
            found[f"{name} as {persona} ({url})"] = problems
    assert visited >= 35  # every page route, as each of its kinds of visitor
    assert not found, "axe: serious or critical violations\n" + _report(found)


def test_axe_catches_a_violation(
    make_page: Any, page_problems: list[str], static_server: Any, axe_source: str, tmp_path: Path
) -> None:
    """The check has teeth: an image without alt text and an unlabelled input are reported."""
    (tmp_path / "bad.html").write_text(
        '<!doctype html><html lang="en"><title>bad</title><main>'
        '<img src="x.png"><input type="text"></main></html>'
    )
    page = make_page()
    page.context.add_init_script(script=axe_source)
    url = static_server.mount("/a11y-fixture/", tmp_path) + "bad.html"
    ids = {v["id"] for v in violations_of(page, url)}
    assert {"image-alt", "label"} <= ids
    page_problems.clear()  # the missing x.png's 404 is this fixture's own doing


def _blocking(page: Any) -> list[dict[str, Any]]:
    page.evaluate(SETTLE)
    return [v for v in _run_axe(page) if v["impact"] in BLOCKING]


def test_the_hint_panel_in_each_of_its_states_has_no_serious_violation(
    make_page: Any,
    live_server: Any,
    axe_source: str,
    educator: Any,
    cohort: Any,
    resident: Any,
    page_problems: list[str],
) -> None:
    """The pages above show the panel before any hint; a hint's answer is swapped in by htmx.
    Audited here: offered, two hints taken (the list, the count, the disabled button), and a
    refused hint (its reason in the alert region)."""
    from apps.exercises.hint_text import SYSTEM_HINTS
    from apps.exercises.models import CaseReveal

    case_set, cases = emphysema_films(educator, cohort, 2, name="Hint set")
    page = make_page()
    page.context.add_init_script(script=axe_source)
    page.route_web_socket(re.compile(r".*/ws/.*"), lambda ws: None)
    page.context.add_cookies([_session_cookie(resident, live_server.url)])
    found: dict[str, list[dict[str, Any]]] = {}

    def case_page(case: Any) -> None:
        page.goto(f"{live_server.url}/localize/sets/{case_set.pk}/cases/{case.pk}/")
        wait_ready(page)
        assert page.locator("#hints").is_visible()

    case_page(cases[0])
    found["offered"] = _blocking(page)
    page.locator("#hint-button").click()
    page.wait_for_selector("#hint-live li")
    assert SYSTEM_HINTS["lungs"] in page.locator("#hint-live").inner_text()
    page.locator("#hint-button").click()
    page.wait_for_selector("#hint-live li:nth-child(2)")
    assert page.locator("#hint-button").is_disabled()
    found["two hints taken"] = _blocking(page)

    case_page(cases[1])
    CaseReveal.objects.create(
        user=resident, case=cases[1], exercise="report", revealed_at=cases[1].created_at
    )
    page.locator("#hint-button").click()
    page.locator("#hint-error").wait_for(state="visible")
    found["hint refused"] = _blocking(page)
    # The browser logs the 400 it was meant to get; nothing else may be logged.
    expected = [p for p in page_problems if "status of 400" in p]
    assert len(expected) == 1
    page_problems.remove(expected[0])
    found = {state: items for state, items in found.items() if items}
    assert not found, "axe: serious or critical violations\n" + _report(found)


def test_the_localize_toolbar_on_a_phone_has_no_serious_violation_with_its_key_list_open(
    make_page: Any,
    live_server: Any,
    axe_source: str,
    educator: Any,
    cohort: Any,
    resident: Any,
) -> None:
    """The pages above are audited on a desktop screen with every list closed. On a phone the
    toolbar wraps and the open key list scrolls within the screen: a scroller keyboards must be
    able to reach."""
    case_set, cases = emphysema_films(educator, cohort, 1, name="Phone set")
    page = make_page(**PHONE)
    page.context.add_init_script(script=axe_source)
    page.route_web_socket(re.compile(r".*/ws/.*"), lambda ws: None)
    page.context.add_cookies([_session_cookie(resident, live_server.url)])
    open_case(page, live_server.url, case_set, cases[0])
    found = {"closed": _blocking(page)}
    page.locator("cxr-viewer .cxr-help > summary").tap()
    keys = page.locator("cxr-viewer .cxr-help dl")
    keys.wait_for(state="visible")
    assert keys.evaluate("(e) => e.scrollHeight > e.clientHeight")  # it does scroll here
    found["key list open"] = _blocking(page)
    found = {state: items for state, items in found.items() if items}
    assert not found, "axe: serious or critical violations\n" + _report(found)
