"""Edits of a real report for ``report_validity``: sentences found by plain words (never by
the scorer under test), and the perturbations made of them (negate, affirm, swap a side or a
grade, shuffle, paraphrase a normal report, add a comparison).
"""

from __future__ import annotations

import random
import re
from typing import Any

from report_validity_families import FAMILY_WORDS

from ml.report_metrics.sections import heading_region
from ml.report_metrics.sentences import split_sentences

NEGATIVE = re.compile(
    r"\b(?:no|not|without|negative|clear|normal|resolved|free|exclude\w*|removed|absent)\b",
    re.IGNORECASE,
)
HEDGE = re.compile(
    r"\b(?:possible|possibly|may|might|could|likely|probabl\w+|question\w*|suspicious|concern\w*"
    r"|versus|vs|or|suggest\w*|borderline|cannot|if|history|evaluat\w+|rule|consider\w*)\b",
    re.IGNORECASE,
)
COMPARISON_WORDS = re.compile(
    r"\b(?:stable|unchanged|change|prior|previous|again|interval|new|compar\w+|redemonstrat\w*"
    r"|persist\w*|improv\w*|worse\w*|increas\w*|decreas\w*|resolv\w*|since)\b",
    re.IGNORECASE,
)
SWAP_SIDE = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}
SWAP_GRADE = {
    "trace": "large",
    "tiny": "large",
    "minimal": "severe",
    "small": "large",
    "mild": "severe",
    "mildly": "severely",
    "large": "small",
    "severe": "mild",
    "marked": "mild",
    "markedly": "mildly",
    "moderate": "trace",
    "moderately": "minimally",
}
GRADE_RE = re.compile(rf"\b({'|'.join(SWAP_GRADE)})\b", re.IGNORECASE)
NORMAL_PARAPHRASES = (
    "The lungs are clear. The heart is normal in size. No pleural effusion or pneumothorax.",
    "Heart size and mediastinal contours are normal. Lungs are clear bilaterally. "
    "No effusion or pneumothorax. No acute bony abnormality.",
    "No acute cardiopulmonary abnormality. Normal cardiomediastinal silhouette.",
    "Clear lungs without focal consolidation, effusion or pneumothorax. Normal heart size.",
    "normal heart size. lungs clear. no pneumothorax or pleural effusion",
)
ADDED_COMPARISONS = (
    "Unchanged from the prior study.",
    "No significant change since the previous radiograph.",
    "Stable appearance compared with the prior examination.",
)


def sentences_of(text: str) -> list[str]:
    """Sentences, each closed by a period where the writer left none (so moving one does not
    run it into the next)."""
    sentences = [text[start:end] for start, end in split_sentences(text)]
    return [s if s[-1] in ".?!" else f"{s}." for s in sentences]


def positive_sentences(record: dict[str, Any]) -> list[tuple[int, str]]:
    """(index, family) of sentences naming a coded family with no negation or hedge word."""
    sentences = sentences_of(record["text"])
    found = []
    for index, sentence in enumerate(sentences):
        if NEGATIVE.search(sentence) or HEDGE.search(sentence):
            continue
        for family in sorted(record["families"]):
            if FAMILY_WORDS[family].search(sentence):
                found.append((index, family))
    return found


def negate(sentence: str, family: str) -> str | None:
    """The sentence stating the finding absent, or None where plain words cannot."""
    if re.search(r"(?i)\b(?:but|however|although|there (?:has|have) been)\b", sentence):
        return None
    there = re.match(r"(?i)there (is|are) (?:an? )?", sentence)
    if there:
        return f"There {there.group(1)} no {sentence[there.end() :]}"
    verb = re.search(r"\b(is|are)\b(?! not)", sentence)
    if verb:
        named = FAMILY_WORDS[family].search(sentence)
        if verb.start() == 0 or (named and named.start() < verb.start()):
            return None  # "Cardiomegaly is unchanged": "not unchanged" would say it changed
        return f"{sentence[: verb.end()]} not{sentence[verb.end() :]}"
    return "No " + sentence[:1].lower() + sentence[1:]


_AFFIRM = re.compile(
    r"(?i)\b(?:there (?:is|are) )?no (?:evidence of |signs? of )?|\bwithout\b|\bnegative for\b"
)


def affirm(sentence: str) -> str | None:
    match = _AFFIRM.search(sentence)
    if match is None:
        return None
    replacement = {"without": "with", "negative for": "positive for"}.get(
        match.group().lower().strip(), "there is "
    )
    flipped = sentence[: match.start()] + replacement + sentence[match.end() :]
    return flipped[:1].upper() + flipped[1:]


def shuffle_within_sections(
    text: str, sentences: list[str], rng: random.Random
) -> list[str] | None:
    """The sentences in another order, each exam's within its own section ("Chest.",
    "Left knee.": a heading decides what the sentences after it describe); None when no other
    order exists (one repeated sentence)."""
    sections: list[list[str]] = [[]]
    for span, sentence in zip(split_sentences(text), sentences, strict=True):
        if heading_region(text, span) is not None:
            sections.append([sentence])
        else:
            sections[-1].append(sentence)
    movable = [
        (section[:1], section[1:]) if section and section is not sections[0] else ([], section)
        for section in sections
    ]
    if all(len(set(body)) < 2 for _, body in movable):
        return None
    while True:
        shuffled: list[str] = []
        for head, body in movable:
            body = body[:]
            rng.shuffle(body)
            shuffled.extend([*head, *body])
        if shuffled != sentences:
            return shuffled
