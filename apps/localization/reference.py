"""The ground truth of a case as the Localize scorer sees it, with where each part came from.

``cases.selectors.reference_for_scoring`` writes the ``ml.boxes`` reference JSON; the result of
scoring indexes findings and regions of that reference. To show feedback (sentences, explanations)
we need the ``cases.Finding`` row behind each reference finding, so this module builds both
together and checks that they line up: if the cases side ever changes its rule, scoring fails
loudly instead of explaining the wrong finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.cases.models import Case, Finding
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


def _finding_ids(case: Case, answers: CaseAnswers) -> list[int]:
    ids = [getattr(finding, "id", None) for finding in answers.findings]
    if all(isinstance(value, int) for value in ids):
        return ids  # type: ignore[return-value]
    # case_answers lists findings in this order (position, pk); labels are checked below.
    rows = list(
        Finding.objects.filter(case=case).order_by("position", "pk").values_list("pk", "label")
    )
    if [label for _, label in rows] != answers.labels:
        raise RuntimeError(f"case {case.pk}: findings changed while scoring")
    return [pk for pk, _ in rows]


def _canonical(label: str) -> str:
    try:
        return taxonomy.canonical(label)
    except taxonomy.UnknownLabelError:
        return label


def scoring_reference(*, case: Case, iou_threshold: float | None) -> ScoringReference:
    answers = case_answers(case=case, iou_threshold=iou_threshold, with_report=False)
    reference = reference_for_scoring(answers)
    ids = _finding_ids(case, answers)
    by_label_mode = {}
    for finding, finding_id in zip(answers.findings, ids, strict=True):
        by_label_mode.setdefault((finding.label, finding.scored_as_drawn), []).append(
            (finding, finding_id)
        )
    snapshot: list[dict[str, Any]] = []
    used: set[int] = set()
    for entry in reference["findings"]:
        label = entry["label"]
        # ml.boxes drops "No finding" entries from the reference; so do we, to keep indices equal.
        if taxonomy.is_normal(label):
            continue
        candidates = by_label_mode.get((label, bool(entry["localizable"])), [])
        source = next(
            ((f, pk) for f, pk in candidates if pk not in used and f.regions == entry["regions"]),
            None,
        )
        if source is None:
            raise RuntimeError(f"case {case.pk}: reference finding {label!r} has no source")
        finding, finding_id = source
        used.add(finding_id)
        # Select findings merged by label (a label ticked once) keep every sentence.
        sentences = (
            [finding.sentence]
            if entry["localizable"]
            else [f.sentence for f, _ in candidates if f.sentence]
        )
        snapshot.append(
            {
                "finding_id": finding_id,
                "label": _canonical(label),
                "localizable": bool(entry["localizable"]),
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
