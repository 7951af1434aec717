"""Localize fixtures: published cases with canaried ground truth, built through the cases services.

Canaries that must never reach a player before the submit: a finding sentence, a box coordinate
(0.123457) and the text of the precomputed explanation.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

CANARY_SENTENCE = "GTCANARY-sentence-4c81e2"
CANARY_SELECT_SENTENCE = "GTCANARY-select-sentence-9a07d5"
CANARY_EXPLANATION = "GTCANARY-explanation-b3f610"
CANARY_COORD = 0.123457
NODULE_BOX = [CANARY_COORD, 0.2, 0.4, 0.5]
EFFUSION_BOX = [0.6, 0.6, 0.9, 0.95]


def png_bytes(width: int = 96, height: int = 80) -> bytes:
    image = Image.new("L", (width, height), 90)
    for x in range(width):  # a gradient, so the viewer has something to window
        for y in range(0, height, 8):
            image.putpixel((x, y), (x * 255) // width)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def build_case(
    educator: Any,
    *,
    title: str,
    findings: list[Any] = (),  # type: ignore[assignment]
    is_normal: bool = False,
) -> Any:
    from django.db import transaction

    from apps.cases.imaging import ingest_image
    from apps.cases.services import case_create, case_image_add, case_publish
    from apps.cases.services.findings import case_truth_replace

    case = case_create(
        actor=educator,
        title=title,
        patient_age=61,
        patient_sex="F",
        view="PA",
        indication="Cough for three weeks",
    )
    data = png_bytes()
    case_image_add(
        actor=educator, case=case, ingested=ingest_image(data, filename="c.png"), source=data
    )
    with transaction.atomic():
        case_truth_replace(case=case, findings=list(findings), is_normal=is_normal)
    return case_publish(actor=educator, case=case)


def truth(label: str, boxes: list[list[float]] = (), sentence: str = "") -> Any:  # type: ignore[assignment]
    from apps.cases.services.boxes import MarkedBox
    from apps.cases.services.findings import TruthFinding

    regions = [[MarkedBox(label=label, box=tuple(box), reader="r1")] for box in boxes]
    return TruthFinding(label=label, regions=regions, sentence=sentence)


def build_set(
    educator: Any, cohort: Any, cases: list[Any], *, name: str, mode: str = "practice"
) -> Any:
    from apps.cases.services.sets import case_set_assign, case_set_case_add, case_set_create

    case_set = case_set_create(actor=educator, name=name, mode=mode)
    for case in cases:
        case_set_case_add(actor=educator, case_set=case_set, case=case)
    if cohort is not None:
        case_set_assign(actor=educator, case_set=case_set, cohort=cohort)
    return case_set


@dataclass
class World:
    case: Any  # Nodule (drawn, canary box + sentence) and Emphysema (select, canary sentence)
    normal_case: Any
    practice: Any
    assessment: Any
    assessment_cases: list[Any]
    other_case: Any
    other_set: Any  # other_educator's, assigned to other_cohort


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def world(
    educator: Any, other_educator: Any, cohort: Any, other_cohort: Any, resident: Any
) -> World:
    case = build_case(
        educator,
        title="Chest one",
        findings=[
            truth("Nodule", [NODULE_BOX], CANARY_SENTENCE),
            truth("Effusion", [EFFUSION_BOX], "Small right effusion."),
            truth("Emphysema", [], CANARY_SELECT_SENTENCE),
        ],
    )
    normal_case = build_case(educator, title="Chest two", is_normal=True)
    practice = build_set(educator, cohort, [case, normal_case], name="Practice set")
    a1 = build_case(educator, title="Assess one", findings=[truth("Nodule", [NODULE_BOX])])
    a2 = build_case(educator, title="Assess two", is_normal=True)
    assessment = build_set(educator, cohort, [a1, a2], name="Assessment set", mode="assessment")
    other_case = build_case(
        other_educator, title="Other", findings=[truth("Mass", [[0.1, 0.1, 0.3, 0.3]])]
    )
    other_set = build_set(other_educator, other_cohort, [other_case], name="Other programme set")
    return World(case, normal_case, practice, assessment, [a1, a2], other_case, other_set)


def finish_reference_jobs(text: str = CANARY_EXPLANATION) -> None:
    """Finish every pending precompute job as a worker would, with ``text`` as the words."""
    from apps.inference.models import Job
    from apps.inference.services import inference_job_finish

    for job in Job.objects.filter(subject__startswith="localization.case:", status="pending"):
        explanations = [
            {
                "text": f"{text} ({request['label']})",
                "backend": "transformers",
                "model_id": "tiny-medgemma",
                "prompt_version": "vlm-1",
            }
            for request in job.request["requests"]
        ]
        inference_job_finish(
            job_id=job.pk, status="done", result={"explanations": explanations}, error=""
        )


def answer(**boxes: Any) -> str:
    import json

    return json.dumps({"boxes": [{"label": k, "box": v} for k, v in boxes.items()]})
