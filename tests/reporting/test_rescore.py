"""Re-scoring after an educator edits a case's reference report: one web job per save, owned by the
educator who follows its progress, one ``ml.report.score`` job per scored attempt on the scoring
queue, progress counted as each score is stored, the old score kept, XP kept, sealed attempts
sealed. Worker results are delivered the way a worker's are: ``inference_job_finish``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from apps.analytics.summary import reconcile
from apps.cases.services import case_report_write
from apps.cases.services.editor import case_editor_save
from apps.exercises.services import assessment_close
from apps.inference.models import Job
from apps.inference.services import inference_job_finish, job_send
from apps.progress.models import ScoreEvent
from apps.reporting.models import AttemptStatus, ReportScore
from apps.reporting.rescore import RESCORE_JOB, report_rescore_store
from ml.contracts import REPORT_SCORE_TASK, spec_for
from tests.analytics.conftest import recount_at_once  # noqa: F401 (autouse: see pytestmark)
from tests.localization.conftest import build_set

from .conftest import CANDIDATE, REFERENCE, fake_result

pytestmark = pytest.mark.django_db
# recount_at_once (imported above) is autouse here too: the weekly summaries are recounted after
# commit, and a test's changes never commit, so they are recounted at once for reconcile().

EDITED = REFERENCE.replace("Small left pleural effusion", "Large left pleural effusion")


@pytest.fixture
def classmates(make_user: Any, cohort: Any) -> list[Any]:
    from apps.cohorts.services import cohort_join_by_code

    users = [make_user(f"classmate{n}") for n in range(2)]
    for user in users:
        cohort_join_by_code(user=user, code=cohort.join_code)
    return users


@pytest.fixture
def scored(submit: Any, finish: Any) -> Callable[..., Any]:
    def do(user: Any, case: Any, case_set: Any, percent: float = 50.0) -> Any:
        attempt = submit(user, case, case_set)
        finish(attempt, result=fake_result(clinical_percent=percent, clinical_score=percent / 100))
        attempt.refresh_from_db()
        assert attempt.status == AttemptStatus.SCORED
        return attempt

    return do


def edit_reference(
    educator: Any, case: Any, capture: Any, findings: str = EDITED, impression: str = ""
) -> Job | None:
    """The educator saves the reference; the re-score job is sent (the embedded runner), and
    the scoring jobs it sends wait on their queue, as they would for a worker."""
    with capture() as callbacks:
        case_report_write(actor=educator, case=case, findings=findings, impression=impression)
    for callback in callbacks:
        callback()
    return Job.objects.filter(kind=RESCORE_JOB).order_by("-created_at").first()


def rescore_jobs(attempt: Any) -> list[Job]:
    return list(
        Job.objects.filter(kind=REPORT_SCORE_TASK, subject__endswith=f"/{attempt.pk}").order_by(
            "created_at"
        )
    )


def deliver(job: Job, percent: float = 80.0) -> Job | None:
    result = fake_result(reference=EDITED, clinical_percent=percent, clinical_score=percent / 100)
    return inference_job_finish(job_id=job.pk, status="done", result=result, error="")


def test_every_scored_attempt_is_sent_to_the_scorer_and_progress_reaches_n_of_n(
    resident: Any, classmates: list[Any], educator: Any, report_set: Any, report_case: Any,
    scored: Any, django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    attempts = [scored(user, report_case, report_set) for user in (resident, *classmates)]
    before = {a.pk: (a.score, a.xp) for a in attempts}

    job = edit_reference(educator, report_case, django_capture_on_commit_callbacks)

    assert job is not None and job.owner == educator and job.status == "sent"
    assert job.progress["done"] == 0 and job.progress["total"] == 3
    children = [rescore_jobs(a)[0] for a in attempts]
    for attempt, child in zip(attempts, children, strict=True):
        assert spec_for(child.kind).queue == "scoring"
        assert child.request["reference"] == EDITED and child.request["candidate"] == CANDIDATE
        assert child.owner == attempt.user and not child.sealed

    for n, child in enumerate(children, start=1):
        deliver(child)
        job.refresh_from_db()
        assert job.progress["done"] == n, "counted as each score is stored"
        assert job.progress["message"] == f"Re-scored {n} of 3 attempts"
        assert job.status == ("done" if n == 3 else "sent")
    assert job.result == {"case_id": report_case.pk, "attempts": 3, "changed": 3, "failed": 0}

    for attempt in attempts:
        attempt.refresh_from_db()
        old_score, old_xp = before[attempt.pk]
        assert attempt.score == 0.8 and attempt.previous_score == old_score
        assert attempt.rescored_at is not None and attempt.xp == old_xp  # XP is kept
        assert attempt.reference_text == EDITED  # the feedback's spans point into the new one
        event = ScoreEvent.objects.get(attempt_ref=attempt.ref)
        assert event.score == 0.8 and event.xp == old_xp  # accuracy reads the new score
        history = list(attempt.scores.order_by("pk").values_list("clinical_percent", flat=True))
        assert history == [50.0, 80.0]
    assert reconcile().ok  # the dashboard's weekly summaries followed the new scores


def test_a_redelivered_result_and_a_rerun_rescore_never_apply_twice(
    resident: Any, classmates: list[Any], educator: Any, report_set: Any, report_case: Any,
    scored: Any, django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    first, second = (scored(user, report_case, report_set) for user in (resident, classmates[0]))
    job = edit_reference(educator, report_case, django_capture_on_commit_callbacks)
    child = rescore_jobs(first)[0]
    deliver(child, 80.0)

    # The worker's result arrives again, and the hook is called again: nothing more happens.
    assert deliver(child, 10.0) is None
    report_rescore_store(job=Job.objects.get(pk=child.pk))
    first.refresh_from_db()
    assert (first.score, first.previous_score) == (0.8, 0.5)
    assert ReportScore.objects.filter(attempt=first).count() == 2

    # The sweeper sends the silent re-score job again: it finds the jobs it sent, sends no more.
    job_send(job.pk)
    assert [len(rescore_jobs(a)) for a in (first, second)] == [1, 1]
    job.refresh_from_db()
    assert job.status == "sent" and job.progress["done"] == 1
    deliver(rescore_jobs(second)[0], 50.0)  # the same score as before: stored, not "changed"
    job.refresh_from_db()
    assert job.status == "done"
    assert job.result == {"case_id": report_case.pk, "attempts": 2, "changed": 1, "failed": 0}
    second.refresh_from_db()
    assert second.previous_score is None and second.rescored_at is None
    assert ScoreEvent.objects.get(attempt_ref=first.ref).score == 0.8


def test_a_failed_rescore_keeps_the_score_and_still_counts(
    resident: Any, educator: Any, report_set: Any, report_case: Any, scored: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    attempt = scored(resident, report_case, report_set)
    job = edit_reference(educator, report_case, django_capture_on_commit_callbacks)
    child = rescore_jobs(attempt)[0]
    inference_job_finish(job_id=child.pk, status="failed", result=None, error="scorer crashed")
    job.refresh_from_db()
    assert job.status == "done" and job.result["failed"] == 1 and job.result["changed"] == 0
    attempt.refresh_from_db()
    assert attempt.score == 0.5 and attempt.status == AttemptStatus.SCORED
    assert attempt.reference_text == REFERENCE


def test_a_second_edit_supersedes_the_first_rescore(
    resident: Any, educator: Any, report_set: Any, report_case: Any, scored: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    attempt = scored(resident, report_case, report_set)
    edit_reference(educator, report_case, django_capture_on_commit_callbacks)
    edit_reference(educator, report_case, django_capture_on_commit_callbacks, EDITED + " Ok.")
    old, new = rescore_jobs(attempt)
    deliver(new, 70.0)
    deliver(old, 90.0)  # late: the attempt was sent again since, so it is not applied
    attempt.refresh_from_db()
    assert attempt.score == 0.7 and attempt.previous_score == 0.5
    assert all(j.status == "done" for j in Job.objects.filter(kind=RESCORE_JOB))


def test_an_answer_being_scored_during_the_edit_is_scored_again_when_its_score_arrives(
    resident: Any, educator: Any, report_set: Any, report_case: Any, submit: Any, finish: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    attempt = submit(resident, report_case, report_set)
    assert edit_reference(educator, report_case, django_capture_on_commit_callbacks) is None
    finish(attempt)  # its first score, against the reference it was sent with
    (late,) = rescore_jobs(attempt)
    assert late.request["reference"] == EDITED
    deliver(late, 80.0)
    attempt.refresh_from_db()
    assert (attempt.score, attempt.previous_score) == (0.8, 0.5)
    assert attempt.reference_text == EDITED
    finish(attempt)  # the first result again: stored once, nothing sent again
    assert len(rescore_jobs(attempt)) == 1


def test_only_an_edit_of_the_scored_text_of_an_answered_case_rescores(
    resident: Any, educator: Any, report_set: Any, report_case: Any, second_case: Any,
    submit: Any, scored: Any, django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    capture = django_capture_on_commit_callbacks
    # Nobody answered: nothing to re-score.
    assert edit_reference(educator, second_case, capture) is None
    # A pending attempt's first score is on its way (and a failed one is scored when retried).
    submit(resident, report_case, report_set)
    assert edit_reference(educator, report_case, capture) is None
    scored(resident, report_case, report_set)
    # The impression is not scored: editing it alone re-scores nothing.
    assert edit_reference(educator, report_case, capture, EDITED, "New impression.") is None
    assert edit_reference(educator, report_case, capture, REFERENCE) is not None


def test_the_case_editor_save_rescores_and_links_the_progress(
    resident: Any, educator: Any, other_educator: Any, report_set: Any, report_case: Any,
    scored: Any, client_for: Any, django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    attempt = scored(resident, report_case, report_set)
    editor = client_for(educator)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = editor.post(
            reverse("cases:case_edit", args=[report_case.pk]),
            {"title": report_case.title, "view": "PA", "difficulty": "2",
             "marks": "{}", "selected": ["Effusion"], "report_findings": EDITED},
            follow=True,
        )  # fmt: skip
    for callback in callbacks:
        callback()
    job = Job.objects.get(kind=RESCORE_JOB)
    status_url = reverse("inference:status", kwargs={"job_id": job.pk})
    html = response.content.decode()
    assert "being re-scored" in html and status_url in html
    # The progress is loaded into the editor itself (then polls), not only behind a link.
    assert f'<span hx-get="{status_url}" hx-trigger="load" hx-swap="outerHTML">' in html

    deliver(rescore_jobs(attempt)[0])
    progress = editor.get(status_url).content.decode()
    assert '<progress max="1" value="1">' in progress and "Re-scored 1 of 1 attempts" in progress
    # Not a dead end: the finished re-score links back to the case it re-scored.
    assert reverse("cases:case_edit", args=[report_case.pk]) in progress
    # The bar is the editing educator's: nobody else's job page shows it.
    for persona in (other_educator, resident):
        assert client_for(persona).get(status_url).status_code == 404


def test_the_resident_sees_was_and_now_on_the_result(
    resident: Any, educator: Any, report_set: Any, report_case: Any, scored: Any,
    client_for: Any, django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    attempt = scored(resident, report_case, report_set)
    page_url = reverse("reporting:attempt", args=[attempt.pk])
    assert "data-rescored" not in client_for(resident).get(page_url).content.decode()
    edit_reference(educator, report_case, django_capture_on_commit_callbacks)
    deliver(rescore_jobs(attempt)[0], 80.0)
    attempt.refresh_from_db()

    page = client_for(resident).get(page_url).content.decode()
    day = attempt.rescored_at.strftime("%-d %b %Y")
    assert "Re-scored on <time datetime=" in page and day in page
    assert "was 50%, now 80%" in page and "reference report" in page
    assert "Large left pleural effusion" in page  # the new reference is the one compared

    api = client_for(resident).get(reverse("report-api-attempt", args=[attempt.pk])).json()
    assert api["rescored"]["previous_score"] == 0.5 and api["score"]["clinical_percent"] == 80.0
    assert api["reference"]["findings"] == EDITED


def test_a_sealed_assessment_answer_is_rescored_and_shown_only_at_release(
    resident: Any, educator: Any, cohort: Any, report_case: Any, scored: Any,
    client_for: Any, django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    exam = build_set(educator, cohort, [report_case], name="Exam", mode="assessment")
    attempt = scored(resident, report_case, exam)
    assert attempt.xp is None  # held back

    edit_reference(educator, report_case, django_capture_on_commit_callbacks)
    child = rescore_jobs(attempt)[0]
    assert child.sealed  # neither the job API nor the websocket shows it to the resident
    deliver(child, 80.0)
    attempt.refresh_from_db()
    assert attempt.score == 0.8 and attempt.xp is None
    assert attempt.previous_score is None  # the resident never saw the earlier score
    page_url = reverse("reporting:attempt", args=[attempt.pk])
    held = client_for(resident).get(page_url).content.decode()
    assert "Answer recorded." in held and "80%" not in held and "data-rescored" not in held

    with django_capture_on_commit_callbacks(execute=True):
        assessment_close(actor=educator, case_set=exam)
    attempt.refresh_from_db()
    child.refresh_from_db()
    assert not child.sealed
    from apps.exercises.credit import attempt_xp

    assert attempt.xp == attempt_xp(attempt=attempt, visible=True)  # the one XP rule, new score
    assert ScoreEvent.objects.get(attempt_ref=attempt.ref).score == 0.8
    released = client_for(resident).get(page_url).content.decode()
    assert "80%" in released and "data-rescored" not in released
    api = client_for(resident).get(reverse("report-api-attempt", args=[attempt.pk])).json()
    assert api["rescored"] is None and api["score"]["clinical_percent"] == 80.0


def test_the_editor_service_save_with_an_unchanged_report_sends_nothing(
    resident: Any, educator: Any, report_set: Any, report_case: Any, scored: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    scored(resident, report_case, report_set)
    with django_capture_on_commit_callbacks(execute=False):
        case_editor_save(
            actor=educator, case=report_case, facts={}, marks="{}", selected=["Effusion"],
            is_normal=False, report_findings=report_case.report.findings,
            report_impression=report_case.report.impression,
        )  # fmt: skip
    assert not Job.objects.filter(kind=RESCORE_JOB).exists()


def test_a_failed_attempt_retried_after_an_edit_is_scored_against_the_new_reference(
    resident: Any, educator: Any, report_set: Any, report_case: Any, submit: Any, finish: Any,
) -> None:  # fmt: skip
    from apps.reporting.services import report_attempt_retry_scoring

    attempt = submit(resident, report_case, report_set)
    finish(attempt, error="worker lost")
    case_report_write(actor=educator, case=report_case, findings=EDITED)
    attempt = report_attempt_retry_scoring(attempt=attempt)
    assert attempt.reference_text == EDITED and attempt.job.request["reference"] == EDITED


def test_the_judge_is_asked_again_against_the_new_reference(
    resident: Any, educator: Any, report_set: Any, report_case: Any, scored: Any,
    monkeypatch: Any, django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    from .test_services import _enable_judge

    _enable_judge(monkeypatch)
    attempt = scored(resident, report_case, report_set)
    first_judge = attempt.judge_job
    assert first_judge.request["reference"] == REFERENCE
    edit_reference(educator, report_case, django_capture_on_commit_callbacks)
    deliver(rescore_jobs(attempt)[0])
    attempt.refresh_from_db()
    assert attempt.judge_job_id != first_judge.pk
    assert attempt.judge_job.request["reference"] == EDITED
    assert attempt.judge_job.request["candidate"] == CANDIDATE
