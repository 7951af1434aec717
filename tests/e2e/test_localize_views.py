"""Localize on a study with two views, in a real browser: the resident switches views with the
mouse and the keyboard, draws the box on the lateral where the nodule is, and the result draws
the truth and the hit on the lateral."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.e2e.steps import SHOTS, log_in, marks, wait_ready
from tests.localization.conftest import build_case, build_set, png_bytes, truth

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

NODULE = [0.2, 0.25, 0.45, 0.5]


@pytest.fixture
def two_views(educator: Any, cohort: Any, resident: Any) -> Any:
    from django.db import transaction

    from apps.cases.imaging import ingest_image
    from apps.cases.services import case_image_add
    from apps.cases.services.boxes import MarkedBox
    from apps.cases.services.findings import TruthFinding, case_truth_replace

    case = build_case(educator, title="Two views", findings=[truth("Nodule", [NODULE])])
    data = png_bytes(80, 96)
    lateral = case_image_add(
        actor=educator,
        case=case,
        ingested=ingest_image(data, filename="lateral.png"),
        source=data,
        projection="Lateral",
    )
    on_lateral = MarkedBox(label="Nodule", box=tuple(NODULE), reader="r1", view=lateral.pk)  # type: ignore[arg-type]
    with transaction.atomic():
        case_truth_replace(
            case=case, findings=[TruthFinding("Nodule", [[on_lateral]])], is_normal=False
        )
    return build_set(educator, cohort, [case], name="Views set"), case, lateral


def _screen(page: Any, viewer: Any, nx: float, ny: float) -> tuple[float, float]:
    """Where an image point of ``viewer`` is on screen (the image is fitted at 98%, centred)."""
    w, h = int(viewer.get_attribute("image-width")), int(viewer.get_attribute("image-height"))
    box = viewer.locator(".cxr-stage").bounding_box()
    scale = min(box["width"] / w, box["height"] / h) * 0.98
    ox, oy = box["width"] / 2 - w / 2 * scale, box["height"] / 2 - h / 2 * scale
    return box["x"] + ox + nx * w * scale, box["y"] + oy + ny * h * scale


def test_switch_views_by_mouse_and_keyboard_and_mark_on_the_lateral(
    browser_page: Any, live_server: Any, two_views: Any
) -> None:
    page = browser_page
    case_set, case, lateral = two_views
    log_in(page, live_server.url, "resident")
    page.goto(f"{live_server.url}/localize/sets/{case_set.pk}/cases/{case.pk}/")
    wait_ready(page, "cxr-viewer.cxr-view-active")
    group = page.locator("#localize-play cxr-views")
    tabs = group.locator(".cxr-views-tab")
    assert tabs.count() == 2 and group.get_attribute("data-active-view") == "0"

    tabs.nth(1).click()  # mouse
    assert group.get_attribute("data-active-view") == "1"
    page.keyboard.press("[")  # keyboard, focus on the strip
    assert group.get_attribute("data-active-view") == "0"
    page.keyboard.press("]")
    assert group.get_attribute("data-active-view") == "1"
    viewer = group.locator("cxr-viewer.cxr-view-active")
    assert viewer.get_attribute("view-id") == str(lateral.pk)
    wait_ready(page, "cxr-viewer.cxr-view-active")

    viewer.locator(".cxr-label").select_option("Nodule")
    page.mouse.move(*_screen(page, viewer, 0.21, 0.26))
    page.mouse.down()
    page.mouse.move(*_screen(page, viewer, 0.44, 0.49), steps=8)
    page.mouse.up()
    boxes = marks(page)["boxes"]
    assert [(b["label"], b["view"]) for b in boxes] == [("Nodule", lateral.pk)]
    assert page.locator("#localize-marks-count").inner_text().startswith("1 box")
    page.screenshot(path=str(SHOTS / "localize-two-views.png"), full_page=True)

    page.get_by_role("button", name="Submit answer").click()
    page.wait_for_selector("#localize-result", timeout=15_000)
    wait_ready(page, "#localize-result cxr-viewer.cxr-view-active")
    assert page.locator("[data-score]").get_attribute("data-score") == "100"
    overlay = json.loads(page.locator("#result-overlay").text_content())
    assert {item["view"] for item in overlay} == {lateral.pk}
    reviewers = page.locator("#localize-result cxr-viewer[mode=review]")
    assert reviewers.count() == 2
    # The first view's legend is empty; the lateral's shows the hit.
    result_group = page.locator("#localize-result cxr-views")
    result_group.locator(".cxr-views-tab").nth(1).click()
    legend = result_group.locator("cxr-viewer.cxr-view-active .cxr-legend").inner_text()
    assert "Hit" in legend or "hit" in legend.lower()
