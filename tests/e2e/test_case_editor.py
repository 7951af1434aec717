"""The case editor in a real browser (Debian chromium) against the live server: the viewer loads
the stored boxes, a save without edits keeps every reader's box as it was, a drawn box becomes a
new region of the editing educator, and the page raises no console error or CSP violation."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from apps.cases.models import Finding, FindingBox
from tests.cases.factories import make_case
from tests.e2e.steps import log_in, wait_ready

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _readers(case: Any) -> list[tuple[str, int, str]]:
    rows = FindingBox.objects.filter(finding__case=case).values_list(
        "finding__label", "region", "reader"
    )
    return sorted(rows)


def test_editor_round_trip(browser_page: Any, live_server: Any, educator: Any) -> None:
    page = browser_page
    case = make_case(educator, published=False, with_truth=False)
    finding = Finding.objects.create(case=case, label="Nodule")
    FindingBox.objects.create(
        finding=finding, region=0, reader="R8", x1=0.1, y1=0.1, x2=0.3, y2=0.3
    )
    FindingBox.objects.create(
        finding=finding, region=0, reader="R9", x1=0.11, y1=0.1, x2=0.31, y2=0.29
    )
    before = _readers(case)

    log_in(page, live_server.url, "educator")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    wait_ready(page)
    written = json.loads(page.input_value("#marks-input"))
    assert len(written["boxes"]) == 2

    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Case saved.")
    assert _readers(case) == before

    wait_ready(page)
    stage = page.locator(".cxr-stage").bounding_box()
    page.keyboard.press("Escape")
    page.locator(".cxr-stage").focus()
    page.keyboard.press("d")
    x0, y0 = stage["x"] + stage["width"] * 0.62, stage["y"] + stage["height"] * 0.6
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + stage["width"] * 0.15, y0 + stage["height"] * 0.15, steps=8)
    page.mouse.up()
    page.select_option("cxr-viewer .cxr-relabel", "Mass")  # name the box just drawn
    assert len(json.loads(page.input_value("#marks-input"))["boxes"]) == 3
    # Leaving now would drop the new box: the page says so, and asks before it goes.
    assert "Unsaved changes" in page.locator("#case-unsaved").inner_text()
    asked: list[str] = []

    def stay(dialog: Any) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.get_by_role("link", name="Preview as a resident").click()
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert re.search(rf"/cases/{case.pk}/$", page.url)
    assert len(json.loads(page.input_value("#marks-input"))["boxes"]) == 3
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Case saved.")
    after = _readers(case)
    assert ("Mass", 0, "educator:educator") in after
    assert [row for row in after if row[0] == "Nodule"] == before
    # Saved: leaving asks nothing.
    page.wait_for_selector("cxr-viewer[data-state=ready]", timeout=15_000)
    page.on("dialog", lambda dialog: asked.append(dialog.type) or dialog.dismiss())
    page.get_by_role("link", name="Preview as a resident").click()
    page.wait_for_url(re.compile(r".*/preview/$"))
    assert asked == ["beforeunload"]
