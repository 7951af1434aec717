"""Versioned prompt templates for the explanation models.

Change PROMPT_VERSION with any change to the wording below: it is stored beside every explanation,
so explanations written under an older prompt can be found and regenerated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ml.vlm.chat import ChatMessage, chat_message, image_part
from ml.vlm.knowledge import FindingFacts
from ml.vlm.schema import ExplainRequest

if TYPE_CHECKING:
    from PIL.Image import Image

PROMPT_VERSION = "vlm-2"

SYSTEM_PROMPT = (
    "You are a consultant radiologist teaching a resident to read chest radiographs. "
    "Answer in at most two short sentences of plain text: no lists, no headings, no markdown, "
    "no links. Say what on the image shows the finding, or why the marked area does not, and "
    "how to recognise it next time. Left and right are always the patient's. Use only the "
    "finding and the location you are given; do not add diagnoses."
)

_SEX_WORDS = {"M": "male", "F": "female"}


def explain_messages(
    request: ExplainRequest, facts: FindingFacts, images: list[Image], *, shows_resident_box: bool
) -> list[ChatMessage]:
    """The conversation for one explanation: instructions, then the images and the finding."""
    user_text = explain_user_prompt(
        request, facts, image_count=len(images), shows_resident_box=shows_resident_box
    )
    return [
        chat_message("system", SYSTEM_PROMPT),
        chat_message("user", *(image_part(image) for image in images), user_text),
    ]


def explain_user_prompt(
    request: ExplainRequest, facts: FindingFacts, *, image_count: int, shows_resident_box: bool
) -> str:
    """The user turn that follows the images; ``image_count`` is 0, 1 (full) or 2 (full + crop)."""
    lines = [_image_note(image_count, shows_resident_box)] if image_count else []
    lines.append(f"View: {request.view}.")
    patient = _patient(request)
    if patient:
        lines.append(f"Patient: {patient}.")
    described = f" ({facts.description.rstrip('.')})" if facts.description else ""
    lines.append(f"Finding: {facts.label}{described}.")
    location = facts.marked_location if request.error == "false_positive" else facts.location
    if location:
        frame = facts.case.frame or "left and right are the patient's"
        lines.append(f"Where: {location} ({frame}).")
    if facts.sentence and request.error != "false_positive":
        lines.append(f'Reference report sentence: "{facts.sentence}"')
    # The same facts the knowledge base writes from: what this resident did on this film.
    if facts.case.resident_did:
        lines.append(f"What the resident did: {facts.case.resident_did}")
    if facts.case.probably_saw:
        lines.append(f"What the resident probably saw: {facts.case.probably_saw}")
    if facts.case.distinguish:
        lines.append(f"What tells them apart: {facts.case.distinguish}")
    lines.append(_task(request, facts))
    return "\n".join(lines)


def _image_note(image_count: int, shows_resident_box: bool) -> str:
    note = "Image 1 is the whole radiograph with the region of interest outlined in red"
    if shows_resident_box:
        note += " and the resident's box outlined in yellow"
    note += "."
    if image_count > 1:
        note += " Image 2 is a magnified crop of the red region."
    return note


def _patient(request: ExplainRequest) -> str:
    parts = []
    if request.age is not None:
        parts.append(f"{request.age}-year-old")
    if request.sex in _SEX_WORDS:
        parts.append(_SEX_WORDS[request.sex])
    return " ".join(parts)


def _task(request: ExplainRequest, facts: FindingFacts) -> str:
    marked = facts.marked_label or facts.label
    if request.error == "missed":
        return (
            f"The resident missed this {facts.label}. In at most two sentences, explain what on "
            "the image shows it and how to spot it."
        )
    if request.error == "mislabelled":
        return (
            f"The resident marked the right place but called it {marked}; it is {facts.label}. "
            f"In at most two sentences, explain what distinguishes {facts.label} from {marked} "
            "here."
        )
    if request.error == "false_positive":
        where = f" {facts.marked_location}" if facts.marked_location else ""
        return (
            f"The resident marked {marked}{where}, but the reference readers found no {marked} "
            "there. In at most two sentences, explain why this area does not show it."
        )
    return (
        f"In at most two sentences, describe how {facts.label} appears on this image so a "
        "resident can recognise it."
    )
