"""Re-scoring after an educator edits a case's ground truth: one job per save, owned by the
educator who follows its progress, every attempt scored again with the old score kept, XP kept."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.urls import reverse

from apps.cases.services.editor import case_editor_save
from apps.inference.models import Job
from apps.localization.models import LocalizationAttempt
from apps.localization.rescore import RESCORE_JOB
from apps.localization.services import localization_attempt_submit
from apps.progress.models import ScoreEvent

from .conftest import EFFUSION_BOX, NODULE_BOX

pytestmark = pytest.mark.django_db

DRAWN = [0.5, 0.1, 0.7, 0.3]  # where the resident put the nodule; the truth has it elsewhere


def answer(user: Any, world: Any) -> LocalizationAttempt:
    marks = {
        "boxes": [{"label": "Nodule", "box": DRAWN}, {"label": "Effusion", "box": EFFUSION_BOX}]
    }
    return localization_attempt_submit(
        user=user, case=world.case, case_set=world.practice, marks_json=json.dumps(marks),
        selected=["Emphysema"], idempotency_key=uuid.uuid4(),
    ).attempt  # fmt: skip


def save_truth(educator: Any, world: Any, nodule_box: list[float]) -> Any:
    marks = {"boxes": [{"label": "Nodule", "box": nodule_box},
                       {"label": "Effusion", "box": EFFUSION_BOX}]}  # fmt: skip
    case = world.case
    return case_editor_save(
        actor=educator, case=case, facts={}, marks=json.dumps(marks), selected=["Emphysema"],
        is_normal=False, report_findings=case.report.findings if hasattr(case, "report") else "",
    )  # fmt: skip


def test_moving_a_box_rescores_every_attempt_once_with_progress(
    world: Any, resident: Any, other_resident: Any, educator: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    attempts = [answer(resident, world), answer(other_resident, world)]
    before = [(a.score, a.xp) for a in attempts]
    assert all(score < 1 for score, _ in before)

    with django_capture_on_commit_callbacks(execute=True):
        case = save_truth(educator, world, DRAWN)

    jobs = Job.objects.filter(kind=RESCORE_JOB)
    assert jobs.count() == 1  # one save replaced boxes and ticks: one job covers both
    job = jobs.get()
    assert job.owner == educator and job.status == "done"
    assert job.result == {"case_id": case.pk, "attempts": 2, "changed": 2}
    assert job.progress == {"done": 2, "total": 2, "message": "Re-scored 2 of 2 attempts"}
    assert case.__dict__["followups"] == [job]
    for attempt, (old_score, old_xp) in zip(attempts, before, strict=True):
        attempt.refresh_from_db()
        assert attempt.score == 1.0 and attempt.xp == old_xp
        event = ScoreEvent.objects.get(attempt_ref=attempt.ref)
        assert event.score == 1.0 and event.xp == old_xp
        assert attempt.result["rescored"]["previous_score"] == old_score
        new_ids = set(world.case.findings.values_list("pk", flat=True))
        assert {f["finding_id"] for f in attempt.reference} == new_ids


def test_a_save_that_changes_no_score_marks_nothing(
    world: Any, resident: Any, educator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    attempt = answer(resident, world)
    with django_capture_on_commit_callbacks(execute=True):
        save_truth(educator, world, NODULE_BOX)  # the same truth, saved again
    attempt.refresh_from_db()
    assert "rescored" not in attempt.result
    assert Job.objects.get(kind=RESCORE_JOB).result["changed"] == 0


def test_a_case_nobody_answered_sends_no_job(world: Any, educator: Any) -> None:
    save_truth(educator, world, DRAWN)
    assert not Job.objects.filter(kind=RESCORE_JOB).exists()


def test_the_resident_sees_old_and_new_score_and_the_educator_the_progress(
    world: Any, resident: Any, educator: Any, other_educator: Any, client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    attempt = answer(resident, world)
    old = round(attempt.score * 100)
    editor = client_for(educator)
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(
            reverse("cases:case_edit", args=[world.case.pk]),
            {
                "title": world.case.title,
                "view": "PA",
                "difficulty": "2",
                "marks": json.dumps({"boxes": [{"label": "Nodule", "box": DRAWN},
                                               {"label": "Effusion", "box": EFFUSION_BOX}]}),
                "selected": ["Emphysema"],
                "report_findings": "Nodule. Effusion. Emphysema.",
            },
            follow=True,
        )  # fmt: skip
    html = response.content.decode()
    job = Job.objects.get(kind=RESCORE_JOB)
    status_url = reverse("inference:status", kwargs={"job_id": job.pk})
    assert "being re-scored" in html and status_url in html

    progress = editor.get(status_url).content.decode()
    assert '<progress max="1" value="1">' in progress and "Re-scored 1 of 1 attempts" in progress
    assert client_for(other_educator).get(status_url).status_code == 404
    assert client_for(resident).get(status_url).status_code == 404

    page = (
        client_for(resident)
        .get(reverse("localization:attempt", kwargs={"attempt_id": attempt.pk}))
        .content.decode()
    )
    assert "re-scored" in page
    assert f"was {old}%, now 100%" in page and "ground truth" in page
