"""The error records of the clinical comparison and the words they say.

Every error names the sentence it concerns in both texts where there is one
(``reference_sentence``, ``candidate_sentence``, also quoted in the message), and says "you
stated it is absent" only when the resident wrote a negation; a finding the resident never
mentioned is "not mentioned", and one a normal statement of theirs rules out says so.
"""

from __future__ import annotations

from ml.report_metrics.findings import Finding, Span
from ml.report_metrics.instances import Instance


def sentence_of(text: str, span: Span | None) -> str | None:
    return text[span[0] : span[1]] if span else None


def quoted(sentence: str | None) -> str:
    return f' ("{sentence}")' if sentence else ""


def describe(instance: Instance) -> str:
    words = [
        "possible" if instance.presence == "uncertain" else "",
        instance.severity or "",
        f"{instance.size_mm:g} mm" if instance.size_mm else "",
        instance.laterality or "",
        instance.zones[0] if instance.zones else "",
        instance.label.lower(),
    ]
    return " ".join(word for word in words if word)


def because(reasons: list[str]) -> str:
    return f" (weighted up: {'; '.join(reasons)})" if reasons else ""


def denial_clause(denial: Finding | None, text: str, *, who: str) -> str:
    """How the other report stands on a finding it does not report."""
    if denial is None:
        return "you did not mention it" if who == "you" else "the reference does not report it"
    sentence = quoted(sentence_of(text, denial.sentence_span))
    if denial.implied:
        subject = "your statement" if who == "you" else "the reference's statement"
        return f"{subject}{sentence} rules it out"
    return f"{'you' if who == 'you' else 'the reference'} stated it is absent{sentence}"


def error(
    category: str,
    label: str | None,
    *,
    weight: float,
    penalty: float,
    reference: tuple[str, Span | None, Span | None] | None,
    candidate: tuple[str, Span | None, Span | None] | None,
    message: str,
    **extra: object,
) -> dict[str, object]:
    """One error in the DESIGN.md section 4 shape, plus the sentence of each side.

    ``reference`` and ``candidate`` are ``(text, mention span, sentence span)`` or ``None``.
    """
    ref_text, ref_span, ref_sentence = reference or ("", None, None)
    cand_text, cand_span, cand_sentence = candidate or ("", None, None)
    return {
        "category": category,
        "label": label,
        "weight": round(weight, 4),
        "penalty": round(penalty, 4),
        "reference_span": list(ref_span) if ref_span else None,
        "candidate_span": list(cand_span) if cand_span else None,
        "reference_sentence": sentence_of(ref_text, ref_sentence),
        "candidate_sentence": sentence_of(cand_text, cand_sentence),
        "message": message,
        **extra,
    }
