"""After an educator corrects a case's ground truth, the resident's result page says the answer
was re-scored, with the old and the new score, and the educator's job page shows the progress."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import pytest

from apps.cases.services.editor import case_editor_save
from apps.inference.models import Job
from apps.localization.rescore import RESCORE_JOB
from apps.localization.services import localization_attempt_submit
from tests.e2e.steps import log_in, mute_live_socket
from tests.localization.conftest import EFFUSION_BOX, NODULE_BOX, build_case, build_set, truth

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

DRAWN = [0.5, 0.1, 0.7, 0.3]


def test_the_rescored_answer_reads_well(
    page: Any, live_server: Any, educator: Any, cohort: Any, resident: Any
) -> None:
    mute_live_socket(page)
    case = build_case(
        educator, title="Chest one",
        findings=[truth("Nodule", [NODULE_BOX]), truth("Effusion", [EFFUSION_BOX])],
    )  # fmt: skip
    case_set = build_set(educator, cohort, [case], name="Practice set")
    attempt = localization_attempt_submit(
        user=resident, case=case, case_set=case_set, selected=[], idempotency_key=uuid.uuid4(),
        marks_json=json.dumps({"boxes": [{"label": "Nodule", "box": DRAWN},
                                         {"label": "Effusion", "box": EFFUSION_BOX}]}),
    ).attempt  # fmt: skip
    marks = {
        "boxes": [{"label": "Nodule", "box": DRAWN}, {"label": "Effusion", "box": EFFUSION_BOX}]
    }
    case_editor_save(
        actor=educator, case=case, facts={}, marks=json.dumps(marks), selected=[],
        is_normal=False, report_findings="Nodule. Effusion.",
    )  # fmt: skip
    job = Job.objects.get(kind=RESCORE_JOB)
    assert job.status == "done"

    log_in(page, live_server.url, resident.username)
    page.goto(f"{live_server.url}/localize/attempts/{attempt.pk}/")
    note = page.locator(".rescored")
    assert note.is_visible()
    assert "was 33%, now 100%" in note.inner_text()
    assert "Your accuracy counts the new score" in note.inner_text()
    if os.environ.get("RADGAME_SCREENSHOTS"):  # a folder to look at the page in
        page.screenshot(path=os.environ["RADGAME_SCREENSHOTS"] + "/rescored-resident.png")

    page.context.clear_cookies()
    log_in(page, live_server.url, educator.username)
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    assert page.locator("progress").get_attribute("value") == "1"
    if os.environ.get("RADGAME_SCREENSHOTS"):
        page.screenshot(path=os.environ["RADGAME_SCREENSHOTS"] + "/rescored-educator.png")


def test_the_rescored_report_reads_well(
    page: Any, live_server: Any, educator: Any, cohort: Any, resident: Any
) -> None:
    """The embedded default end to end: the submit, the re-score and each attempt's new score all
    run in-process with the real scorer; the result page says what changed."""
    from apps.cases.services import case_report_write
    from apps.reporting.models import ReportAttempt
    from apps.reporting.rescore import RESCORE_JOB as REPORT_RESCORE_JOB
    from apps.reporting.services import report_attempt_submit
    from tests.reporting.conftest import CANDIDATE, REFERENCE, make_case

    mute_live_socket(page)
    case = make_case(owner=educator, title="Chest two")
    case_set = build_set(educator, cohort, [case], name="Report set")
    attempt, _ = report_attempt_submit(
        user=resident, case=case, case_set=case_set, text=CANDIDATE, idempotency_key=uuid.uuid4()
    )
    attempt.refresh_from_db()
    assert attempt.status == "scored"
    case_report_write(
        actor=educator, case=case, findings=REFERENCE + " Small right apical pneumothorax."
    )
    job = Job.objects.get(kind=REPORT_RESCORE_JOB)
    assert job.status == "done" and job.progress["done"] == 1
    rescored = ReportAttempt.objects.get(pk=attempt.pk)
    assert rescored.score < attempt.score

    log_in(page, live_server.url, resident.username)
    page.goto(f"{live_server.url}/report/attempts/{attempt.pk}/")
    note = page.locator(".rescored")
    assert note.is_visible()
    was, now = round(attempt.score * 100), round(rescored.score * 100)
    assert f"was {was}%, now {now}%" in note.inner_text()
    assert "reference report" in note.inner_text()
    assert "pneumothorax" in page.locator("[data-side='reference']").first.inner_text()
