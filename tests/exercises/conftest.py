"""Lifecycle fixtures: cases playable in both exercises (a ticked finding for Localize, a reference
report for Report), in a practice set and an assessment set of the resident's cohort."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.localization.conftest import build_set
from tests.reporting.conftest import fake_result, make_case

RIGHT = {"boxes": [], "selected": ["Effusion"]}  # the fixture cases' one finding, ticked
WRONG = {"boxes": [{"label": "Nodule", "box": [0.1, 0.1, 0.2, 0.2]}]}


@dataclass
class Both:
    case: Any
    other: Any
    practice: Any
    assessment: Any


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def both(educator: Any, cohort: Any) -> Both:
    case = make_case(owner=educator, title="Both one")
    other = make_case(owner=educator, title="Both two")
    third = make_case(owner=educator, title="Both three")
    practice = build_set(educator, cohort, [case, third], name="Practice")
    assessment = build_set(educator, cohort, [case, other], name="Exam", mode="assessment")
    return Both(case=case, other=other, practice=practice, assessment=assessment)


@pytest.fixture
def localize() -> Callable[..., Any]:
    from apps.localization.services import localization_attempt_submit

    def do(user: Any, case: Any, case_set: Any, marks: Any = None) -> Any:
        return localization_attempt_submit(
            user=user,
            case=case,
            case_set=case_set,
            marks_json=RIGHT if marks is None else marks,
            selected=[],
            idempotency_key=uuid.uuid4(),
        ).attempt

    return do


@pytest.fixture
def report() -> Callable[..., Any]:
    """Submit a report and finish its scoring job the way a worker's result does."""
    from apps.inference.services import inference_job_finish
    from apps.reporting.services import report_attempt_submit

    def do(user: Any, case: Any, case_set: Any, text: str = "Lungs clear. No effusion.") -> Any:
        attempt, _ = report_attempt_submit(
            user=user, case=case, case_set=case_set, text=text, idempotency_key=uuid.uuid4()
        )
        inference_job_finish(job_id=attempt.job_id, status="done", result=fake_result(), error="")
        attempt.refresh_from_db()
        return attempt

    return do
