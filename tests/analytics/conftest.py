"""Analytics fixtures: a cohort whose resident played Localize (boxes with confidences) and
Report, in a practice set past its due date and in an open assessment, built through services."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.localization.conftest import EFFUSION_BOX, NODULE_BOX, build_case, build_set, truth

MASS_BOX = [0.05, 0.05, 0.15, 0.15]


def localize(user: Any, case: Any, case_set: Any, boxes: list[dict[str, Any]]) -> Any:
    from apps.localization.services import localization_attempt_submit

    return localization_attempt_submit(
        user=user,
        case=case,
        case_set=case_set,
        marks_json=json.dumps({"boxes": boxes}),
        selected=[],
        idempotency_key=uuid.uuid4(),
    ).attempt


def report(user: Any, case: Any, case_set: Any, result: dict[str, Any] | None = None) -> Any:
    from apps.inference.services import inference_job_finish
    from apps.reporting.services import report_attempt_submit
    from tests.reporting.conftest import fake_result

    attempt, _ = report_attempt_submit(
        user=user,
        case=case,
        case_set=case_set,
        text="Small left pleural effusion. No pneumothorax.",
        idempotency_key=uuid.uuid4().hex,
    )
    attempt.refresh_from_db()
    inference_job_finish(
        job_id=attempt.job_id, status="done", result=result or fake_result(), error=""
    )
    attempt.refresh_from_db()
    return attempt


@dataclass
class Played:
    case: Any  # Nodule + Effusion drawn, Emphysema select
    normal_case: Any
    practice: Any  # assigned, due yesterday; the resident answered 1 case of 3
    assessment: Any  # assigned, open, one of its two cases answered: not released
    report_case: Any
    chest: Any  # the resident's Localize attempt on ``case``
    normal: Any  # the resident's Localize attempt on ``normal_case``
    exam: Any  # the resident's assessment attempt
    reported: Any  # the resident's Report attempt


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def recount_at_once(monkeypatch: Any) -> None:
    """The weekly summaries are recounted after the change commits; a test's changes never
    commit (its transaction is rolled back), so here they are recounted at once."""
    monkeypatch.setattr("apps.analytics.summary.after_commit", lambda job: job())


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """The cohort pages' cache lives in the process: a rolled-back test's ids may come again."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def played(educator: Any, cohort: Any, resident: Any) -> Played:
    return build_played(educator, cohort, resident)


def build_played(educator: Any, cohort: Any, resident: Any) -> Played:
    from django.utils import timezone

    from apps.cases.services.sets import case_set_assign
    from tests.reporting.conftest import make_case

    case = build_case(
        educator,
        title="Chest one",
        findings=[
            truth("Nodule", [NODULE_BOX]),
            truth("Effusion", [EFFUSION_BOX]),
            truth("Emphysema", []),
        ],
    )
    normal_case = build_case(educator, title="Chest two", is_normal=True)
    report_case = make_case(owner=educator, title="Report one")
    practice = build_set(educator, None, [case, normal_case, report_case], name="Practice set")
    case_set_assign(
        actor=educator,
        case_set=practice,
        cohort=cohort,
        due_at=timezone.now() - timedelta(days=2, hours=1),
    )
    a1 = build_case(educator, title="Assess one", findings=[truth("Nodule", [NODULE_BOX])])
    a2 = build_case(educator, title="Assess two", is_normal=True)
    assessment = build_set(educator, cohort, [a1, a2], name="Assessment set", mode="assessment")
    chest = localize(
        resident,
        case,
        practice,
        [
            {"label": "Nodule", "box": NODULE_BOX, "confidence": 4},
            {"label": "Mass", "box": MASS_BOX, "confidence": 2},
        ],
    )
    normal = localize(
        resident, normal_case, practice, [{"label": "Nodule", "box": MASS_BOX, "confidence": 3}]
    )
    exam = localize(resident, a1, assessment, [{"label": "Nodule", "box": NODULE_BOX}])
    reported = report(resident, report_case, practice)
    return Played(
        case, normal_case, practice, assessment, report_case, chest, normal, exam, reported
    )


def hinted_localize(educator: Any, resident: Any, hints: int) -> Any:
    """A Localize attempt on a new case of a new practice set, after ``hints`` hints taken
    through the hint service (the count reaches the attempt from its delivery)."""
    from apps.exercises.hints import hint_take

    case = build_case(educator, title="Hinted chest", findings=[truth("Nodule", [NODULE_BOX])])
    case_set = build_set(educator, None, [case], name="Hinted set")
    for number in range(1, hints + 1):
        hint_take(user=resident, exercise="localize", case=case, case_set=case_set, number=number)
    return localize(resident, case, case_set, [{"label": "Nodule", "box": NODULE_BOX}])
