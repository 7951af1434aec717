"""Re-scoring every Localize attempt of a case after an educator edits its ground truth.

Editing the truth of a case that residents have answered dispatches one web job (it reads and
writes attempts, so it runs where Django runs: a web worker, or in-process); the dispatch, its
coalescing and the progress loop are apps.exercises.rescore's, shared with Report. The job re-scores
each attempt against the case's current truth with the attempt's own marks and IoU threshold,
reports its progress as it goes, and keeps the score it replaces in the result (``rescored``), so
the resident sees the old and the new score. XP is not changed: it rewarded the answer as scored
then (DESIGN.md: XP is awarded when the score is stored).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.utils import timezone

from apps.cases.marks import NORMAL_CHOICE
from apps.cases.models import Case
from apps.cases.selectors import case_view_ids
from apps.exercises.hooks import attempt_recorded
from apps.exercises.rescore import Rescorer
from apps.progress.services import score_event_rescore
from ml.boxes import Mark as BoxMark
from ml.boxes import Marks, score_localize

from .models import LocalizationAttempt
from .reference import scoring_reference

RESCORE_JOB = "web.localization.rescore"
RESCORE_SUBJECT = "localization.rescore:"


def _marks(attempt: LocalizationAttempt, views: Sequence[int]) -> Marks:
    rows = sorted(attempt.marks_list(), key=lambda mark: (mark.selected, mark.index))
    ticks = [mark.label for mark in rows if mark.selected]
    # A box whose view an educator removed since has no view left: it stays with the first view,
    # as a box sent without one would.
    first = next(iter(views), None)
    return Marks(
        boxes=tuple(
            BoxMark(mark.label, tuple(mark.box), mark.confidence, mark.image_id or first)  # type: ignore[arg-type]
            for mark in rows
            if not mark.selected
        ),
        selected=tuple(label for label in ticks if label != NORMAL_CHOICE),
        normal=NORMAL_CHOICE in ticks,
    )


def localization_attempt_rescore(*, attempt: LocalizationAttempt, case: Case) -> bool:
    """Score ``attempt`` again against ``case``'s current truth; True when the score changed."""
    scoring = scoring_reference(case=case, iou_threshold=attempt.iou_threshold)
    marks = _marks(attempt, case_view_ids(case=case))
    result = json.loads(json.dumps(score_localize(scoring.reference, marks)))
    changed = abs(result["score"] - attempt.score) > 1e-9 or result["counts"] != attempt.result.get(
        "counts"
    )
    earlier = attempt.result.get("rescored")
    if changed or earlier:
        result["rescored"] = {
            # The first score the resident saw stays the "before" across several edits.
            "previous_score": earlier["previous_score"] if earlier else attempt.score,
            "at": timezone.now().isoformat() if changed else earlier["at"],
        }
    # Saved even when nothing changed: the new truth's finding ids replace the old ones, so the
    # feedback's sentences and explanations follow the current findings.
    attempt.result = result
    attempt.score = result["score"]
    attempt.reference = scoring.findings
    attempt.save(update_fields=["result", "score", "reference", "updated_at"])
    attempt_recorded(attempt=attempt)
    if changed:
        score_event_rescore(attempt_ref=attempt.ref, score=attempt.score)
    return changed


RESCORER = Rescorer(
    job_kind=RESCORE_JOB,
    subject=RESCORE_SUBJECT,
    attempt_model=LocalizationAttempt,
    rescore=lambda attempt, case, _job: localization_attempt_rescore(attempt=attempt, case=case),
    prefetch=("marks",),
)
