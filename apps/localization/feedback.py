"""The feedback of one attempt, built from the attempt row alone (its result and reference
snapshot) plus the explanations written so far. Only ever called for the attempt's owner, after
the submit, and (in an assessment) once the set is finished."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from apps.cases.selectors import case_view_ids
from apps.core.compiled import compiled_values
from ml import taxonomy

from .items import ExplanationItem
from .models import Explanation, LocalizationAttempt


@dataclass
class Card:
    """One line of feedback: a ground-truth finding (hit or missed) or a wrong mark."""

    label: str
    outcome: str  # hit | miss | false_positive | mislabelled
    kind: str  # draw | select | presence (recorded without a place: no location graded)
    description: str = ""
    facts: str = ""  # what was graded and what the player did, in words
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


_EXPLANATION_FIELDS = [field.attname for field in Explanation._meta.concrete_fields]


def _explanation_rows(attempt_id: int, case_id: int) -> Any:
    rows = Explanation.objects.filter(
        Q(attempt_id=attempt_id) | Q(attempt__isnull=True, case_id=case_id)
    )
    return rows.order_by("-created_at", "-pk").values(*_EXPLANATION_FIELDS)


def _explanations(
    attempt: LocalizationAttempt,
) -> tuple[dict[str, Explanation], dict[int, Explanation]]:
    own: dict[str, Explanation] = {}
    cached: dict[int, Explanation] = {}
    # One query for both kinds, its SQL compiled once per process (it runs in every submit's
    # reply with a miss); the case's precomputed words are looked up by the snapshot's finding
    # ids below. Newest first, so a case explained again by a newer model shows the newer words.
    rows = compiled_values(
        "localization.feedback._explanations",
        _explanation_rows,
        {"attempt_id": attempt.pk, "case_id": attempt.case_id},
    )
    for row in rows:
        explanation = Explanation.from_db(
            "default", _EXPLANATION_FIELDS, [row[name] for name in _EXPLANATION_FIELDS]
        )
        if explanation.attempt_id is not None:
            own[explanation.item] = explanation
        else:
            cached.setdefault(explanation.finding_id, explanation)
    return own, cached


def _box(values: Any) -> list[float]:
    return [round(float(v), 6) for v in values]


def _facts(card: Card, *, threshold: float, drawn: int, ticked: bool) -> str:
    """The card's one line of facts, matching what the player actually drew and ticked."""
    label = card.label
    if card.kind == "presence":
        if card.outcome == "hit":
            return "You named it. It was recorded without a place, so no location was graded."
        return (
            "Not ticked or boxed. It was recorded without a place: a tick would have counted, "
            "and no location was graded."
        )
    if card.kind == "select":
        if card.outcome == "false_positive":
            return "Ticked, but not present."
        if card.outcome == "miss":
            return "Not ticked. A finding without a single place."
        return "A finding without a single place."
    if card.outcome == "hit":
        return f"IoU {card.iou:.2f}"
    if card.outcome == "mislabelled":
        return f"IoU {card.iou:.2f} with the {card.true_label} region." if card.iou else ""
    if card.outcome == "false_positive":
        return f"This box matched no {label} region."
    # A missed region.
    if card.iou and card.iou >= threshold:
        # The box that covered it hit another region of the label: each box counts once.
        return f"Your {label} box here was matched to another {label} region; each box counts once."
    if card.iou:
        return f"IoU {card.iou:.2f} (below the {threshold:.2f} needed)"
    if drawn == 1:
        return f"Your {label} box did not overlap it."
    if drawn:
        return f"None of your {drawn} {label} boxes overlapped it."
    if ticked:
        return f"You ticked {label} but drew no {label} box: this one has a place, so only a box counts."
    return f"You drew no {label} box."


class _FirstView:
    """The case's first view, asked of the database only if some item names no view."""

    def __init__(self, attempt: LocalizationAttempt) -> None:
        self.attempt = attempt
        self.answer: list[int | None] = []

    def __call__(self) -> int | None:
        if not self.answer:
            views = case_view_ids(case=self.attempt.case)
            self.answer.append(next(iter(views), None))
        return self.answer[0]


def attempt_feedback(*, attempt: LocalizationAttempt) -> Feedback:
    result, snapshot = attempt.result, attempt.reference
    all_marks = attempt.marks_list()
    marks = {m.index: m for m in all_marks if not m.selected}
    ticked = {m.label for m in all_marks if m.selected}
    drawn: dict[str, int] = {}
    for m in marks.values():
        drawn[m.label] = drawn.get(m.label, 0) + 1
    threshold = attempt.iou_threshold
    by_id = {f["finding_id"]: f for f in snapshot}
    # Every overlay item names the view it is drawn on; results and marks from before views
    # (or whose view was removed since) belong to the first, where they were drawn.
    first_view = _FirstView(attempt)
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
        card.facts = _facts(
            card,
            threshold=threshold,
            drawn=drawn.get(card.label, 0),
            ticked=card.label in ticked,
        )
        if not hit:
            explain(card, ExplanationItem.missed(finding["finding_id"]).key, finding["finding_id"])
        feedback.findings.append(card)
        for box in region["boxes"]:
            feedback.overlay.append(
                {
                    "box": _box(box),
                    "view": region.get("view") or first_view(),
                    "label": region["label"],
                    "kind": "truth" if hit else "miss",
                    "caption": "",
                }
            )
        if hit and region["mark"] in marks:
            feedback.overlay.append(
                {
                    "box": _box(marks[region["mark"]].box),
                    "view": marks[region["mark"]].image_id or first_view(),
                    "label": region["label"],
                    "kind": "hit",
                    "caption": f"IoU {region['best_iou']:.2f}",
                }
            )
    for outcome in result.get("selected", []):
        if not outcome["present"] or outcome["outcome"] == "not_scored":
            continue
        finding = by_id.get(outcome.get("finding_id")) or next(
            # Results scored before the reference carried ids: the label finds it.
            (f for f in snapshot if f["label"] == outcome["label"] and not f["localizable"]),
            None,
        )
        presence = bool(outcome.get("presence_only"))
        card = Card(
            label=outcome["label"],
            outcome="hit" if outcome["outcome"] == "hit" else "miss",
            kind="presence" if presence else "select",
            description=_description(outcome["label"]),
            sentence=finding["sentence"] if finding else "",
        )
        card.facts = _facts(card, threshold=threshold, drawn=0, ticked=outcome["ticked"])
        if card.outcome == "miss" and finding is not None:
            explain(card, ExplanationItem.missed(finding["finding_id"]).key, finding["finding_id"])
        feedback.findings.append(card)
        for j in outcome.get("marks", []):
            if j in marks:
                feedback.overlay.append(
                    {
                        "box": _box(marks[j].box),
                        "view": marks[j].image_id or first_view(),
                        "label": outcome["label"],
                        "kind": "mark",
                        "caption": "counts as seen; place not graded"
                        if presence
                        else "counts as ticked",
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
        card.facts = _facts(card, threshold=threshold, drawn=0, ticked=False)
        if j is None:
            explain(card, ExplanationItem.false_positive(None, entry["label"]).key)
        else:
            item = (
                ExplanationItem.mislabelled(j)
                if wrong
                else ExplanationItem.false_positive(j, entry["label"])
            )
            explain(card, item.key)
            if j in marks:
                feedback.overlay.append(
                    {
                        "box": _box(marks[j].box),
                        "view": marks[j].image_id or first_view(),
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
        "facts": card.facts,
        "explanation": explanation_json(card.explanation),
        "explanation_pending": card.explanation_pending,
    }
