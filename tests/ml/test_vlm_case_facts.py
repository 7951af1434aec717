"""Explanations that describe this case: the resident's own marks, the film's other findings, the
patient's frame, and what tells confusable findings apart; the model prompt carries the same facts."""

from __future__ import annotations

from typing import Any

import pytest

from ml.vlm import ExplainRequest, ExplainRequestError
from ml.vlm.knowledge import KnowledgeExplainer, finding_facts
from ml.vlm.prompts import explain_user_prompt
from ml.vlm.schema import MAX_CONTEXT_BOXES, LabelledBox

NODULE = [0.15, 0.2, 0.3, 0.35]  # image left, upper: the patient's right upper zone
EFFUSION = [0.6, 0.6, 0.9, 0.8]  # image right, lower: the patient's left lower zone
FINDINGS = [
    {"label": "Nodule", "box": NODULE},
    {"label": "Effusion", "box": EFFUSION},
    {"label": "Emphysema", "box": None},
]


def text(**fields: Any) -> str:
    return KnowledgeExplainer().explain(ExplainRequest.from_dict(fields)).text


def missed_nodule(marks: list[dict[str, Any]], **extra: Any) -> str:
    return text(label="Nodule", error="missed", box=NODULE, marks=marks, findings=FINDINGS, **extra)


def false_positive(label: str, box: list[float] | None, findings: Any = FINDINGS) -> str:
    return text(
        label=label, error="false_positive", marked_label=label, marked_box=box, findings=findings
    )


def test_a_miss_says_where_it_is_in_the_patients_frame() -> None:
    assert missed_nodule([]).startswith(
        "You missed a nodule in the right upper zone (the patient's right, on the left of the "
        "image). You made no marks on this film. A nodule is"
    )


def test_a_miss_with_a_box_that_overlapped_too_little_gives_the_overlap_and_the_threshold() -> None:
    result = missed_nodule([{"label": "nodules", "box": [0.2, 0.25, 0.4, 0.45]}], iou_threshold=0.4)

    assert "Your nodule box overlapped it only partly (IoU 0.19, 0.40 needed)" in result


def test_a_miss_boxed_on_the_wrong_side_is_called_a_mirror_error() -> None:
    result = missed_nodule([{"label": "Nodule", "box": [0.7, 0.2, 0.85, 0.35]}])

    assert (
        "Your nodule box is in the mirror position, in the left upper zone: on a frontal film "
        "the patient's right is on the left of the image." in result
    )


def test_a_miss_boxed_under_another_name_says_so_and_what_tells_them_apart() -> None:
    result = missed_nodule([{"label": "Mass", "box": [0.14, 0.2, 0.32, 0.37]}])

    assert "You boxed this area but called it a mass." in result
    assert "Size separates them: a nodule is up to 3 cm across, a mass is larger." in result


def test_a_miss_far_from_every_mark_lists_what_was_marked() -> None:
    result = missed_nodule(
        [{"label": "Effusion", "box": EFFUSION}, {"label": "Edema", "box": None}]
    )

    assert "None of your marks is near it; you marked effusion in the left lower zone." in result


def test_a_missed_select_finding_says_nothing_was_ticked() -> None:
    result = text(
        label="Emphysema", error="missed", marks=[{"label": "Effusion", "box": EFFUSION}],
        findings=FINDINGS,
    )  # fmt: skip

    assert (
        "You drew boxes but ticked nothing; emphysema was recorded without a place, so it needed "
        "a tick."
    ) in result


def test_a_false_positive_on_another_finding_names_what_was_probably_seen() -> None:
    result = false_positive("Mass", [0.55, 0.55, 0.75, 0.7])

    assert result.startswith(
        "You marked a mass in the left lower zone (the patient's left, on the right of the "
        "image), but the reference readers found no mass there. Your box lies on the effusion in "
        "the left lower zone, which is probably what you saw: it is effusion, not a mass."
    )


def test_a_false_positive_opposite_a_real_finding_is_a_side_swap() -> None:
    result = false_positive("Nodule", [0.7, 0.2, 0.85, 0.35])

    assert "There is a nodule in the mirror position, in the right upper zone" in result


def test_a_false_positive_far_from_the_real_finding_points_to_it() -> None:
    result = false_positive("Nodule", [0.35, 0.4, 0.45, 0.5])

    assert "The nodule on this film is in the right upper zone." in result


