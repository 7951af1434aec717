"""The one parser of marks: boxes drawn on an image and findings ticked beside it.

The case editor (form and API) and the Localize exercise (form and API) all read the viewer's
``{"boxes": [{"label", "box": [x1, y1, x2, y2], "confidence"}], "selected": [...]}`` through
``marks_parse``, so a box means the same thing wherever it is drawn. The shape is checked strictly
(``ml.boxes.parse_marks(strict=True)``): an unknown or mistyped field is refused with a message
naming it, never silently dropped. "Normal study" ticked together with boxes or findings is
refused too: a normal study has nothing to find.

Views: a box may say which view of the study it was drawn on (``"view": <CaseImage id>``). The
caller passes the case's views in order; a box without a view belongs to the first (a single-view
client never has to send one), and a view the case does not have is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from apps.core.bounded_json import JSONTooDeepError, json_loads_bounded
from apps.core.exceptions import ApplicationError
from ml.boxes import InputError, Marks, parse_marks

MAX_MARKS_JSON_CHARS = 64_000
NORMAL_CHOICE = "No finding"
NORMAL_WITH_MARKS = (
    "'Normal study' means there is nothing to find, so it cannot go with boxes or ticked "
    "findings: untick it, or remove the boxes and ticks."
)


def _marks_object(data: Any) -> Mapping[str, Any]:
    if data is None:
        return {}
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    if isinstance(data, str):
        if len(data) > MAX_MARKS_JSON_CHARS:
            raise ApplicationError("Too many marks.", field="marks")
        if not data.strip():
            return {}
        try:
            # NaN is let through so the box validator can name the coordinate it sits in.
            data = json_loads_bounded(data, max_bytes=MAX_MARKS_JSON_CHARS, allow_nan=True)
        except JSONTooDeepError as exc:
            raise ApplicationError(f"The marks could not be read: {exc}", field="marks") from None
        except ValueError:
            raise ApplicationError(
                "The marks could not be read (invalid JSON).", field="marks"
            ) from None
    if not isinstance(data, Mapping):
        raise ApplicationError('The marks must be an object {"boxes": [...]}.', field="marks")
    return data


def marks_parse(
    data: Any,
    *,
    selected: Iterable[Any] | None = None,
    max_boxes: int,
    max_selected: int,
    views: Sequence[int] = (),
) -> Marks:
    """Marks from a JSON string or its parsed object, plus ticks sent beside it (form checkboxes,
    the API's ``selected``); ApplicationError naming the field for anything wrong. ``views``: the
    case's view ids in order (each box gets one of them, the first by default)."""
    obj = _marks_object(data)
    extra = list(selected or ())
    if extra:
        own = obj.get("selected")
        if own is None or isinstance(own, list):
            obj = {**obj, "selected": [*(own or []), *extra]}
        # Anything else is left for the parser, which names the mistyped field.
    boxes, ticks = obj.get("boxes"), obj.get("selected")
    if isinstance(boxes, list) and len(boxes) > max_boxes:
        raise ApplicationError(f"At most {max_boxes} boxes.", field="marks")
    if isinstance(ticks, list) and len(ticks) > max_selected:
        message = (
            f"At most {max_selected} ticked findings."
            if max_selected
            else "These marks hold boxes only: tick findings in the checklist."
        )
        raise ApplicationError(message, field="selected")
    try:
        marks = parse_marks(obj, strict=True)
    except InputError as error:
        raise ApplicationError(
            f"The marks were not understood: {error.field}: {error.problem}.", field=error.field
        ) from None
    if marks.normal and (marks.boxes or marks.selected):
        raise ApplicationError(NORMAL_WITH_MARKS, field="selected")
    return _on_views(marks, views)


def _on_views(marks: Marks, views: Sequence[int]) -> Marks:
    if not marks.boxes:
        return marks
    # Only the first view is read unless a box names another (``views`` may be lazy).
    default = next(iter(views), None)
    known: dict[str, int] | None = None
    boxes = []
    for i, mark in enumerate(marks.boxes):
        if mark.view is None or str(mark.view) == str(default):
            view = default
        else:
            if known is None:
                known = {str(view): view for view in views}
            view = known.get(str(mark.view))
        if view is None and mark.view is not None:
            raise ApplicationError(
                f"Box {i + 1} names a view this study does not have ({mark.view!r}).",
                field=f"boxes[{i}].view",
            )
        same = mark.view == view and type(mark.view) is type(view)
        boxes.append(mark if same else replace(mark, view=view))
    return replace(marks, boxes=tuple(boxes))
