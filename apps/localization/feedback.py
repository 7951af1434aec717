"""The feedback of one attempt, built from the attempt row alone (its result and reference
snapshot) plus the explanations written so far. Only ever called for the attempt's owner, after
the submit, and (in an assessment) once the set is finished."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from ml import taxonomy

from .models import Explanation, LocalizationAttempt


@dataclass
class Card:
    """One line of feedback: a ground-truth finding (hit or missed) or a wrong mark."""

    label: str
    outcome: str  # hit | miss | false_positive | mislabelled
    kind: str  # draw | select
    description: str = ""
    iou: float | None = None
    sentence: str = ""
    true_label: str = ""
    region_note: str = ""
    mark: int | None = None
    explanation: Explanation | None = None
    explanation_pending: bool = False

    @property
    def needs_explanation(self) -> bool:
        return self.outcome != "hit"


@dataclass
class Feedback:
    attempt: LocalizationAttempt
    findings: list[Card] = field(default_factory=list)
    wrong_marks: list[Card] = field(default_factory=list)
    overlay: list[dict[str, Any]] = field(default_factory=list)
    job_status: str = ""  # "" (no job), pending, sent, done, failed

    @property
    def explanations_pending(self) -> bool:
        return any(card.explanation_pending for card in self.findings + self.wrong_marks)

    @property
    def cards(self) -> list[Card]:
        return self.findings + self.wrong_marks


def _description(label: str) -> str:
    try:
        return taxonomy.get(label).description or ""
    except (LookupError, ValueError):
        return ""


def _explanations(
    attempt: LocalizationAttempt,
) -> tuple[dict[str, Explanation], dict[int, Explanation]]:
    finding_ids = [f["finding_id"] for f in attempt.reference]
    own: dict[str, Explanation] = {}
    cached: dict[int, Explanation] = {}
    # One query for both kinds; newest first, so a case explained again by a newer model shows
    # the newer words.
    rows = Explanation.objects.filter(
        Q(attempt=attempt) | Q(attempt__isnull=True, finding_id__in=finding_ids)
    ).order_by("-created_at", "-pk")
    for explanation in rows:
        if explanation.attempt_id is not None:
            own[explanation.item] = explanation
        else:
            cached.setdefault(explanation.finding_id, explanation)
    return own, cached


def _box(values: Any) -> list[float]:
    return [round(float(v), 6) for v in values]


def attempt_feedback(*, attempt: LocalizationAttempt) -> Feedback:
    result, snapshot = attempt.result, attempt.reference
    marks = {m.index: m for m in attempt.marks_list() if not m.selected}
    # Read on the first card that needs words: a clean answer (all hits) asks nothing more.
    words: list[tuple[dict[str, Explanation], dict[int, Explanation]]] = []
    job = attempt.explain_job
    waiting = job is not None and not job.is_final
    feedback = Feedback(attempt=attempt, job_status=job.status if job is not None else "")

    def explain(card: Card, item: str, finding_id: int | None = None) -> Card:
        if not words:
            words.append(_explanations(attempt))
        own, cached = words[0]
        # The attempt's own words describe what this player did; the case's precomputed words
        # stand in for a miss while those are being written (or if writing them failed).
        card.explanation = own.get(item) or (
            cached.get(finding_id) if finding_id is not None else None
        )
        card.explanation_pending = item not in own and waiting
        return card

    mislabelled = {entry["mark"]: entry for entry in result.get("mislabelled", [])}
    per_finding_regions: dict[int, int] = {}
    for region in result.get("regions", []):
        per_finding_regions[region["finding"]] = per_finding_regions.get(region["finding"], 0) + 1
    for region in result.get("regions", []):
        finding = snapshot[region["finding"]]
        count = per_finding_regions[region["finding"]]
        hit = region["hit"]
        card = Card(
            label=region["label"],
            outcome="hit" if hit else "miss",
            kind="draw",
            description=_description(region["label"]),
            iou=region["best_iou"],
            sentence=finding["sentence"],
            region_note=f"region {region['index'] + 1} of {count}" if count > 1 else "",
            mark=region["mark"],
        )
        if not hit:
            explain(card, f"missed:{finding['finding_id']}", finding["finding_id"])
        feedback.findings.append(card)
        for box in region["boxes"]:
            feedback.overlay.append(
                {
                    "box": _box(box),
                    "label": region["label"],
                    "kind": "truth" if hit else "miss",
                    "caption": "",
                }
            )
        if hit and region["mark"] in marks:
            feedback.overlay.append(
                {
                    "box": _box(marks[region["mark"]].box),
                    "label": region["label"],
                    "kind": "hit",
                    "caption": f"IoU {region['best_iou']:.2f}",
                }
            )
    for outcome in result.get("selected", []):
        if not outcome["present"] or outcome["outcome"] == "not_scored":
            continue
        finding = next(
            (f for f in snapshot if f["label"] == outcome["label"] and not f["localizable"]), None
        )
        card = Card(
            label=outcome["label"],
            outcome="hit" if outcome["outcome"] == "hit" else "miss",
            kind="select",
            description=_description(outcome["label"]),
            sentence=finding["sentence"] if finding else "",
        )
        if card.outcome == "miss" and finding is not None:
            explain(card, f"missed:{finding['finding_id']}", finding["finding_id"])
        feedback.findings.append(card)
        for j in outcome.get("marks", []):
            if j in marks:
                feedback.overlay.append(
                    {
                        "box": _box(marks[j].box),
                        "label": outcome["label"],
                        "kind": "mark",
                        "caption": "counts as ticked",
                    }
                )
    for entry in result.get("false_positives", []):
        j = entry.get("mark")
        wrong = mislabelled.get(j) if j is not None else None
        card = Card(
            label=entry["label"],
            outcome="mislabelled" if wrong else "false_positive",
            kind=entry.get("kind", "draw"),
            description=_description(entry["label"]),
            true_label=wrong["true_label"] if wrong else "",
            iou=wrong["iou"] if wrong else None,
            mark=j,
        )
        if j is None:
            explain(card, f"fp:select:{entry['label']}")
        else:
            explain(card, f"mislabelled:{j}" if wrong else f"fp:{j}")
            if j in marks:
                feedback.overlay.append(
                    {
                        "box": _box(marks[j].box),
                        "label": entry["label"],
                        "kind": "mislabelled" if wrong else "false_positive",
                        "caption": f"is {wrong['true_label']}" if wrong else "",
                    }
                )
        feedback.wrong_marks.append(card)
    return feedback


def explanation_json(explanation: Explanation | None) -> dict[str, Any] | None:
    if explanation is None:
        return None
    return {
        "text": explanation.text,
        "written_by": explanation.written_by,
        "backend": explanation.backend,
        "model_id": explanation.model_id,
        "prompt_version": explanation.prompt_version,
    }


def card_json(card: Card) -> dict[str, Any]:
    return {
        "label": card.label,
        "outcome": card.outcome,
        "kind": card.kind,
        "iou": card.iou,
        "sentence": card.sentence,
        "true_label": card.true_label or None,
        "mark": card.mark,
        "description": card.description,
        "explanation": explanation_json(card.explanation),
        "explanation_pending": card.explanation_pending,
    }
