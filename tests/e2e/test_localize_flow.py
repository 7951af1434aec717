"""The Localize exercise in a real browser (Debian chromium) against the live server.

A resident logs in, opens a case, draws a box, names it, ticks a select finding, submits, and sees
the ground truth drawn beside their marks with explanations; a second test does all of it with
the keyboard alone (Ctrl+Enter submits from anywhere, N goes on from the result). Both check
that no answer was in the page before the submit and that nothing lands in localStorage (htmx
history) afterwards. On a 390 x 844 phone the toolbar's pickers and its key list fit the screen,
read whole, with 44 px targets, and a box is drawn by touch, named and submitted.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from tests.e2e.steps import (
    PHONE,
    SHOTS,
    log_in,
    marks,
    mute_live_socket,
    open_case,
    submit_answer,
    wait_ready,
)
from tests.localization.conftest import (
    CANARY_SENTENCE,
    EFFUSION_BOX,
    NODULE_BOX,
    build_case,
    build_set,
    truth,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
# Playwright's sync API runs an event loop in this thread; the ORM calls in the fixtures are
# ordinary blocking calls made before or after browser steps, never inside the loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def practice(educator: Any, cohort: Any, resident: Any) -> Any:
    # Committed for real (transactional test): the publish hook's explanation job runs in-process
    # with the knowledge explainer, exactly as in the embedded deployment.
    case = build_case(
        educator,
        title="Chest one",
        findings=[
            truth("Nodule", [NODULE_BOX], CANARY_SENTENCE),
            truth("Effusion", [EFFUSION_BOX], "Small right effusion."),
            truth("Emphysema", [], "Hyperlucent lungs."),
        ],
    )
    case_set = build_set(educator, cohort, [case], name="Practice set")
    return case_set, case


class Geometry:
    """Where image points are on screen: the viewer fits the image at 98% of the stage, centred."""

    def __init__(self, page: Any) -> None:
        viewer = page.locator("cxr-viewer")
        self.w = int(viewer.get_attribute("image-width"))
        self.h = int(viewer.get_attribute("image-height"))
        box = page.locator(".cxr-stage").bounding_box()
        self.sx, self.sy, sw, sh = box["x"], box["y"], box["width"], box["height"]
        self.scale = min(sw / self.w, sh / self.h) * 0.98
        self.ox = sw / 2 - self.w / 2 * self.scale
        self.oy = sh / 2 - self.h / 2 * self.scale

    def screen(self, nx: float, ny: float) -> tuple[float, float]:
        return (
            self.sx + self.ox + nx * self.w * self.scale,
            self.sy + self.oy + ny * self.h * self.scale,
        )


def assert_no_answers(page: Any) -> None:
    html = page.content()
    for canary in (CANARY_SENTENCE, "0.123457", "Small right effusion", "Hyperlucent lungs"):
        assert canary not in html


def assert_feedback(page: Any) -> dict:
    page.wait_for_selector("#localize-result", timeout=15_000)
    assert re.search(r"/localize/attempts/\d+/$", page.url), page.url  # a reload shows the result
    wait_ready(page, "#localize-result cxr-viewer[mode=review]")
    overlay = json.loads(page.locator("#result-overlay").text_content())
    kinds = {item["kind"] for item in overlay}
    assert "truth" in kinds or "miss" in kinds  # the radiologists' boxes are drawn
    legend = page.locator("#localize-result .cxr-legend").inner_text()
    assert "Ground truth" in legend or "Miss" in legend
    cards = page.locator("#localize-cards-" + page.url.rstrip("/").rsplit("/", 1)[1])
    cards.locator(".localize-explanation").first.wait_for(timeout=15_000)
    text = cards.inner_text()
    assert "Written by the knowledge base" in text
    # No answer or score page is kept in the browser's storage (htmx history is off).
    stored = page.evaluate("() => JSON.stringify(Object.assign({}, localStorage))")
    assert CANARY_SENTENCE not in stored and "0.123457" not in stored
    return {"overlay": overlay, "cards": text}


def test_mouse_flow(browser_page, live_server, resident, practice):
    page = browser_page
    case_set, case = practice
    log_in(page, live_server.url, "resident")
    page.goto(f"{live_server.url}/localize/")
    page.get_by_role("link", name="Start").click()
    page.wait_for_url(re.compile(rf".*/localize/sets/{case_set.pk}/cases/{case.pk}/$"))
    wait_ready(page)
    assert_no_answers(page)

    geometry = Geometry(page)

    def drag(a: tuple[float, float], b: tuple[float, float]) -> None:
        page.mouse.move(*geometry.screen(*a))
        page.mouse.down()
        page.mouse.move(*geometry.screen(*b), steps=8)
        page.mouse.up()

    page.select_option("cxr-viewer .cxr-label", "Nodule")  # the name for the next box
    drag((0.14, 0.22), (0.38, 0.48))
    # The box just drawn stays selected; choosing the NEXT box's name must not rename it.
    page.select_option("cxr-viewer .cxr-label", "Effusion")
    assert [box["label"] for box in marks(page)["boxes"]] == ["Nodule"]
    assert page.locator("cxr-viewer .cxr-relabel").input_value() == "Nodule"
    drag((0.62, 0.62), (0.88, 0.93))
    drawn = marks(page)["boxes"]
    assert [box["label"] for box in drawn] == ["Nodule", "Effusion"]
    assert page.locator("#localize-marks-count").inner_text().startswith("2 boxes")
    # "Normal study" with boxes is refused at once, in words, and nothing is sent.
    page.check("input[data-normal]")
    assert "nothing to find" in page.locator("#localize-errors").inner_text()
    page.get_by_role("button", name="Submit answer").click()
    page.wait_for_timeout(300)
    assert page.locator("#localize-result").count() == 0
    page.uncheck("input[data-normal]")
    assert page.locator("#localize-errors").inner_text().strip() == ""
    page.screenshot(path=str(SHOTS / "localize-case.png"), full_page=True)

    page.get_by_role("button", name="Submit answer").click()
    feedback = assert_feedback(page)
    assert {"hit", "truth"} <= {item["kind"] for item in feedback["overlay"]}
    assert "Hit" in feedback["cards"] and "Emphysema" in feedback["cards"]
    # The emphysema, left unticked, is explained at once from the words precomputed at publish.
    assert "Not ticked" in feedback["cards"]
    assert CANARY_SENTENCE in page.content()  # the answer, now that the resident has answered
    score = page.locator("[data-score]").get_attribute("data-score")
    assert score == "67"  # both boxes hit, each with the name the resident meant for it
    assert "Chest one" not in page.content()  # a neutral title: "Case 1 of 1"
    page.screenshot(path=str(SHOTS / "localize-result.png"), full_page=True)


def test_keyboard_only_flow(browser_page, live_server, resident, practice):
    page = browser_page
    case_set, _ = practice
    log_in(page, live_server.url, "resident")
    page.goto(f"{live_server.url}/localize/sets/{case_set.pk}/play/")
    wait_ready(page)
    assert_no_answers(page)

    def tab_to(predicate: str, limit: int = 120) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(
                f"() => {{ const e = document.activeElement; return !!({predicate}); }}"
            ):
                return
        raise AssertionError(f"Tab never reached {predicate}")

    tab_to("e && e.classList.contains('cxr-stage')")
    geometry = Geometry(page)
    keyboard = page.keyboard
    keyboard.press("d")
    keyboard.press("Enter")  # the crosshair appears at the centre of the view

    def move_crosshair(from_n: tuple[float, float], to_n: tuple[float, float]) -> None:
        # Arrows move 8 screen pixels, Shift+arrows 40.
        for axis, size, (neg, pos) in ((0, geometry.w, ("ArrowLeft", "ArrowRight")),
                                       (1, geometry.h, ("ArrowUp", "ArrowDown"))):  # fmt: skip
            pixels = (to_n[axis] - from_n[axis]) * size * geometry.scale
            key = pos if pixels > 0 else neg
            big, rest = divmod(abs(pixels), 40)
            for _ in range(int(big)):
                keyboard.press(f"Shift+{key}")
            for _ in range(round(rest / 8)):
                keyboard.press(key)

    centre = (0.5, 0.5)
    move_crosshair(centre, (0.62, 0.63))
    keyboard.press("Enter")  # first corner
    move_crosshair((0.62, 0.63), (0.88, 0.93))
    keyboard.press("Enter")  # second corner: the box is added and selected
    keyboard.press("l")  # the label picker
    keyboard.type("Eff")  # type-ahead picks "Effusion"
    keyboard.press("Escape")  # back to the image
    keyboard.press("4")  # confidence of the selected box
    drawn = marks(page)["boxes"]
    assert len(drawn) == 1 and drawn[0]["label"] == "Effusion" and drawn[0]["confidence"] == 4
    wanted = (0.62, 0.63, 0.88, 0.93)
    assert all(abs(a - b) < 0.05 for a, b in zip(drawn[0]["box"], wanted, strict=True))

    tab_to("e && e.name === 'selected' && e.value === 'Emphysema'")
    keyboard.press("Space")
    assert page.is_checked("input[name=selected][value=Emphysema]")
    keyboard.press("Control+Enter")  # submits from anywhere: the focus is on a checkbox

    feedback = assert_feedback(page)
    assert ("Effusion", "hit") in {(i["label"], i["kind"]) for i in feedback["overlay"]}
    assert ("Nodule", "miss") in {(i["label"], i["kind"]) for i in feedback["overlay"]}
    # Focus moved to the result, so keyboard and screen-reader users start there.
    assert page.evaluate("() => document.activeElement.id") == "result-title"
    # "N" from anywhere on the result (here its heading) goes on to the next case.
    # (The set's only case is done, so the next-case link lands on the set's summary.)
    with page.expect_navigation():
        keyboard.press("n")
    assert page.url.startswith(f"{live_server.url}/localize/sets/{case_set.pk}/")


@pytest.fixture
def presence_practice(educator: Any, cohort: Any, resident: Any) -> Any:
    """NIH-style: a boxed nodule, and atelectasis listed for the image but never boxed."""
    case = build_case(
        educator,
        title="NIH 00000013_005",
        findings=[truth("Nodule", [NODULE_BOX]), truth("Atelectasis", [], "Bibasal atelectasis.")],
    )
    case_set = build_set(educator, cohort, [case], name="NIH image-level set")
    return case_set, case


def test_a_presence_only_finding_is_ticked_and_graded_without_a_place(
    browser_page, live_server, resident, presence_practice
):
    page = browser_page
    case_set, _ = presence_practice
    log_in(page, live_server.url, "resident")
    page.goto(f"{live_server.url}/localize/sets/{case_set.pk}/play/")
    wait_ready(page)
    assert "NIH 00000013_005" not in page.content()  # the dataset id would be the answer key
    assert "Case 1 of 1" in page.locator("#localize-title").inner_text()
    presence = page.locator("fieldset.localize-presence")
    assert "Atelectasis" in presence.inner_text() and "Nodule" in presence.inner_text()
    page.check("fieldset.localize-presence input[value=Atelectasis]")
    page.select_option("cxr-viewer .cxr-label", "Nodule")
    page.evaluate("() => window.scrollTo(0, 0)")
    geometry = Geometry(page)
    x1, y1, x2, y2 = NODULE_BOX
    page.mouse.move(*geometry.screen(x1, y1))
    page.mouse.down()
    page.mouse.move(*geometry.screen(x2, y2), steps=8)
    page.mouse.up()
    assert [box["label"] for box in marks(page)["boxes"]] == ["Nodule"]
    submit_answer(page)
    wait_ready(page, "#localize-result cxr-viewer[mode=review]")
    card = page.locator(".localize-card", has_text="Atelectasis")
    assert "Hit" in card.inner_text() and "no location was graded" in card.inner_text()
    assert "place not graded" in card.inner_text()
    assert page.locator("[data-score]").get_attribute("data-score") == "100"
    page.screenshot(path=str(SHOTS / "localize-presence-result.png"), full_page=True)


# Every toolbar control: its box in the viewport, its size, and for a picker the width its
# widest option needs in the picker's own font (squeezed, the selected-box picker read "no").
MEASURE_TOOLBAR = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const view = {w: window.innerWidth, h: window.innerHeight};
  const controls = [...document.querySelectorAll(
    'cxr-viewer .cxr-toolbar :is(button, select, summary)')].map((e) => {
    const r = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    ctx.font = style.font;
    const needs = e.tagName === 'SELECT'
      ? Math.max(...[...e.options].map((o) => ctx.measureText(o.text).width)) : 0;
    return {name: e.getAttribute('aria-label'), left: r.left, right: r.right, top: r.top,
            width: r.width, height: r.height, font: parseFloat(style.fontSize), needs};
  });
  return {view, controls, page: document.scrollingElement.scrollWidth};
}"""

