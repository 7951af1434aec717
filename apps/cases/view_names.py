"""What a view of a study is called, wherever it is read: the case's facts, the viewer's label and
its tab, the hints and the case editor. One rule, so that a film is never "view 1 (PA)" in the
facts beside a viewer that calls it "View 1".

A view is named by its own projection (the educator's, the dataset's or the DICOM header's). A
study of one view that has none is named by the case's View fact (PA, AP, LL, ...: the NIH view
position, or what the educator picked), which can only describe that one film. Otherwise the view
is "View N", by its place in the study.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.cases.models import CaseImage


def view_projection(*, projection: str, count: int, case_view: str) -> str:
    """The projection a view is known by ("" when none is): its own, or for a study's only view,
    the case's View fact."""
    return projection or (case_view if count == 1 else "")


def view_name(*, projection: str, number: int, count: int, case_view: str) -> str:
    """The name of view ``number`` (from 1) of a study of ``count`` views."""
    return view_projection(projection=projection, count=count, case_view=case_view) or (
        f"View {number}"
    )


def named_views(images: Iterable[CaseImage], case: Any = None) -> list[tuple[CaseImage, str]]:
    """Each view of one case, in the order given, with its name. ``case`` defaults to the first
    image's (the related manager and the prefetch set it: no query)."""
    images = list(images)
    if not images:
        return []
    case_view = (case if case is not None else images[0].case).view or ""
    return [
        (
            image,
            view_name(
                projection=image.projection,
                number=number,
                count=len(images),
                case_view=case_view,
            ),
        )
        for number, image in enumerate(images, start=1)
    ]
