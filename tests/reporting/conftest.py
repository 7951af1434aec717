"""Report exercise fixtures: a set assigned to the resident's cohort, cases whose reference report
carries a canary, and canned scorer results (the scorer itself is tested in tests/ml).

Jobs are not run by these fixtures: pytest-django wraps each test in a transaction, so the
in-process runner (an on-commit callback) never fires, and tests finish jobs themselves through
``inference_job_finish``, the path a worker's result takes.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest

CANARY = f"GTCANARY-{uuid.uuid4().hex[:12]}"
REFERENCE = (
    "Right lower lobe consolidation. "
    f"Small left pleural effusion {CANARY}. "
    "Heart size is normal. No pneumothorax."
)
CANDIDATE = "Right lower lobe consolidation. No pleural effusion. No pneumothorax."


def png_bytes(width: int = 64, height: int = 64) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (width, height), color=90).save(buffer, format="PNG")
    return buffer.getvalue()


def make_case(
    *,
    owner: Any,
    title: str = "Case",
    findings: str = REFERENCE,
    is_derived: bool = False,
    published: bool = True,
    age: int | None = 54,
    indication: str = "Cough and fever for three days.",
) -> Any:
    """A case built the way an educator builds one: facts, a PNG, a ticked finding, the
    reference report (when ``findings``), published."""
    from apps.cases import services as cases
    from apps.cases.imaging import ingest_image

    case = cases.case_create(
        actor=owner, title=title, patient_age=age, patient_sex="F", view="PA", indication=indication
    )
    data = png_bytes()
    cases.case_image_add(actor=owner, case=case, ingested=ingest_image(data), source=data)
    cases.case_selected_set(actor=owner, case=case, labels=["Effusion"])
    if findings:
        cases.case_report_write(
            actor=owner,
            case=case,
            findings=findings,
            impression=f"Right lower lobe pneumonia. {CANARY}-IMPRESSION",
            source="derived from NIH labels and boxes" if is_derived else "radiologist",
            is_derived=is_derived,
        )
    if published:
        case = cases.case_publish(actor=owner, case=case)
    return case


def make_set(*, owner: Any, cases: list[Any], cohort: Any | None = None, name: str = "Set") -> Any:
    from apps.cases import services

    case_set = services.case_set_create(actor=owner, name=name)
    for case in cases:
        services.case_set_case_add(actor=owner, case_set=case_set, case=case)
    if cohort is not None:
        services.case_set_assign(actor=owner, case_set=case_set, cohort=cohort)
    return case_set


def fake_result(
    reference: str = REFERENCE, candidate: str = CANDIDATE, **overrides: Any
) -> dict[str, Any]:
    """The shape of ``ml.report_metrics.score_report`` with one missed effusion."""
    ref_at = reference.index("pleural effusion")
    cand_at = candidate.index("pleural effusion")
    result = {
        "clinical_score": 0.5,
        "clinical_percent": 50.0,
        "style_score": 0.7,
        "style": {
            "coverage": {"score": 0.5, "weight": 0.4, "reason": "Not addressed: bones."},
            "concision": {"score": 1.0, "weight": 0.2, "reason": "Concise."},
        },
        "reference_findings": [
            {
                "label": "Effusion",
                "presence": "present",
                "span": [ref_at, ref_at + 16],
                "sentence_span": [32, reference.index(".", ref_at) + 1],
            }
        ],
        "candidate_findings": [],
        "errors": [
            {
                "category": "missed_finding",
                "label": "Effusion",
                "weight": 0.5,
                "penalty": 0.5,
                "reference_span": [ref_at, ref_at + 16],
                "candidate_span": [cand_at, cand_at + 16],
                "message": "The reference reports a small left effusion; your report says none.",
            }
        ],
        "matched": [
            {"label": "Consolidation", "candidate_label": "Consolidation", "related": False}
        ],
        "lexical": {"bleu2": 0.41, "rougeL": 0.55},
        "scorer_version": "rules-1.0",
    }
    result.update(overrides)
    return result


@pytest.fixture
def report_case(educator: Any) -> Any:
    return make_case(owner=educator, title="Pneumonia, right lower lobe")


@pytest.fixture
def second_case(educator: Any) -> Any:
    return make_case(owner=educator, title="Second case", is_derived=True)


@pytest.fixture
def report_set(educator: Any, cohort: Any, report_case: Any, second_case: Any) -> Any:
    unreportable = make_case(owner=educator, title="No reference", findings="")
    return make_set(
        owner=educator,
        cases=[report_case, unreportable, second_case],
        cohort=cohort,
        name="Chest 1",
    )


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def submit() -> Callable[..., Any]:
    from apps.reporting.services import report_attempt_submit

    def do(
        user: Any, case: Any, case_set: Any, text: str = CANDIDATE, key: str | None = None
    ) -> Any:
        attempt, _ = report_attempt_submit(
            user=user,
            case=case,
            case_set=case_set,
            text=text,
            idempotency_key=key or uuid.uuid4().hex,
        )
        return attempt

    return do


@pytest.fixture
def finish() -> Callable[..., Any]:
    """Finish an attempt's current scoring job the way a worker's result does."""
    from apps.inference.services import inference_job_finish

    def do(attempt: Any, *, result: dict[str, Any] | None = None, error: str = "") -> Any:
        attempt.refresh_from_db()
        status = "failed" if error else "done"
        payload = None if error else (result or fake_result())
        return inference_job_finish(
            job_id=attempt.job_id, status=status, result=payload, error=error
        )

    return do