@pytest.mark.parametrize(
    ("box", "mimic"),
    [
        ([0.46, 0.4, 0.54, 0.5], "the heart, aorta or spine in the mediastinum"),
        ([0.3, 0.12, 0.4, 0.2], "the overlapping ends of the first rib and the clavicle"),
        ([0.35, 0.4, 0.42, 0.48], "the hilar vessels"),
        ([0.85, 0.4, 0.95, 0.48], "crossing rib shadows"),
        ([0.82, 0.65, 0.92, 0.75], "breast soft tissue or a nipple shadow"),
        ([0.6, 0.7, 0.7, 0.8], "the diaphragm or the heart border"),
    ],
)
def test_a_false_positive_on_a_normal_film_names_the_anatomy_it_probably_was(
    box: list[float], mimic: str
) -> None:
    assert f"What you saw there is probably {mimic}" in false_positive("Nodule", box, findings=[])


def test_a_ticked_false_positive_says_what_the_film_does_show() -> None:
    assert (
        "What this film does show: a nodule in the right upper zone, effusion in the left lower "
        "zone and emphysema." in false_positive("Edema", None)
    )
    assert "The reference readers found this film normal." in false_positive("Edema", None, [])


def test_a_mislabel_explains_the_difference() -> None:
    result = text(
        label="Effusion", error="mislabelled", box=EFFUSION, marked_label="Atelectasis",
        marked_box=EFFUSION,
    )  # fmt: skip

    assert "An effusion forms a basal meniscus" in result


def test_without_case_context_nothing_about_marks_is_invented() -> None:
    result = text(label="Nodule", error="missed", box=NODULE)

    assert "mark" not in result.lower()


def test_the_model_prompt_carries_the_same_case_facts() -> None:
    request = ExplainRequest(
        label="Nodule",
        error="missed",
        box=tuple(NODULE),
        marks=[{"label": "Mass", "box": [0.14, 0.2, 0.32, 0.37]}],
        findings=FINDINGS,
    )

    prompt = explain_user_prompt(
        request, finding_facts(request), image_count=1, shows_resident_box=True
    )

    assert (
        "Where: in the right upper zone (the patient's right, on the left of the image)." in prompt
    )
    assert "What the resident did: You boxed this area but called it a mass." in prompt
    assert "What tells them apart: Size separates them" in prompt


def test_a_false_positive_prompt_places_the_residents_box_and_what_they_probably_saw() -> None:
    request = ExplainRequest(
        label="Mass", error="false_positive", marked_label="Mass",
        marked_box=(0.55, 0.55, 0.75, 0.7), findings=FINDINGS,
    )  # fmt: skip

    prompt = explain_user_prompt(
        request, finding_facts(request), image_count=1, shows_resident_box=True
    )

    assert "Where: in the left lower zone (the patient's left" in prompt
    assert "What the resident probably saw: Your box lies on the effusion" in prompt


def test_untrusted_mark_labels_are_cleaned_before_they_reach_a_prompt() -> None:
    request = ExplainRequest(
        label="Nodule", error="missed", box=tuple(NODULE),
        marks=[{"label": "Zebra\u200b\u202e sign", "box": [0.14, 0.2, 0.32, 0.37]}],
    )  # fmt: skip

    prompt = explain_user_prompt(
        request, finding_facts(request), image_count=0, shows_resident_box=False
    )

    assert "You boxed this area but called it zebra sign." in prompt


def test_case_context_round_trips_and_is_validated() -> None:
    request = ExplainRequest.from_dict(
        {"label": "Nodule", "error": "missed", "box": NODULE, "marks": [], "findings": FINDINGS,
         "iou_threshold": 0.3}
    )  # fmt: skip

    again = ExplainRequest.from_dict(request.to_dict())
    assert again == request
    assert again.marks == () and again.findings[2] == LabelledBox("Emphysema", None)
    assert ExplainRequest(label="Nodule", error="missed").to_dict()["marks"] is None
    for bad in (
        {"marks": [{"label": "Nodule", "box": [0.5, 0.5, 0.2, 0.2]}]},
        {"marks": [{"box": NODULE}]},
        {"marks": "Nodule"},
        {"findings": [{"label": "Nodule", "box": NODULE}] * (MAX_CONTEXT_BOXES + 1)},
        {"iou_threshold": 0},
    ):
        with pytest.raises(ExplainRequestError):
            ExplainRequest.from_dict({"label": "Nodule", "error": "missed", **bad})
