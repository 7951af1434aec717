"""The explainer contract: what a worker receives (ExplainRequest) and returns (Explanation).

Both are plain, JSON round-trippable records so a gpu worker needs nothing but this package and the
media directory. Validation happens on construction, so a malformed job fails before a model runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol, cast

ErrorKind = Literal["missed", "false_positive", "mislabelled", "reference"]
ERROR_KINDS: tuple[ErrorKind, ...] = ("missed", "false_positive", "mislabelled", "reference")

Box = tuple[float, float, float, float]

MAX_LABEL_CHARS = 80
MAX_SENTENCE_CHARS = 600
MAX_PATH_CHARS = 500
_SEX_ALIASES = {"m": "M", "male": "M", "f": "F", "female": "F", "o": "O", "other": "O"}


MAX_CONTEXT_BOXES = 50


class ExplainRequestError(ValueError):
    """The request does not satisfy the contract; the message names the field."""


@dataclass(frozen=True)
class LabelledBox:
    """A resident's mark or a reference finding of the same case: a label and a normalised box,
    or no box for a ticked (select) mark or a non-localizable finding."""

    label: str
    box: Box | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "box": list(self.box) if self.box is not None else None}


@dataclass(frozen=True)
class ExplainRequest:
    """One finding to explain to a resident.

    ``box`` is the reference finding's box (None for select findings and for false positives);
    ``marked_box`` and ``marked_label`` describe what the resident drew or ticked. Boxes are
    normalised ``[x1, y1, x2, y2]``. ``image_path`` is relative to the configured media root.

    The case context lets an explanation describe this case rather than the finding in general:
    ``marks`` are everything the resident marked on this film (boxes and ticks), ``findings`` the
    reference findings of the film, ``iou_threshold`` the overlap a box needed to count.
    """

    label: str
    error: ErrorKind
    box: Box | None = None
    view: str = "PA"
    sentence: str | None = None
    marked_label: str | None = None
    marked_box: Box | None = None
    image_path: str | None = None
    age: int | None = None
    sex: str | None = None
    # None: the sender gave no case context (an older sender, or a precomputed explanation).
    marks: tuple[LabelledBox, ...] | None = None
    findings: tuple[LabelledBox, ...] | None = None
    iou_threshold: float | None = None

    def __post_init__(self) -> None:
        set_field = object.__setattr__  # frozen: normalise in place during construction only
        set_field(self, "label", _required_text("label", self.label, MAX_LABEL_CHARS))
        if self.error not in ERROR_KINDS:
            raise ExplainRequestError(
                f"error must be one of {', '.join(ERROR_KINDS)}; got {self.error!r}"
            )
        set_field(self, "box", _optional_box("box", self.box))
        set_field(self, "marked_box", _optional_box("marked_box", self.marked_box))
        set_field(self, "view", _required_text("view", self.view, 8).upper())
        set_field(self, "sentence", _optional_text("sentence", self.sentence, MAX_SENTENCE_CHARS))
        set_field(
            self,
            "marked_label",
            _optional_text("marked_label", self.marked_label, MAX_LABEL_CHARS),
        )
        set_field(self, "image_path", _optional_path(self.image_path))
        if self.age is not None and (
            isinstance(self.age, bool) or not isinstance(self.age, int) or not 0 <= self.age <= 130
        ):
            raise ExplainRequestError(f"age must be a whole number 0-130 or null; got {self.age!r}")
        if self.sex is not None:
            sex = _SEX_ALIASES.get(str(self.sex).strip().lower())
            if sex is None:
                raise ExplainRequestError(f"sex must be M, F, O or null; got {self.sex!r}")
            set_field(self, "sex", sex)
        set_field(self, "marks", _labelled_boxes("marks", self.marks))
        set_field(self, "findings", _labelled_boxes("findings", self.findings))
        if self.iou_threshold is not None and (
            isinstance(self.iou_threshold, bool)
            or not isinstance(self.iou_threshold, int | float)
            or not 0 < self.iou_threshold <= 1
        ):
            raise ExplainRequestError(
                f"iou_threshold must be a number in (0, 1] or null; got {self.iou_threshold!r}"
            )
        if self.error in ("mislabelled", "false_positive") and self.marked_label is None:
            raise ExplainRequestError(f"marked_label is required when error is {self.error!r}")

    @property
    def focus_box(self) -> Box | None:
        """The region the explanation is about: the finding, or the resident's box when there is
        no finding there (a false positive)."""
        return self.box if self.box is not None else self.marked_box

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("box", "marked_box"):
            if data[key] is not None:
                data[key] = list(data[key])
        for key in ("marks", "findings"):
            items = getattr(self, key)
            data[key] = None if items is None else [item.to_dict() for item in items]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExplainRequest:
        """Build from JSON; unknown keys are ignored so newer senders stay compatible."""
        if not isinstance(data, Mapping):
            raise ExplainRequestError("an explain request must be a JSON object")
        for key in ("label", "error"):
            if key not in data:
                raise ExplainRequestError(f"{key} is required")
        known = cls.__dataclass_fields__.keys()
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True)
class Explanation:
    """What the resident reads, and who wrote it (stored beside the text for audit)."""

    text: str
    backend: str
    model_id: str
    prompt_version: str
    # Set when a model was asked but its answer was unusable and the knowledge base answered.
    fallback_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Explanation:
        known = cls.__dataclass_fields__.keys()
        return cls(**{key: value for key, value in data.items() if key in known})


class Explainer(Protocol):
    """Anything that turns requests into explanations; see ``ml.vlm.get_explainer``."""

    name: str

    def explain(self, request: ExplainRequest) -> Explanation: ...

    def explain_many(self, requests: Sequence[ExplainRequest]) -> list[Explanation]: ...


def _labelled_boxes(name: str, value: object) -> tuple[LabelledBox, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise ExplainRequestError(f"{name} must be a list of {{label, box}} objects")
    if len(value) > MAX_CONTEXT_BOXES:
        raise ExplainRequestError(f"{name} holds more than {MAX_CONTEXT_BOXES} items")
    items = []
    for index, item in enumerate(value):
        if isinstance(item, LabelledBox):
            label, box = item.label, item.box
        elif isinstance(item, Mapping):
            label, box = item.get("label"), item.get("box")
        else:
            raise ExplainRequestError(f"{name}[{index}] must be an object with a label")
        items.append(
            LabelledBox(
                label=_required_text(f"{name}[{index}].label", label, MAX_LABEL_CHARS),
                box=_optional_box(f"{name}[{index}].box", box),
            )
        )
    return tuple(items)


def _required_text(name: str, value: object, max_chars: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ExplainRequestError(f"{name} must be a non-empty string")
    text = value.strip()
    if len(text) > max_chars:
        raise ExplainRequestError(f"{name} is longer than {max_chars} characters")
    return text


def _optional_text(name: str, value: object, max_chars: int) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _required_text(name, value, max_chars)


def _optional_path(value: object) -> str | None:
    path = _optional_text("image_path", value, MAX_PATH_CHARS)
    if path is None:
        return None
    # Cheap early rejection; ml.vlm.images resolves and re-checks against the media root.
    if path.startswith(("/", "\\")) or ".." in path.replace("\\", "/").split("/") or ":" in path:
        raise ExplainRequestError(f"image_path must be relative to the media root; got {path!r}")
    return path


def _optional_box(name: str, value: object) -> Box | None:
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 4:
        raise ExplainRequestError(f"{name} must be [x1, y1, x2, y2]; got {value!r}")
    coords: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise ExplainRequestError(f"{name} must hold four finite numbers; got {value!r}")
        coords.append(float(item))
    x1, y1, x2, y2 = coords
    if not (0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0):
        raise ExplainRequestError(
            f"{name} must be normalised with 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1; got {value!r}"
        )
    return cast(Box, tuple(coords))
