"""The one marks parser and views: a box lies on a view of the case, the first by default."""

from __future__ import annotations

import pytest

from apps.cases.marks import marks_parse
from apps.core.exceptions import ApplicationError

BOX = [0.1, 0.1, 0.3, 0.3]


def _parse(boxes: list[dict[str, object]], views: list[int]) -> list[object]:
    marks = marks_parse({"boxes": boxes}, max_boxes=10, max_selected=10, views=views)
    return [mark.view for mark in marks.boxes]


def test_a_box_without_a_view_lies_on_the_first_view() -> None:
    assert _parse([{"label": "Nodule", "box": BOX}], [7, 9]) == [7]


def test_a_box_keeps_the_view_it_names() -> None:
    # A form field may carry the id as text: it is the same view.
    boxes = [{"label": "Nodule", "box": BOX, "view": 9}, {"label": "Mass", "box": BOX, "view": "9"}]
    assert _parse(boxes, [7, 9]) == [9, 9]


@pytest.mark.parametrize("views", [[7, 9], []])
def test_a_view_the_case_does_not_have_is_refused(views: list[int]) -> None:
    with pytest.raises(ApplicationError, match="view this study does not have") as error:
        _parse([{"label": "Nodule", "box": BOX}, {"label": "Nodule", "box": BOX, "view": 8}], views)
    assert error.value.field == "boxes[1].view"


def test_a_case_without_images_takes_boxes_without_a_view() -> None:
    assert _parse([{"label": "Nodule", "box": BOX}], []) == [None]
