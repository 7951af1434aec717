"""Turn a stored score into what the feedback page shows.

Highlights are built here by cutting the text into segments at the error spans; the template
prints each segment autoescaped inside a <mark>. Nothing is ever marked safe, so a report that
contains HTML or htmx attributes is shown as the text it is.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

CATEGORY_LABELS = {
    "missed_finding": "Missed finding",
    "false_finding": "False finding",
    "location": "Wrong location",
    "severity": "Wrong severity",
    "unsupported_comparison": "Unsupported comparison",
    "other": "Other",
}
STYLE_LABELS = {
    "coverage": "Systematic coverage",
    "concision": "Concision",
    "hedging": "Hedging",
    "redundancy": "Redundancy",
    "contradictions": "Contradictions",
}
DERIVED_NOTE = "derived from NIH labels and boxes, not a radiologist's report"
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")


@dataclass
class Segment:
    text: str
    errors: list[int] = field(default_factory=list)
    category: str = ""
    ends: list[int] = field(default_factory=list)  # error numbers whose highlight ends here


@dataclass
class ErrorItem:
    number: int
    category: str
    category_label: str
    label: str
    weight: float | None
    significance: str
    message: str
    in_candidate: bool
    in_reference: bool


@dataclass
class Feedback:
    clinical_percent: float | None
    clinical_score: float | None
    style_percent: float | None
    style: list[dict[str, Any]]
    errors: list[ErrorItem]
    omissions: list[ErrorItem]
    matched: list[dict[str, Any]]
    candidate: list[Segment]
    reference: list[Segment]
    lexical: dict[str, float]
    scorer_version: str


def significance(weight: Any) -> str:
    """The taxonomy's tiers (urgent 1, actionable 0.5, not actionable 0.25, benign 0), read with
    some slack because age and indication adjust weights."""
    if not isinstance(weight, int | float) or isinstance(weight, bool):
        return "unknown significance"
    if weight >= 0.75:
        return "urgent"
    if weight >= 0.375:
        return "actionable"
    if weight > 0.1:
        return "not actionable"
    return "benign"


def _span(value: Any, length: int) -> tuple[int, int] | None:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    start, end = value
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        return None
    return (start, end) if 0 <= start < end <= length else None


def _mention_of(label: Any, findings: list[dict[str, Any]], length: int) -> tuple[int, int] | None:
    """Where the other report speaks of the same finding when the error names no span there
    (a missed finding the resident called absent: their sentence is the one to look at)."""
    if not label:
        return None
    for finding in findings:
        if finding.get("label") == label and not finding.get("implied"):
            span = _span(finding.get("span"), length)
            if span:
                return span
    return None


def _sentence_around(
    text: str, span: tuple[int, int], findings: list[dict[str, Any]]
) -> tuple[int, int]:
    """The sentence holding a mention: the extractor's own sentence span when it knows the
    mention, else the text between the nearest sentence ends."""
    for finding in findings:
        if isinstance(finding, dict) and _span(finding.get("span"), len(text)) == span:
            sentence = _span(finding.get("sentence_span"), len(text))
            if sentence and sentence[0] <= span[0] and span[1] <= sentence[1]:
                return sentence
    start = 0
    for match in _SENTENCE_END.finditer(text, 0, span[0]):
        start = match.end()
    end_match = _SENTENCE_END.search(text, span[1])
    end = end_match.end() if end_match else len(text)
    while start < span[0] and text[start].isspace():
        start += 1
    return start, max(end, span[1])


def segments(text: str, marks: list[tuple[int, int, int, str]]) -> list[Segment]:
    """Cut ``text`` at every mark boundary; each piece lists the error numbers covering it."""
    cuts = sorted({0, len(text), *(p for s, e, _, _ in marks for p in (s, e))})
    pieces: list[Segment] = []
    for start, end in itertools.pairwise(cuts):
        covering = [(n, cat) for s, e, n, cat in marks if s <= start and end <= e]
        pieces.append(
            Segment(
                text=text[start:end],
                errors=[n for n, _ in covering],
                category=covering[0][1] if covering else "",
                ends=[n for s, e, n, _ in marks if e == end],
            )
        )
    return pieces


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _style(result: dict[str, Any]) -> list[dict[str, Any]]:
    style = result.get("style")
    if not isinstance(style, dict):
        return []
    rows = []
    for name, criterion in style.items():
        if not isinstance(criterion, dict):
            continue
        score = _number(criterion.get("score"))
        rows.append(
            {
                "name": STYLE_LABELS.get(name, str(name).replace("_", " ").capitalize()),
                "percent": None if score is None else round(100 * score),
                "weight": _number(criterion.get("weight")),
                "reason": str(criterion.get("reason") or ""),
            }
        )
    return rows


def feedback(result: dict[str, Any], *, candidate: str, reference: str) -> Feedback:
    ref_findings = [f for f in result.get("reference_findings") or [] if isinstance(f, dict)]
    cand_findings = [f for f in result.get("candidate_findings") or [] if isinstance(f, dict)]
    errors: list[ErrorItem] = []
    cand_marks: list[tuple[int, int, int, str]] = []
    ref_marks: list[tuple[int, int, int, str]] = []
    for number, raw in enumerate(
        (e for e in result.get("errors") or [] if isinstance(e, dict)), start=1
    ):
        category = str(raw.get("category") or "other")
        label = raw.get("label")
        cand_span = _span(raw.get("candidate_span"), len(candidate)) or _mention_of(
            label, cand_findings, len(candidate)
        )
        ref_span = _span(raw.get("reference_span"), len(reference)) or _mention_of(
            label, ref_findings, len(reference)
        )
        if cand_span:
            s, e = _sentence_around(candidate, cand_span, cand_findings)
            cand_marks.append((s, e, number, category))
        if ref_span:
            s, e = _sentence_around(reference, ref_span, ref_findings)
            ref_marks.append((s, e, number, category))
        weight = _number(raw.get("weight"))
        errors.append(
            ErrorItem(
                number=number,
                category=category,
                category_label=CATEGORY_LABELS.get(category, category.replace("_", " ")),
                label=str(raw.get("label") or ""),
                weight=weight,
                significance=significance(weight),
                message=str(raw.get("message") or ""),
                in_candidate=cand_span is not None,
                in_reference=ref_span is not None,
            )
        )
    style_score = _number(result.get("style_score"))
    lexical = result.get("lexical") if isinstance(result.get("lexical"), dict) else {}
    return Feedback(
        clinical_percent=_number(result.get("clinical_percent")),
        clinical_score=_number(result.get("clinical_score")),
        style_percent=None if style_score is None else round(100 * style_score),
        style=_style(result),
        errors=errors,
        omissions=[e for e in errors if e.category == "missed_finding"],
        matched=[m for m in result.get("matched") or [] if isinstance(m, dict)],
        candidate=segments(candidate, cand_marks),
        reference=segments(reference, ref_marks),
        lexical={k: v for k, v in lexical.items() if _number(v) is not None},
        scorer_version=str(result.get("scorer_version") or ""),
    )


@dataclass
class JudgeFeedback:
    errors: list[dict[str, Any]]
    significant: int | None
    model_id: str
    prompt_version: str
    # The answer failed the judge's validator even after one repair (S23): the worker flags it
    # instead of a judgement, and it must never read as "no errors found".
    needs_review: bool = False


def judge_result_public(result: dict[str, Any]) -> dict[str, Any]:
    """The judge's stored result as the resident's API sends it. An answer the validator
    rejected keeps its raw model text and error for the audit trail (S23), but the resident gets
    only the flag: unvetted model text (links, markup, anything it was talked into) never leaves
    the server, as the page never shows it."""
    if result.get("needs_review") is True:
        return {"needs_review": True}
    return result


def judge_feedback(result: dict[str, Any]) -> JudgeFeedback:
    if result.get("needs_review") is True:
        return JudgeFeedback(
            errors=[], significant=None, model_id="", prompt_version="", needs_review=True
        )
    items = []
    for raw in result.get("errors") or []:
        if not isinstance(raw, dict):
            continue
        category = str(raw.get("category") or "other")
        items.append(
            {
                "category": category,
                "category_label": CATEGORY_LABELS.get(category, category.replace("_", " ")),
                "label": str(raw.get("label") or ""),
                "message": str(raw.get("message") or ""),
                "significance": significance(raw.get("weight")),
                "excerpt": str(raw.get("candidate_excerpt") or ""),
            }
        )
    significant = result.get("clinically_significant_errors")
    return JudgeFeedback(
        errors=items,
        significant=significant if isinstance(significant, int) else None,
        model_id=str(result.get("model_id") or ""),
        prompt_version=str(result.get("prompt_version") or ""),
    )
