"""Steps the browser tests share: log in, open a Localize case once its viewer is drawn, tick a
finding and submit, read the drawn marks; and the small practice set of emphysema films that
the game, hint and accessibility tests play."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from tests.conftest import PASSWORD
from tests.localization.conftest import build_case, build_set, truth

# Two animation frames: custom elements have rendered and load-triggered partials are requested.
SETTLE = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
# Screenshots to look at (and for CI artefacts): RADGAME_SHOTS, or a folder under /tmp.
SHOTS = Path(os.environ.get("RADGAME_SHOTS", "/tmp/radgame-shots"))
SHOTS.mkdir(parents=True, exist_ok=True)
# A phone as the browser tests hold it: 390 x 844 CSS px, touch, a mobile viewport.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def mute_live_socket(page: Any) -> None:
    """The live server speaks WSGI only, so the page's websocket (live pushes) is answered by a
    silent mock socket: it opens and never speaks, and the live regions fall back to polling."""
    page.route_web_socket(re.compile(r".*/ws/jobs/$"), lambda ws: None)


def log_in(page: Any, base: str, username: str) -> None:
    """Log in through the form at ``base`` (a server's URL) and wait for the home page."""
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(re.compile(r".*/$"))


def wait_ready(page: Any, selector: str = "cxr-viewer") -> None:
    page.wait_for_selector(f"{selector}[data-state=ready]", timeout=15_000)
    page.evaluate(SETTLE)


def open_case(page: Any, base: str, case_set: Any, case: Any) -> None:
    """Open ``case`` of ``case_set`` in Localize and wait until its viewer is ready."""
    page.goto(f"{base}/localize/sets/{case_set.pk}/cases/{case.pk}/")
    wait_ready(page)


def submit_answer(page: Any) -> None:
    page.get_by_role("button", name="Submit answer").click()
    page.wait_for_selector("#localize-result", timeout=15_000)


def tick_and_submit(page: Any, finding: str) -> None:
    """Tick ``finding`` (or "No finding") on the checklist and submit the answer."""
    page.locator(f"input[name=selected][value='{finding}']").first.check()
    submit_answer(page)


def marks(page: Any) -> dict:
    return json.loads(page.input_value("#marks-input") or "{}")


def emphysema_films(educator: Any, cohort: Any, count: int, name: str) -> tuple[Any, list[Any]]:
    """``count`` films with emphysema (a finding ticked from the checklist) in one practice set,
    named ``name`` and assigned to ``cohort``."""
    films = [
        build_case(educator, title=f"Film {n}", findings=[truth("Emphysema", [], "Hyperlucent.")])
        for n in range(count)
    ]
    return build_set(educator, cohort, films, name=name), films
