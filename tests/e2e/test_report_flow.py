"""The Report exercise in a real browser, against the real ASGI application (websocket included).

A resident logs in, opens a set, writes findings (autosaved: a reload keeps them), submits, and
sees the itemised feedback arrive in place without the page reloading. The server is uvicorn in
a thread on the test database, so the page's websocket reaches the Channels consumer; every
live region also polls, and the test waits on the region's text, so it holds either way.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.htmx import htmx_ready
from tests.reporting.conftest import CANARY, make_case, make_set

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FINDINGS = (
    "Right lower lobe consolidation. No pleural effusion. No pneumothorax. "
    "Heart size normal. <b>bold?</b>"
)


@pytest.fixture
def report_world(resident: Any, educator: Any, cohort: Any) -> dict[str, Any]:
    case = make_case(owner=educator, title="Right lower lobe pneumonia")
    case_set = make_set(owner=educator, cases=[case], cohort=cohort, name="E2E chest set")
    return {"resident": resident, "case": case, "case_set": case_set}


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/")


def _write_and_submit(page: Any, base: str) -> None:
    page.goto(f"{base}/report/")
    page.click("text=Start")
    page.wait_for_selector("cxr-viewer[data-state=ready]", timeout=15000)
    editor = page.locator("#report-text")
    editor.click()
    editor.press_sequentially(FINDINGS, delay=5)
    page.wait_for_selector("#word-count:has-text('15 words')")
    page.wait_for_selector("#draft-status:has-text('Draft saved')", timeout=10000)
    assert "radgame:report-draft:" in page.evaluate("JSON.stringify(window.localStorage)")
    # A reload loses nothing: the server draft comes back.
    page.reload()
    assert page.locator("#report-text").input_value() == FINDINGS
    assert CANARY not in page.content()
    # Mark this document: if the page reloaded, the mark would be gone.
    page.evaluate("window.__notReloaded = true")
    page.click("#report-form button[type=submit]")


def _feedback_arrives(page: Any) -> None:
    page.wait_for_selector("#report-result[data-status=scored]", timeout=60000)
    region = page.locator("#report-result")
    text = region.inner_text()
    assert "clinical accuracy" in text and "Errors" in text
    assert "Missed finding" in text and "Effusion" in text
    assert "Reference report" in text and CANARY in text
    assert page.locator("#report-result mark.hl").count() >= 2  # both sides highlighted
    assert page.locator("#report-result li.err").count() >= 1
    assert "<b>bold?</b>" in text  # the resident's markup is shown as text
    assert page.evaluate("window.__notReloaded === true")
    stored = page.evaluate("JSON.stringify(window.localStorage)")
    assert CANARY not in stored and "radgame:report-draft:" not in stored
    page.goto("about:blank")  # close the websocket before the server stops


def test_resident_submits_and_sees_itemised_feedback(
    asgi_server: str, page: Any, report_world: dict[str, Any]
) -> None:
    _log_in(page, asgi_server, "resident")
    _write_and_submit(page, asgi_server)
    _feedback_arrives(page)


def test_feedback_arrives_live_when_a_worker_scores_later(
    asgi_server: str, page: Any, report_world: dict[str, Any], monkeypatch: Any
) -> None:
    """The distributed shape: the submit answers 'scoring…' at once and a worker finishes the
    job a moment later; the open page learns of it by push or poll and swaps the result in."""
    from apps.inference import services as inference

    def worker_later(job_id: Any, job: Any = None) -> None:
        def run() -> None:
            time.sleep(1.5)
            inference.job_run_inprocess(job_id)

        threading.Thread(target=run, daemon=True).start()

    monkeypatch.setattr(inference, "job_send", worker_later)
    _log_in(page, asgi_server, "resident")
    _write_and_submit(page, asgi_server)
    page.wait_for_selector("#report-result[data-status=pending]", timeout=10000)
    assert "Scoring your report" in page.locator("#report-result").inner_text()
    _feedback_arrives(page)


def test_text_typed_while_offline_survives_a_reload(
    asgi_server: str, page: Any, page_problems: list[str], report_world: dict[str, Any]
) -> None:
    from apps.reporting.models import ReportDraft

    _log_in(page, asgi_server, "resident")
    page.goto(f"{asgi_server}/report/")
    page.click("text=Start")
    editor = page.locator("#report-text")
    editor.click()
    editor.press_sequentially("Lungs are clear.", delay=5)
    page.wait_for_selector("#draft-status:has-text('Draft saved')", timeout=10000)
    page.context.set_offline(True)
    editor.press_sequentially(" Bones intact.", delay=5)
    page.wait_for_timeout(1500)  # the autosave fires and fails: the server still has the old text
    page.context.set_offline(False)
    assert ReportDraft.objects.get().text == "Lungs are clear."
    page_problems.clear()  # the failed autosave and socket while offline are expected
    page.reload()
    assert page.locator("#report-text").input_value() == "Lungs are clear. Bones intact."
    assert page.locator("#draft-restored").is_visible()
    # ...and the restored text is saved to the server again.
    deadline = time.monotonic() + 10
    while ReportDraft.objects.get().text != "Lungs are clear. Bones intact.":
        assert time.monotonic() < deadline, "the restored draft was not saved"
        page.wait_for_timeout(100)
    page.goto("about:blank")


def test_an_autosave_the_server_refuses_tells_the_resident(
    asgi_server: str,
    page: Any,
    page_problems: list[str],
    report_world: dict[str, Any],
    settings: Any,
) -> None:
    """A body past the server's cap is a 413 with a sentence; the draft status shows it instead of
    looking saved (htmx swaps nothing on an error)."""
    from apps.reporting.models import ReportDraft

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    _log_in(page, asgi_server, "resident")
    page.goto(f"{asgi_server}/report/")
    page.click("text=Start")
    page.wait_for_selector("cxr-viewer[data-state=ready]", timeout=15000)
    htmx_ready(page, "#report-text")  # or the blur sends no autosave
    editor = page.locator("#report-text")
    editor.fill("Lungs clear. " * 250)  # about 3 KB form-encoded: over the 2 KB cap
    editor.blur()
    status = page.locator("#draft-status .field-error")
    status.wait_for(timeout=10000)
    text = status.inner_text()
    assert "Draft not saved: the text is too large to send." in text
    assert "larger than the 2 KB this server accepts" in text
    assert "kept in this browser" in text
    assert not ReportDraft.objects.exists()
    page_problems.clear()  # the refused request is logged by the browser, as expected
    page.goto("about:blank")


def test_a_submit_the_server_fails_tells_the_resident_and_keeps_the_text(
    asgi_server: str,
    page: Any,
    page_problems: list[str],
    report_world: dict[str, Any],
) -> None:
    """A 500 on submit (or no connection) must not look like nothing happened: the form says it
    was not submitted and the findings stay in the editor for another try."""
    from apps.reporting.models import ReportAttempt

    _log_in(page, asgi_server, "resident")
    page.goto(f"{asgi_server}/report/")
    page.click("text=Start")
    page.wait_for_selector("cxr-viewer[data-state=ready]", timeout=15000)
    htmx_ready(page, "#report-form")  # or the browser posts it as a plain form
    editor = page.locator("#report-text")
    editor.fill("Heart size normal. Lungs clear.")
    page.route(
        "**/submit/",
        lambda route: route.fulfill(status=500, body="boom", content_type="text/plain"),
    )
    page.click("#report-form button[type=submit]")
    status = page.locator("#submit-status")
    status.wait_for(state="visible", timeout=10000)
    assert "Not submitted: the server answered 500." in status.inner_text()
    assert editor.input_value() == "Heart size normal. Lungs clear."
    assert not ReportAttempt.objects.exists()
    page_problems.clear()  # the failed request is logged by the browser, as expected
    page.goto("about:blank")
