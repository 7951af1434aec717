"""The ground truth of a case as the Localize scorer sees it, with where each part came from.

``cases.selectors.reference_for_scoring`` writes the ``ml.boxes`` reference JSON with each
finding's ``id`` (the ``cases.Finding`` key); the result of scoring indexes findings of that
reference and hands the ids back. The snapshot stored on the attempt is built from the same ids,
so feedback (sentences, explanations) is always about the finding that was scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.cases.models import Case
from apps.cases.selectors import CaseAnswers, case_answers, reference_for_scoring
from ml import taxonomy

MAX_SENTENCE_CHARS = 600  # ml.vlm's ExplainRequest limit


@dataclass(frozen=True)
class ScoringReference:
    """``reference`` is the ml.boxes JSON; ``findings`` is the snapshot stored on the attempt,
    one entry per scored finding, in the scorer's finding order."""

    reference: dict[str, Any]
    findings: list[dict[str, Any]]
    threshold: float


def _canonical(label: str) -> str:
    try:
        return taxonomy.canonical(label)
    except taxonomy.UnknownLabelError:
        return label


def scoring_reference(
    *, case: Case, iou_threshold: float | None, answers: CaseAnswers | None = None
) -> ScoringReference:
    """The reference of ``case`` at ``iou_threshold``, from ``answers`` when the caller read them
    already (the submit reads them with its visibility check), else read here."""
    if answers is None:
        answers = case_answers(case=case, iou_threshold=iou_threshold, with_report=False)
    reference = reference_for_scoring(answers)
    drawn_sentences = {f.id: f.sentence for f in answers.findings if f.scored_as_drawn}
    unlocated: dict[str, list[str]] = {}
    for finding in answers.findings:
        if not finding.scored_as_drawn and finding.sentence:
            unlocated.setdefault(finding.label, []).append(finding.sentence)
    snapshot: list[dict[str, Any]] = []
    for entry in reference["findings"]:
        label, localizable = entry["label"], bool(entry["localizable"])
        # ml.boxes drops "No finding" entries from the reference; so do we, to keep indices equal.
        if taxonomy.is_normal(label):
            continue
        # Select findings merged by label (a label ticked once) keep every sentence.
        sentences = [drawn_sentences[entry["id"]]] if localizable else unlocated.get(label, [])
        snapshot.append(
            {
                "finding_id": entry["id"],
                "label": _canonical(label),
                "localizable": localizable,
                "sentence": " ".join(s for s in sentences if s)[:MAX_SENTENCE_CHARS],
                "regions": entry["regions"],
            }
        )
    return ScoringReference(reference, snapshot, float(reference["iou_threshold"]))


def first_box(regions: list[Any], index: int = 0) -> list[float] | None:
    """The first reader's box of region ``index`` (a region may hold one box or alternatives)."""
    if index >= len(regions):
        return None
    region = regions[index]
    if region and isinstance(region[0], list | tuple):
        return [float(v) for v in region[0]]
    return [float(v) for v in region] if region else None
