"""Explanations without a model: the taxonomy says what a finding is, the anatomy says where.

This is the default backend and the fallback of the model backends, so it must always answer,
deterministically, even for a label the taxonomy does not know or a view the anatomy cannot place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ml.vlm.case_facts import CaseFacts, case_facts
from ml.vlm.schema import Box, ExplainRequest, Explanation
from ml.vlm.text import first_sentences, sanitize_untrusted

KNOWLEDGE_MODEL_ID = "knowledge-base"
KNOWLEDGE_PROMPT_VERSION = "kb-3"

# Findings named with a countable noun read better with an article ("a nodule"); the rest are
# conditions ("cardiomegaly", "pleural effusion") and read better without one.
_COUNT_NOUNS = frozenset(
    {
        "nodule", "mass", "fracture", "cavity", "lesion", "granuloma", "tube", "line", "catheter",
        "pacemaker", "hernia", "cyst", "aneurysm", "opacity", "calcification", "device", "clip",
        "port", "stent", "drain", "wire", "bulla", "abscess", "cavitation", "density", "tumour",
        "tumor", "valve",
    }
)  # fmt: skip


@dataclass(frozen=True)
class FindingFacts:
    """What the knowledge base knows about one request, shared with the model prompts."""

    label: str
    description: str | None
    location: str | None  # a prepositional phrase: "in the right lower zone"
    marked_label: str | None
    marked_description: str | None
    marked_location: str | None
    sentence: str | None
    case: CaseFacts  # what this film and this resident's marks add


def finding_facts(request: ExplainRequest) -> FindingFacts:
    label, description = _describe(request.label)
    marked_label, marked_description = (
        _describe(request.marked_label) if request.marked_label else (None, None)
    )
    return FindingFacts(
        label=label,
        description=description,
        location=location_phrase(request.box, request.view),
        marked_label=marked_label,
        marked_description=marked_description,
        marked_location=location_phrase(request.marked_box, request.view),
        sentence=sanitize_untrusted(request.sentence, max_chars=300) if request.sentence else None,
        case=case_facts(request),
    )


def knowledge_text(request: ExplainRequest) -> str:
    """What happened and where (in the patient's frame), what the resident's marks did or what the
    wrong mark probably was, what tells the findings apart, and the report's words."""
    facts = finding_facts(request)
    sentences = [_what_happened(request, facts)]
    if facts.case.resident_did:
        sentences.append(facts.case.resident_did)
    if facts.case.probably_saw:
        sentences.append(facts.case.probably_saw)
    described_label, description = facts.label, facts.description
    if request.error == "false_positive":
        described_label, description = facts.marked_label or facts.label, facts.marked_description
    if facts.case.distinguish:
        sentences.append(facts.case.distinguish)
    elif description:
        sentences.append(_definition(described_label, description))
    if facts.sentence and request.error != "false_positive":
        sentences.append(f'The report reads: "{facts.sentence.rstrip()}"')
    return " ".join(sentences)


class KnowledgeExplainer:
    """The default explainer: no model, no image, instant."""

    name = "knowledge"

    def explain(self, request: ExplainRequest) -> Explanation:
        return Explanation(
            text=knowledge_text(request),
            backend=self.name,
            model_id=KNOWLEDGE_MODEL_ID,
            prompt_version=KNOWLEDGE_PROMPT_VERSION,
        )

    def explain_many(self, requests: Sequence[ExplainRequest]) -> list[Explanation]:
        return [self.explain(request) for request in requests]


def _what_happened(request: ExplainRequest, facts: FindingFacts) -> str:
    name = noun_phrase(facts.label)
    where = f" {facts.location}" if facts.location else ""
    if where and facts.case.frame and request.error != "false_positive":
        where += f" ({facts.case.frame})"
    if request.error == "missed":
        if request.box is not None:
            return f"You missed {name}{where}."
        return f"You did not mark {bare(facts.label)}, which is present on this film."
    if request.error == "mislabelled":
        marked = noun_phrase(facts.marked_label or "")
        return f"You marked the right place{where}, but you called it {marked}; it is {name}."
    if request.error == "false_positive":
        marked_label = facts.marked_label or facts.label
        if facts.marked_location:
            frame = f" ({facts.case.frame})" if facts.case.frame else ""
            return (
                f"You marked {noun_phrase(marked_label)} {facts.marked_location}{frame}, but the "
                f"reference readers found no {bare(marked_label)} there."
            )
        return (
            f"You ticked {bare(marked_label)}, but the reference readers did not find it on "
            "this film."
        )
    return f"This film shows {name}{where}."


def _definition(label: str, description: str) -> str:
    text = first_sentences(description, 1).rstrip()
    if not text.endswith((".", "!", "?")):
        text += "."
    # A description that already names the finding stands alone; a bare phrase needs the name.
    if label.lower() in text.lower():
        return text[0].upper() + text[1:]
    return f"{_capitalised(noun_phrase(label))} is {text[0].lower() + text[1:]}"


def _describe(name: str) -> tuple[str, str | None]:
    """The canonical name and description of a label, or the given name when it is unknown."""
    from ml import taxonomy  # the taxonomy tables are only needed when explaining

    cleaned = sanitize_untrusted(name, max_chars=80)
    try:
        label = taxonomy.get(cleaned)
    except (LookupError, ValueError):
        return cleaned, None
    return label.name, (label.description or None)


def location_phrase(box: Box | None, view: str) -> str | None:
    if box is None:
        return None
    from ml import anatomy

    try:
        location = anatomy.box_location(list(box), view=view)
    except (LookupError, ValueError):
        return None
    return _where(location.side, location.phrase)


def _where(side: str | None, phrase: str) -> str | None:
    """The anatomy phrase as a prepositional phrase that fits after a noun ("in the ...")."""
    phrase = phrase.strip().removeprefix("the ").strip()
    if side == "midline":
        return "in the centre of the chest"
    if not phrase:
        return None
    if phrase.startswith(("throughout", "in ", "at ", "on ", "both ")):
        return phrase if not phrase.startswith("both ") else f"in {phrase}"
    return f"in the {phrase}"


def bare(label: str) -> str:
    """A label as it reads inside a sentence: lower case unless it is an acronym ("ILD")."""
    if len(label) > 1 and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def noun_phrase(label: str) -> str:
    word = bare(label)
    last_word = word.rsplit(" ", 1)[-1].lower()
    if last_word not in _COUNT_NOUNS:
        return word
    return ("an " if word[0].lower() in "aeiou" else "a ") + word


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
