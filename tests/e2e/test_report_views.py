"""A study with several views in the Report exercise, in a real browser on the real server.

An IU X-ray study (frontal and lateral, the radiologist's own report) is imported from the bundled
demo data; the resident switches views with the mouse (thumbnails) and the keyboard ("[" / "]",
arrow keys in the strip), each view keeps its own zoom and window, then writes and submits a report
and gets feedback against the radiologist's text. Screenshots go to tests/.artifacts/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BUNDLE = Path(settings.BASE_DIR) / "data" / "iu-demo"
ARTIFACTS = Path(settings.BASE_DIR) / "tests" / ".artifacts"
STUDY_FILES = ["CXR7_IM-2263-1001.png", "CXR7_IM-2263-2001.png"]  # IU study 7: frontal, lateral
ZOOM = "(i) => document.querySelectorAll('cxr-views > cxr-viewer')[i].viewport.zoom"


@pytest.fixture
def iu_study(educator: Any, cohort: Any, resident: Any, tmp_path: Path) -> Any:
    from apps.cases.importers import import_path
    from apps.cases.models import CaseSet
    from apps.cases.services import case_set_assign

    root = tmp_path / "iu"
    (root / "images").mkdir(parents=True)
    for name in STUDY_FILES:
        shutil.copy(BUNDLE / "images" / name, root / "images" / name)
    for name in ("indiana_reports.csv", "indiana_projections.csv"):
        shutil.copy(BUNDLE / name, root / name)
    summary = import_path("reports", root, owner=educator, case_set_name="IU", publish=True)
    assert summary.created == 1, summary.as_dict()
    case_set = CaseSet.objects.get(name="IU")
    case_set_assign(actor=educator, case_set=case_set, cohort=cohort)
    return case_set


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"report-views-{name}.png"), full_page=True)


def _active(page: Any) -> str:
    return page.locator("cxr-views").get_attribute("data-active-view")


def test_switch_views_by_mouse_and_keyboard_then_report(
    asgi_server: str, page: Any, iu_study: Any
) -> None:
    page.goto(f"{asgi_server}/accounts/login/")
    page.fill("input[name=username]", "resident")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{asgi_server}/")
    page.goto(f"{asgi_server}/report/")
    page.click("text=Start")
    page.wait_for_selector("cxr-views cxr-viewer.cxr-view-active[data-state=ready]")
    tabs = page.locator(".cxr-views-tab")
    assert tabs.count() == 2
    assert [tabs.nth(i).inner_text() for i in range(2)] == ["1 · Frontal", "2 · Lateral"]
    assert _active(page) == "0"
    assert tabs.nth(0).get_attribute("aria-selected") == "true"
    _shot(page, "1-frontal")

    # Mouse: the lateral thumbnail shows the lateral view; zoom it in.
    tabs.nth(1).click()
    assert _active(page) == "1"
    lateral = page.locator("cxr-views > cxr-viewer").nth(1)
    assert lateral.is_visible() and tabs.nth(1).get_attribute("aria-selected") == "true"
    page.wait_for_selector("cxr-views > cxr-viewer:nth-of-type(2)[data-state=ready]")
    lateral.locator(".cxr-stage").focus()
    for _ in range(3):
        page.keyboard.press("+")
    lateral_zoom = page.evaluate(ZOOM, 1)
    assert lateral_zoom > 1.9
    _shot(page, "2-lateral-zoomed")

    # Keyboard: "[" from inside the lateral viewer goes back to the frontal, unzoomed.
    page.keyboard.press("[")
    assert _active(page) == "0"
    assert page.evaluate(ZOOM, 0) == 1
    # The strip follows the tabs pattern: focus a thumbnail, arrows move between views.
    tabs.nth(0).focus()
    page.keyboard.press("ArrowRight")
    assert _active(page) == "1"
    assert page.evaluate("document.activeElement.textContent") == "2 · Lateral"
    assert page.evaluate(ZOOM, 1) == lateral_zoom  # the lateral kept its zoom
    page.keyboard.press("Home")
    assert _active(page) == "0"
    page.keyboard.press("]")
    assert _active(page) == "1"
    # Keys typed in the report box are text, never view switches.
    editor = page.locator("#report-text")
    editor.click()
    editor.press_sequentially("Mild basilar atelectasis [left]. ", delay=5)
    assert _active(page) == "1"
    editor.press_sequentially(
        "The heart is normal in size. The lungs are clear. Thoracic spondylosis.", delay=2
    )
    # Leaving the box saves the draft; let that finish so the submit does not abort it.
    with page.expect_response(lambda r: "/draft/" in r.url, timeout=10000):
        editor.evaluate("(e) => e.blur()")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#report-result[data-status=scored]", timeout=60000)
    result = page.locator("#report-result").inner_text()
    assert "Reference report" in result and "radiologist" in result
    assert "cardiac contours are normal" in result
    _shot(page, "3-feedback")
    page.goto("about:blank")  # close the websocket before the server stops
