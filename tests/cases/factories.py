"""Builders for case-library tests. Ground truth carries canaries that must never reach a
resident before submission: a sentence, a report text and a box coordinate."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.base import ContentFile
from PIL import Image

CANARY_SENTENCE = "GTCANARY-sentence-7f3a9c"
CANARY_REPORT = "GTCANARY-report-51be02"
CANARY_BOX = 0.123457


def png_bytes(width: int = 64, height: int = 64, mode: str = "L") -> bytes:
    image = Image.new(mode, (width, height), 90)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_case(
    owner: Any, *, title: str = "Case", published: bool = True, with_truth: bool = True
) -> Any:
    from apps.cases.models import Case, CaseImage, Finding, FindingBox, ReferenceReport

    case = Case.objects.create(
        title=title, owner=owner, status="published" if published else "draft"
    )
    data = png_bytes()
    image = CaseImage(
        case=case,
        kind="png",
        width=64,
        height=64,
        display_width=64,
        display_height=64,
        sha256="0" * 64,
    )
    image.original.save("o.png", ContentFile(data), save=False)
    image.display.save("d.png", ContentFile(data), save=False)
    image.pixels16.save("p.png", ContentFile(data), save=False)
    image.save()
    if with_truth:
        finding = Finding.objects.create(case=case, label="Nodule", sentence=CANARY_SENTENCE)
        FindingBox.objects.create(finding=finding, x1=CANARY_BOX, y1=0.2, x2=0.4, y2=0.5)
        ReferenceReport.objects.create(case=case, findings=CANARY_REPORT)
    return case
