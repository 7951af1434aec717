"""``score_report``: the Report exercise's rule-based score, in the JSON shape of DESIGN.md.

Inputs are checked before anything runs: both texts must be non-empty strings of at most
``MAX_REPORT_CHARS`` characters (5,000: a findings section is rarely over 1,500, and the cap
bounds the work one request can cause); ``age`` an integer from 0 to 130; ``indication`` at most
``MAX_INDICATION_CHARS`` characters; ``has_prior`` and ``align`` booleans; ``vocabulary`` (for a
reference derived from dataset labels: the labels it could have named) a list of label names the
taxonomy knows, returned canonical. A bad input raises ``ReportInputError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SCORER_VERSION = "rules-2.1"
MAX_REPORT_CHARS = 5000
MAX_INDICATION_CHARS = 1000
MAX_AGE = 130


class ReportInputError(ValueError):
    """An input ``score_report`` cannot score; ``field`` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True, slots=True)
class ReportCase:
    """One validated pair to score."""

    reference: str
    candidate: str
    age: int | None = None
    indication: str | None = None
    has_prior: bool = False
    vocabulary: tuple[str, ...] | None = None


def validate(
    reference: object,
    candidate: object,
    *,
    age: object = None,
    indication: object = None,
    has_prior: object = False,
    vocabulary: object = None,
) -> ReportCase:
    """Check the inputs (see the module docstring) and return them as a ``ReportCase``."""
    for field, value in (("reference", reference), ("candidate", candidate)):
        if not isinstance(value, str):
            raise ReportInputError(field, f"must be text, not {type(value).__name__}")
        if not value.strip():
            raise ReportInputError(field, "is empty; write the findings to score")
        if len(value) > MAX_REPORT_CHARS:
            raise ReportInputError(
                field, f"is {len(value)} characters long; the limit is {MAX_REPORT_CHARS}"
            )
    if age is not None and (isinstance(age, bool) or not isinstance(age, int)):
        raise ReportInputError("age", f"must be a whole number of years, not {age!r}")
    if isinstance(age, int) and not 0 <= age <= MAX_AGE:
        raise ReportInputError("age", f"must be between 0 and {MAX_AGE}, not {age}")
    if indication is not None:
        if not isinstance(indication, str):
            raise ReportInputError("indication", "must be text")
        if len(indication) > MAX_INDICATION_CHARS:
            raise ReportInputError(
                "indication", f"is longer than {MAX_INDICATION_CHARS} characters"
            )
    if not isinstance(has_prior, bool):
        raise ReportInputError("has_prior", f"must be true or false, not {has_prior!r}")
    return ReportCase(
        reference=reference,  # type: ignore[arg-type]
        candidate=candidate,  # type: ignore[arg-type]
        age=age,  # type: ignore[arg-type]
        indication=indication or None,  # type: ignore[arg-type]
        has_prior=has_prior,
        vocabulary=_vocabulary(vocabulary),
    )


def _vocabulary(value: object) -> tuple[str, ...] | None:
    from ml import taxonomy

    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ReportInputError("vocabulary", "must be a list of finding labels")
    labels: dict[str, None] = {}
    for item in value:
        if not isinstance(item, str):
            raise ReportInputError("vocabulary", f"must hold label names, not {item!r}")
        if taxonomy.is_normal(item):
            continue
        try:
            labels[taxonomy.canonical(item)] = None
        except taxonomy.UnknownLabelError as error:
            raise ReportInputError("vocabulary", str(error)) from error
    return tuple(sorted(labels))


def score_report(
    reference: str,
    candidate: str,
    *,
    age: int | None = None,
    indication: str | None = None,
    has_prior: bool = False,
    align: bool = False,
    vocabulary: list[str] | tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Score ``candidate`` against ``reference``; see ``comparison`` for the clinical score,
    ``style`` for the style score and DESIGN.md section 4 for the shape."""
    if not isinstance(align, bool):
        raise ReportInputError("align", f"must be true or false, not {align!r}")
    case = validate(
        reference,
        candidate,
        age=age,
        indication=indication,
        has_prior=has_prior,
        vocabulary=vocabulary,
    )
    return _score(case, align=align, vectors=None)


def score_many(cases: Iterable[ReportCase], *, align: bool = False) -> list[dict[str, Any]]:
    """Score validated cases; with ``align``, every distinct sentence is embedded once."""
    cases = list(cases)
    vectors: dict[str, Any] | None = None
    if align:
        vectors = _embed_all(cases)
    return [_score(case, align=align, vectors=vectors) for case in cases]


def _embed_all(cases: list[ReportCase]) -> dict[str, Any]:
    from ml.report_metrics.alignment import embed
    from ml.report_metrics.sentences import split_sentences

    texts: dict[str, None] = {}
    for case in cases:
        for text in (case.reference, case.candidate):
            for start, end in split_sentences(text):
                texts.setdefault(text[start:end])
    distinct = list(texts)
    return dict(zip(distinct, embed(distinct), strict=True))


def _score(case: ReportCase, *, align: bool, vectors: Mapping[str, Any] | None) -> dict[str, Any]:
    # Imported here so that importing ml.report_metrics stays cheap for the web process.
    from ml.report_metrics.comparison import compare
    from ml.report_metrics.extraction import extract_findings
    from ml.report_metrics.lexical import lexical_scores
    from ml.report_metrics.sentences import split_sentences
    from ml.report_metrics.significance import weight_context
    from ml.report_metrics.style import style_criteria, style_score

    reference_findings = extract_findings(case.reference)
    candidate_findings = extract_findings(case.candidate)
    candidate_sentences = split_sentences(case.candidate)
    comparison = compare(
        reference_findings,
        candidate_findings,
        reference_text=case.reference,
        candidate_text=case.candidate,
        candidate_sentences=candidate_sentences,
        weights=weight_context(age=case.age, indication=case.indication),
        has_prior=case.has_prior,
        vocabulary=case.vocabulary,
    )
    criteria = style_criteria(
        case.candidate,
        candidate_sentences,
        candidate_findings,
        case.reference,
        reference_findings,
    )
    result: dict[str, Any] = {
        "clinical_score": round(comparison.score, 4),
        "clinical_percent": comparison.percent,
        "style_score": style_score(criteria),
        "style": criteria,
        "reference_findings": [f.as_dict() for f in reference_findings],
        "candidate_findings": [f.as_dict() for f in candidate_findings],
        "errors": comparison.errors,
        "matched": comparison.matched,
        "lexical": lexical_scores(case.reference, case.candidate),
        "scorer_version": SCORER_VERSION,
    }
    if case.vocabulary is not None:
        result["vocabulary"] = list(case.vocabulary)
        result["unscored"] = comparison.unscored or []
        result["vocabulary_note"] = (
            "The reference was derived from dataset labels, not written by a radiologist: "
            "findings it cannot name (devices, normal statements, findings the dataset never "
            "labels) are neither false nor missed"
            + (
                f"; not scored here: {', '.join(sorted({u['label'] for u in result['unscored']}))}."
                if result["unscored"]
                else "."
            )
        )
    if align:
        from ml.report_metrics.alignment import align as align_sentences

        result["alignment"] = align_sentences(
            case.reference,
            split_sentences(case.reference),
            case.candidate,
            candidate_sentences,
            vectors=vectors,
        )
    return result
