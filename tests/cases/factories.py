"""Builders for case-library tests, through the services. Ground truth carries canaries that
must never reach a resident before submission: a sentence, a report text and a box coordinate."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

CANARY_SENTENCE = "GTCANARY-sentence-7f3a9c"
CANARY_REPORT = "GTCANARY-report-51be02"
CANARY_BOX = 0.123457
CANARY_MARKS = {"boxes": [{"label": "Nodule", "box": [CANARY_BOX, 0.2, 0.4, 0.5]}]}


def png_bytes(width: int = 64, height: int = 64, mode: str = "L", value: int = 90) -> bytes:
    image = Image.new(mode, (width, height), value)
    # A gradient so the derived window presets are not degenerate.
    for x in range(width):
        level = (x * 4) % 256 if mode != "I;16" else x * 900
        image.putpixel((x, height // 2), level if mode != "RGB" else (level,) * 3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def add_image(owner: Any, case: Any, data: bytes | None = None) -> Any:
    from apps.cases.imaging import ingest_image
    from apps.cases.services import case_image_add

    data = data or png_bytes()
    return case_image_add(
        actor=owner, case=case, ingested=ingest_image(data, filename="x.png"), source=data
    )


def make_case(
    owner: Any,
    *,
    title: str = "Case",
    published: bool = True,
    with_truth: bool = True,
    with_image: bool = True,
) -> Any:
    from apps.cases.models import Finding
    from apps.cases.services import case_boxes_set, case_create, case_publish, case_report_write

    case = case_create(actor=owner, title=title, indication="cough", patient_age=50)
    if with_image:
        add_image(owner, case)
    if with_truth:
        case_boxes_set(actor=owner, case=case, marks=CANARY_MARKS)
        Finding.objects.filter(case=case).update(sentence=CANARY_SENTENCE)
        case_report_write(actor=owner, case=case, findings=CANARY_REPORT, source="radiologist")
    if published:
        case_publish(actor=owner, case=case)
    case.refresh_from_db()
    return case


def make_set(
    owner: Any, cases: list[Any], *, name: str = "Set", shared: bool = False, cohort: Any = None
) -> Any:
    from apps.cases.services import case_set_assign, case_set_case_add, case_set_create

    case_set = case_set_create(actor=owner, name=name, shared=shared)
    for case in cases:
        case_set_case_add(actor=owner, case_set=case_set, case=case)
    if cohort is not None:
        case_set_assign(actor=owner, case_set=case_set, cohort=cohort)
    return case_set