# The ancestors whose overflow would cut part of element e off (html and body scroll the page).
CLIPPED_BY = """(e) => {
  const r = e.getBoundingClientRect();
  const cut = [];
  for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
    const b = a.getBoundingClientRect();
    if (r.top < b.top - 0.5 || r.bottom > b.bottom + 0.5 || r.left < b.left - 0.5
        || r.right > b.right + 0.5) cut.push(a.tagName.toLowerCase());
  }
  return cut;
}"""


def test_on_a_phone_the_toolbar_menus_fit_and_a_box_is_drawn_and_named_by_touch(
    make_page, live_server, resident, practice
):
    page = make_page(**PHONE)
    mute_live_socket(page)
    case_set, case = practice
    log_in(page, live_server.url, "resident")
    open_case(page, live_server.url, case_set, case)
    page.locator("cxr-viewer .cxr-toolbar").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "localize-phone-toolbar.png"))

    measured = page.evaluate(MEASURE_TOOLBAR)
    assert measured["page"] <= 390, measured["page"]  # nothing scrolls sideways
    assert len(measured["controls"]) >= 16
    for c in measured["controls"]:
        assert c["left"] >= 0 and c["right"] <= measured["view"]["w"], c
        assert c["width"] >= 44 and c["height"] >= 44, c  # WCAG 2.5.5 target size
        if c["needs"]:  # a picker shows its longest name whole, in 16 px text
            assert c["font"] >= 16 and c["width"] >= c["needs"] + 16, c

    # The key list opens whole (no box around it cuts it off), inside the screen, readable.
    page.locator("cxr-viewer .cxr-help > summary").tap()
    keys = page.locator("cxr-viewer .cxr-help dl")
    keys.wait_for(state="visible")
    assert keys.evaluate(CLIPPED_BY) == []
    keys.evaluate("(e) => e.scrollIntoView({block: 'center'})")
    box = keys.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert box["y"] >= 0 and box["y"] + box["height"] <= 844, box
    assert keys.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)") >= 14
    page.screenshot(path=str(SHOTS / "localize-phone-keys.png"))
    page.locator("cxr-viewer .cxr-help > summary").tap()
    assert not keys.is_visible()

    # Tap, tap draws a box; the selected box's picker names it.
    page.locator("cxr-viewer .cxr-stage").scroll_into_view_if_needed()
    geometry = Geometry(page)
    x1, y1, x2, y2 = EFFUSION_BOX
    page.touchscreen.tap(*geometry.screen(x1, y1))
    page.touchscreen.tap(*geometry.screen(x2, y2))
    assert len(marks(page)["boxes"]) == 1
    page.select_option("cxr-viewer .cxr-relabel", "Effusion")
    page.select_option("cxr-viewer .cxr-confidence", "4")
    drawn = marks(page)["boxes"]
    assert [(b["label"], b["confidence"]) for b in drawn] == [("Effusion", 4)]
    page.get_by_role("button", name="Submit answer").tap()
    feedback = assert_feedback(page)
    assert ("Effusion", "hit") in {(i["label"], i["kind"]) for i in feedback["overlay"]}
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
