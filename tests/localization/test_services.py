"""The submit service: one parser, synchronous scoring, one transaction, idempotency, XP, jobs."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from apps.core.exceptions import ApplicationError
from apps.exercises.models import Delivery as CaseDelivery
from apps.exercises.xp import REPLAY_XP
from apps.inference.models import Job
from apps.localization.models import Explanation, LocalizationAttempt, Mark
from apps.localization.services import (
    localization_attempt_submit,
    localization_delivery_open,
    localization_marks_parse,
)
from apps.progress.models import ScoreEvent

from .conftest import CANARY_EXPLANATION, EFFUSION_BOX, NODULE_BOX, finish_reference_jobs

pytestmark = pytest.mark.django_db


def submit(
    user: Any, world: Any, marks: Any, selected: Any = (), key: Any = None, case: Any = None
):
    return localization_attempt_submit(
        user=user,
        case=case or world.case,
        case_set=world.practice,
        marks_json=marks,
        selected=list(selected),
        idempotency_key=key or uuid.uuid4(),
    )


def test_perfect_answer_scores_one_and_records_xp(resident, world):
    marks = {"boxes": [{"label": "Nodule", "box": NODULE_BOX, "confidence": 4},
                       {"label": "pleural effusion", "box": EFFUSION_BOX}]}  # fmt: skip
    outcome = submit(resident, world, json.dumps(marks), ["Emphysema"])
    attempt = outcome.attempt
    assert outcome.created
    assert attempt.score == 1.0
    assert attempt.result["counts"] == {
        "hits": 3,
        "misses": 0,
        "false_positives": 0,
        "mislabelled": 0,
    }
    assert attempt.attempt_no == 1 and not attempt.post_reveal
    assert attempt.scorer_version and attempt.iou_threshold == pytest.approx(0.3)
    event = ScoreEvent.objects.get(attempt_ref=f"localization.attempt:{attempt.pk}")
    assert event.kind == "localize" and event.xp == attempt.xp > 0
    rows = list(Mark.objects.filter(attempt=attempt).order_by("selected", "index"))
    assert [(m.label, m.selected, m.confidence) for m in rows] == [
        ("Nodule", False, 4), ("Effusion", False, None), ("Emphysema", True, None)
    ]  # fmt: skip
    assert rows[0].box == NODULE_BOX and rows[2].box is None
    # Nothing wrong and nothing missed: no explanation job.
    assert attempt.explain_job is None


def test_misses_and_false_positives_dispatch_one_explanation_job(resident, world):
    marks = {"boxes": [{"label": "Mass", "box": [0.05, 0.7, 0.2, 0.9]},
                       {"label": "Atelectasis", "box": EFFUSION_BOX}]}  # fmt: skip
    attempt = submit(resident, world, marks, ["Edema"]).attempt
    result = attempt.result
    assert result["counts"]["hits"] == 0 and result["counts"]["misses"] == 3
    assert result["counts"]["mislabelled"] == 1
    job = attempt.explain_job
    assert job.kind == "ml.vlm.explain" and job.owner == resident
    assert job.subject == f"localization.attempt:{attempt.pk}"
    items = job.request["items"]
    assert items[0] == "mislabelled:1"  # right place, wrong name
    assert set(items[1:3]) == {"fp:0", "fp:select:Edema"}
    # No precomputed explanations yet, so every missed finding is asked for too.
    assert {i for i in items if i.startswith("missed:")} and len(items) == len(
        job.request["requests"]
    )
    mislabelled = job.request["requests"][0]
    assert mislabelled["error"] == "mislabelled" and mislabelled["label"] == "Effusion"
    assert (
        mislabelled["marked_label"] == "Atelectasis" and mislabelled["marked_box"] == EFFUSION_BOX
    )


def test_misses_are_asked_with_this_attempts_context_even_when_the_case_is_cached(resident, world):
    finish_reference_jobs()
    assert Explanation.objects.filter(case=world.case, attempt__isnull=True).count() == 3
    far_mass = [0.05, 0.7, 0.2, 0.9]
    attempt = submit(resident, world, {"boxes": [{"label": "Mass", "box": far_mass}]}).attempt
    # The cached words are generic; the attempt's own say what this player did.
    job = attempt.explain_job
    items = job.request["items"]
    assert {i.split(":")[0] for i in items} == {"fp", "missed"}
    assert len([i for i in items if i.startswith("missed:")]) == 3
    request = next(r for r in job.request["requests"] if r["error"] == "missed")
    assert request["marks"] == [{"label": "Mass", "box": far_mass}]
    labels = sorted(f["label"] for f in request["findings"])
    assert labels == ["Effusion", "Emphysema", "Nodule"]
    assert {"label": "Nodule", "box": NODULE_BOX} in request["findings"]
    assert request["iou_threshold"] == pytest.approx(0.3)


def test_attempt_job_completion_stores_explanations(
    resident, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = submit(
            resident, world, {"boxes": [{"label": "Mass", "box": [0.05, 0.7, 0.2, 0.9]}]}
        ).attempt
    attempt.explain_job.refresh_from_db()
    assert attempt.explain_job.status == "done"  # the knowledge explainer ran in-process
    stored = {e.item: e for e in Explanation.objects.filter(attempt=attempt)}
    assert set(stored) == set(attempt.explain_job.request["items"])
    assert stored["fp:0"].backend == "knowledge" and "Mass".lower() in stored["fp:0"].text.lower()
    assert stored["fp:0"].mark_index == 0


def test_publish_dispatches_reference_job_once_per_content(world, educator):
    from apps.cases.services.cases import case_publish

    jobs = Job.objects.filter(subject__startswith=f"localization.case:{world.case.pk}:")
    assert jobs.count() == 1
    job = jobs.get()
    assert job.owner is None  # nobody can read a case's answers through the jobs API
    assert [r["error"] for r in job.request["requests"]] == ["reference"] * 3
    case_publish(actor=educator, case=world.case)
    assert jobs.count() == 1
    assert not Job.objects.filter(subject__startswith=f"localization.case:{world.normal_case.pk}:")


def test_reference_job_completion_caches_per_model_and_prompt(world):
    finish_reference_jobs()
    cached = Explanation.objects.filter(case=world.case, attempt__isnull=True)
    assert cached.count() == 3
    assert all(CANARY_EXPLANATION in e.text and e.model_id == "tiny-medgemma" for e in cached)
    assert {e.written_by for e in cached} == {"tiny-medgemma"}


def test_replayed_key_returns_the_same_attempt(resident, world):
    key = uuid.uuid4()
    first = submit(resident, world, {"boxes": []}, key=key)
    again = submit(resident, world, "this is not even JSON", key=key)
    assert not again.created and again.attempt.pk == first.attempt.pk
    assert LocalizationAttempt.objects.count() == 1
    assert ScoreEvent.objects.count() == 1


def test_key_of_another_case_is_refused(resident, world):
    key = uuid.uuid4()
    submit(resident, world, {"boxes": []}, key=key)
    with pytest.raises(ApplicationError) as error:
        submit(resident, world, {"boxes": []}, key=key, case=world.normal_case)
    assert error.value.field == "idempotency_key"


def test_keys_are_per_user(resident, world, educator):
    key = uuid.uuid4()
    mine = submit(resident, world, {"boxes": []}, key=key).attempt
    theirs = submit(educator, world, {"boxes": []}, key=key).attempt
    assert mine.pk != theirs.pk and theirs.user == educator


def test_second_attempt_is_numbered_and_flagged_post_reveal(resident, world):
    answer = {"boxes": [{"label": "Nodule", "box": [0.1, 0.1, 0.2, 0.2]}]}
    first = submit(resident, world, answer).attempt
    second = submit(resident, world, answer).attempt
    assert (first.attempt_no, second.attempt_no) == (1, 2)
    assert not first.post_reveal and second.post_reveal
    # A replay after the reveal earns the flat replay XP, never the first reading's.
    assert second.xp == REPLAY_XP < first.xp


def test_delivery_measures_time_on_the_server(resident, world):
    delivery = localization_delivery_open(user=resident, case=world.case, case_set=world.practice)
    assert (
        localization_delivery_open(user=resident, case=world.case, case_set=world.practice)
        == delivery
    )
    CaseDelivery.objects.filter(pk=delivery.pk).update(
        delivered_at=delivery.delivered_at - timedelta(seconds=42)
    )
    attempt = submit(resident, world, {"boxes": []}, key=delivery.idempotency_key).attempt
    assert 42 <= attempt.time_taken_s < 60
    delivery.refresh_from_db()
    assert delivery.closed_at is not None
    fresh = localization_delivery_open(user=resident, case=world.case, case_set=world.practice)
    assert fresh.pk != delivery.pk and fresh.idempotency_key != delivery.idempotency_key


@pytest.mark.parametrize(
    ("marks", "selected", "field"),
    [
        ('{"boxes": [{"label": "Nodule", "box": [0.5, 0.2, 0.4, 0.5]}]}', [], "boxes[0].box"),
        ('{"boxes": [{"label": "Nodule", "box": [0.1, 0.2, 1.4, 0.5]}]}', [], "boxes[0].box"),
        ('{"boxes": [{"label": "Nodule", "box": [NaN, 0.2, 0.4, 0.5]}]}', [], "boxes[0].box"),
        ('{"boxes": [{"label": "Dragon", "box": [0.1, 0.2, 0.4, 0.5]}]}', [], "boxes[0].label"),
        ('{"boxes": [{"label": "Nodule", "box": [0.1, 0.2, 0.4, 0.5], "confidence": 9}]}', [],
         "boxes[0].confidence"),
        ("{not json", [], "marks"),
        ("[1, 2]", [], "marks"),
        ("{}", ["Unicorn sign"], "selected[0]"),
    ],
)  # fmt: skip
def test_bad_marks_name_the_field(marks, selected, field):
    with pytest.raises(ApplicationError) as error:
        localization_marks_parse(marks_json=marks, selected=selected)
    assert error.value.field == field


def test_bad_marks_store_nothing(resident, world):
    with pytest.raises(ApplicationError):
        submit(resident, world, '{"boxes": [{"label": "Nodule", "box": [2, 0, 3, 1]}]}')
    assert not LocalizationAttempt.objects.exists() and not ScoreEvent.objects.exists()


def test_too_many_boxes_are_refused():
    boxes = [{"label": "Nodule", "box": [0.1, 0.1, 0.2, 0.2]}] * 61
    with pytest.raises(ApplicationError):
        localization_marks_parse(marks_json={"boxes": boxes}, selected=[])


def test_assessment_allows_one_answer_per_case(resident, world):
    case = world.assessment_cases[0]
    localization_attempt_submit(user=resident, case=case, case_set=world.assessment, marks_json={},
                                selected=[], idempotency_key=uuid.uuid4())  # fmt: skip
    with pytest.raises(ApplicationError):
        localization_attempt_submit(user=resident, case=case, case_set=world.assessment,
                                    marks_json={}, selected=[], idempotency_key=uuid.uuid4())  # fmt: skip


def test_database_refuses_boxes_outside_the_image(resident, world):
    attempt = submit(resident, world, {"boxes": []}).attempt
    for coords in (
        [0.5, 0.1, 0.4, 0.2],
        [-0.1, 0.1, 0.4, 0.2],
        [0.1, 0.1, 1.5, 0.2],
        [float("nan")] * 4,
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Mark.objects.bulk_create([Mark(attempt=attempt, index=9, label="Nodule",
                                           x1=coords[0], y1=coords[1], x2=coords[2], y2=coords[3])])  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Mark.objects.create(attempt=attempt, index=9, label="Edema", selected=True, x1=0.1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Mark.objects.create(attempt=attempt, index=8, label="Nodule", x1=0.1, y1=0.1, x2=0.2,
                            y2=0.2, confidence=6)  # fmt: skip
