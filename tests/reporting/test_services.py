"""Services of the Report exercise: validation, idempotent submits, idempotent score storage."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from apps.cases.models import Case
from apps.core.exceptions import ApplicationError
from apps.inference.models import Job, JobStatus
from apps.progress.models import ScoreEvent
from apps.reporting import services
from apps.reporting.models import (
    MAX_DRAFT_CHARS,
    MAX_REPORT_CHARS,
    AttemptStatus,
    ReportAttempt,
    ReportDraft,
    ReportScore,
)

from .conftest import CANDIDATE, REFERENCE, fake_result

pytestmark = pytest.mark.django_db


def _submit(user: Any, case: Any, case_set: Any, text: str, key: str | None = None) -> Any:
    return services.report_attempt_submit(
        user=user, case=case, case_set=case_set, text=text, idempotency_key=key or uuid.uuid4().hex
    )


# ---------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write your findings"),
        ("   \n\t  ", "Write your findings"),
        ("\u200b\u200b", "Write your findings"),  # only invisible characters
        ("12345 678", "written in words"),
        ("x" * (MAX_REPORT_CHARS + 1), "too long"),
        ("Lungs clear.\x00\x01 binary", "control characters"),
        ("\x1b[31mred\x1b[0m", "control characters"),
        (12345, "plain text"),
        (None, "plain text"),
    ],
)
def test_submit_refuses_bad_text_with_a_clear_message(
    resident: Any, report_set: Any, report_case: Any, text: Any, message: str
) -> None:
    with pytest.raises(ApplicationError) as caught:
        _submit(resident, report_case, report_set, text)
    assert message in caught.value.message
    assert caught.value.field == "text"
    assert not ReportAttempt.objects.exists()
    assert not Job.objects.filter(kind="ml.report.score").exists()


def test_submit_strips_invisible_characters_and_normalises_line_ends(
    resident: Any, report_set: Any, report_case: Any
) -> None:
    text = "Lungs\u200b are clear.\r\nNo\u2066 effusion.\U000e0041\n\n\n\nHeart normal.  "
    attempt, _ = _submit(resident, report_case, report_set, text)
    assert attempt.text == "Lungs are clear.\nNo effusion.\n\nHeart normal."


def test_submit_at_the_cap_is_accepted(resident: Any, report_set: Any, report_case: Any) -> None:
    attempt, created = _submit(resident, report_case, report_set, "a" * MAX_REPORT_CHARS)
    assert created and len(attempt.text) == MAX_REPORT_CHARS


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "has space in it", None, 42])
def test_submit_needs_a_usable_idempotency_key(
    resident: Any, report_set: Any, report_case: Any, key: Any
) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.report_attempt_submit(
            user=resident,
            case=report_case,
            case_set=report_set,
            text=CANDIDATE,
            idempotency_key=key,
        )
    assert caught.value.field == "idempotency_key"


def test_a_case_without_reference_cannot_be_submitted(
    resident: Any, report_set: Any, educator: Any
) -> None:
    from .conftest import make_case

    case = make_case(owner=educator, findings="")
    with pytest.raises(ApplicationError, match="no reference report"):
        _submit(resident, case, report_set, CANDIDATE)


# ------------------------------------------------------------------------------------ submitting


def test_submit_creates_attempt_and_job_with_server_side_inputs(
    resident: Any, report_set: Any, report_case: Any
) -> None:
    services.report_draft_save(user=resident, case=report_case, text="half written")
    attempt, created = _submit(resident, report_case, report_set, CANDIDATE)
    assert created
    assert attempt.status == AttemptStatus.PENDING
    assert attempt.attempt_no == 1
    job = Job.objects.get(pk=attempt.job_id)
    assert job.kind == "ml.report.score"
    assert ReportAttempt.objects.get(job=job) == attempt  # the hook's link is the foreign key
    assert job.owner == resident
    assert job.request == {
        "reference": REFERENCE,
        "candidate": CANDIDATE,
        "age": 54,
        "indication": "Cough and fever for three days.",
        "has_prior": False,
    }
    assert attempt.reference_text == REFERENCE
    # The draft became the attempt.
    assert not ReportDraft.objects.filter(user=resident, case=report_case).exists()


def test_a_reference_derived_from_nih_labels_sends_its_vocabulary(
    resident: Any, report_set: Any, second_case: Any
) -> None:
    # An imported NIH case: its reference was written from the NIH labels, so the scorer must
    # not call a device or a finding NIH never labels false.
    Case.objects.filter(pk=second_case.pk).update(source="NIH ChestX-ray14")
    second_case.refresh_from_db()
    attempt, _ = _submit(resident, second_case, report_set, CANDIDATE)

    vocabulary = Job.objects.get(pk=attempt.job_id).request["vocabulary"]
    assert "Pneumothorax" in vocabulary and "Infiltration" in vocabulary
    assert "Endotracheal tube" not in vocabulary


def test_a_radiologists_reference_sends_no_vocabulary(
    resident: Any, report_set: Any, report_case: Any
) -> None:
    Case.objects.filter(pk=report_case.pk).update(source="NIH ChestX-ray14")
    attempt, _ = _submit(resident, report_case, report_set, CANDIDATE)

    assert "vocabulary" not in Job.objects.get(pk=attempt.job_id).request


def test_replaying_a_key_returns_the_same_attempt(
    resident: Any, report_set: Any, report_case: Any
) -> None:
    key = uuid.uuid4().hex
    first, created = _submit(resident, report_case, report_set, CANDIDATE, key)
    again, created_again = _submit(resident, report_case, report_set, "Different text.", key)
    assert created and not created_again
    assert again.pk == first.pk and again.text == CANDIDATE
    assert ReportAttempt.objects.count() == 1
    assert Job.objects.filter(kind="ml.report.score").count() == 1


def test_a_key_reused_for_another_case_is_refused(
    resident: Any, report_set: Any, report_case: Any, second_case: Any
) -> None:
    key = uuid.uuid4().hex
    _submit(resident, report_case, report_set, CANDIDATE, key)
    with pytest.raises(ApplicationError, match="another case"):
        _submit(resident, second_case, report_set, CANDIDATE, key)


def test_keys_are_per_user(resident: Any, educator: Any, report_set: Any, report_case: Any) -> None:
    key = uuid.uuid4().hex
    mine, _ = _submit(resident, report_case, report_set, CANDIDATE, key)
    theirs, created = _submit(educator, report_case, report_set, CANDIDATE, key)
    assert created and theirs.pk != mine.pk


def test_new_keys_number_attempts_contiguously(
    resident: Any, report_set: Any, report_case: Any
) -> None:
    numbers = [
        _submit(resident, report_case, report_set, CANDIDATE)[0].attempt_no for _ in range(3)
    ]
    assert numbers == [1, 2, 3]


# -------------------------------------------------------------------------------------- drafts


def test_draft_save_overwrites_one_row(resident: Any, report_case: Any) -> None:
    services.report_draft_save(user=resident, case=report_case, text="first")
    services.report_draft_save(user=resident, case=report_case, text="second\u200b")
    drafts = ReportDraft.objects.filter(user=resident, case=report_case)
    assert [d.text for d in drafts] == ["second"]


def test_draft_may_be_empty_but_not_huge_or_binary(resident: Any, report_case: Any) -> None:
    assert services.report_draft_save(user=resident, case=report_case, text="").text == ""
    with pytest.raises(ApplicationError, match="too long"):
        services.report_draft_save(
            user=resident, case=report_case, text="y" * (MAX_DRAFT_CHARS + 1)
        )
    with pytest.raises(ApplicationError, match="control characters"):
        services.report_draft_save(user=resident, case=report_case, text="a\x00b")


# ------------------------------------------------------------------------------------- hooks


def test_finishing_stores_score_marks_scored_and_records_xp(
    resident: Any, report_set: Any, report_case: Any, finish: Any
) -> None:
    attempt, _ = _submit(resident, report_case, report_set, CANDIDATE)
    finish(attempt)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SCORED
    score = ReportScore.objects.get(attempt=attempt)
    assert (score.kind, score.scorer_version) == ("rules", "rules-1.0")
    assert (score.clinical_score, score.clinical_percent, score.style_score) == (0.5, 50.0, 0.7)
    event = ScoreEvent.objects.get(attempt_ref=f"reporting.attempt:{attempt.pk}")
    assert event.kind == "report" and event.score == 0.5 and event.case_set == report_set
    assert attempt.xp == event.xp > 0


def test_finishing_twice_stores_one_score_and_one_event(
    resident: Any, report_set: Any, report_case: Any, finish: Any
) -> None:
    attempt, _ = _submit(resident, report_case, report_set, CANDIDATE)
    assert finish(attempt) is not None
    assert finish(attempt) is None  # a redelivery: the job is already final
    # Even if the hook itself runs again (a second scorer result for the same job), nothing doubles.
    services.report_score_store(job=Job.objects.get(pk=attempt.job_id))
    assert ReportScore.objects.filter(attempt=attempt).count() == 1
    assert ScoreEvent.objects.filter(attempt_ref=attempt.ref).count() == 1


def test_failed_job_fails_the_attempt_with_its_error(
    resident: Any, report_set: Any, report_case: Any, finish: Any
) -> None:
    attempt, _ = _submit(resident, report_case, report_set, CANDIDATE)
    finish(attempt, error="candidate: is empty; write the findings to score")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.FAILED
    assert "is empty" in attempt.error
    assert not ScoreEvent.objects.exists()


def test_malformed_result_fails_the_job_and_the_attempt_reads_failed(
    resident: Any, report_set: Any, report_case: Any, finish: Any
) -> None:
    attempt, _ = _submit(resident, report_case, report_set, CANDIDATE)
    finish(attempt, result={"unexpected": True})
    attempt.refresh_from_db()
    job = Job.objects.get(pk=attempt.job_id)
    assert job.status == JobStatus.FAILED and "could not be stored" in job.error
    assert services.effective_status(attempt) == AttemptStatus.FAILED


def test_retry_scoring_sends_a_new_job_and_scores_once(
    resident: Any, report_set: Any, report_case: Any, finish: Any
) -> None:
    attempt, _ = _submit(resident, report_case, report_set, CANDIDATE)
    first_job = attempt.job_id
    finish(attempt, error="scorer crashed")
    attempt.refresh_from_db()
    retried = services.report_attempt_retry_scoring(attempt=attempt)
    assert retried.status == AttemptStatus.PENDING and retried.error == ""
    assert retried.job_id != first_job and retried.scoring_runs == 2
    assert Job.objects.get(pk=retried.job_id).subject == f"{attempt.ref}:run2"
    finish(retried)
    retried.refresh_from_db()
    assert retried.status == AttemptStatus.SCORED
    with pytest.raises(ApplicationError, match="Only an attempt whose scoring failed"):
        services.report_attempt_retry_scoring(attempt=retried)


def test_score_for_a_superseded_job_is_ignored(
    resident: Any, report_set: Any, report_case: Any
) -> None:
    attempt, _ = _submit(resident, report_case, report_set, CANDIDATE)
    stale = Job.objects.create(
        kind="ml.report.score", subject=f"{attempt.ref}:old", status="done", result=fake_result()
    )
    services.report_score_store(job=stale)
    assert not ReportScore.objects.exists()


def _enable_judge(monkeypatch: Any) -> None:
    monkeypatch.setenv("RADGAME_JUDGE", "openai")
    monkeypatch.setenv("RADGAME_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("RADGAME_OPENAI_MODEL", "judge-model")


def test_judge_runs_after_scoring_when_configured_and_never_changes_xp(
    resident: Any, report_set: Any, report_case: Any, finish: Any, monkeypatch: Any
) -> None:
    from apps.inference.services import inference_job_finish

    _enable_judge(monkeypatch)
    attempt, _ = _submit(resident, report_case, report_set, CANDIDATE)
    finish(attempt)
    attempt.refresh_from_db()
    judge_job = Job.objects.get(pk=attempt.judge_job_id)
    assert judge_job.kind == "ml.report.judge"
    assert judge_job.request["reference"] == REFERENCE
    assert judge_job.request["candidate"] == CANDIDATE
    xp_before = attempt.xp
    judge_result = {
        "errors": [
            {
                "category": "missed_finding",
                "label": "Effusion",
                "message": "Missed.",
                "weight": 0.5,
                "candidate_excerpt": None,
            }
        ],
        "clinically_significant_errors": 1,
        "model_id": "judge-model",
        "prompt_version": "judge-1",
        "backend": "openai",
        "repaired": False,
    }
    for _ in range(2):
        inference_job_finish(job_id=judge_job.pk, status="done", result=judge_result, error="")
    scores = ReportScore.objects.filter(attempt=attempt).order_by("kind")
    assert [(s.kind, s.scorer_version) for s in scores] == [
        ("judge", "judge-model@judge-1"),
        ("rules", "rules-1.0"),
    ]
    attempt.refresh_from_db()
    assert attempt.xp == xp_before
    assert ScoreEvent.objects.filter(user=resident).count() == 1


def test_judge_is_not_dispatched_by_default(
    resident: Any, report_set: Any, report_case: Any, finish: Any, monkeypatch: Any
) -> None:
    monkeypatch.delenv("RADGAME_JUDGE", raising=False)
    attempt, _ = _submit(resident, report_case, report_set, CANDIDATE)
    finish(attempt)
    attempt.refresh_from_db()
    assert attempt.judge_job_id is None
    assert not Job.objects.filter(kind="ml.report.judge").exists()


def test_a_broken_judge_configuration_does_not_stop_scoring(
    resident: Any, report_set: Any, report_case: Any, finish: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("RADGAME_JUDGE", "openai")  # no endpoint configured: a ConfigError
    monkeypatch.delenv("RADGAME_OPENAI_BASE_URL", raising=False)
    attempt, _ = _submit(resident, report_case, report_set, CANDIDATE)
    finish(attempt)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SCORED and attempt.judge_job_id is None


def test_failed_judge_leaves_the_attempt_scored(
    resident: Any, report_set: Any, report_case: Any, finish: Any, monkeypatch: Any
) -> None:
    from apps.inference.services import inference_job_finish

    _enable_judge(monkeypatch)
    attempt, _ = _submit(resident, report_case, report_set, CANDIDATE)
    finish(attempt)
    attempt.refresh_from_db()
    inference_job_finish(job_id=attempt.judge_job_id, status="failed", result=None, error="x")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SCORED
    assert ReportScore.objects.filter(attempt=attempt).count() == 1
