"""Clinical comparison of a candidate report with the reference, and the CRIMSON-style score.

Findings are compared per canonical label. All mentions of a label in one report are merged:
presence is the strongest (present > uncertain > absent), sides are united (left + right =
bilateral), zones are pooled, severity keeps its full range. A label is *positive* when present
or uncertain; "absent" and "not mentioned" are the same for scoring (a reader need not list
every normal).

Errors, each with the finding's significance weight (``significance``) and the score it cost:

- missed_finding: positive in the reference, not in the candidate.
- false_finding: positive in the candidate, not in the reference.
- location: both positive, but on the other side (left vs right, or one side of a bilateral
  finding) or in a zone group the reference does not name (top: apical/upper; middle:
  mid/perihilar; bottom: lower/basal/retrocardiac/costophrenic). An omitted side or zone is
  not an error.
- severity: both graded, and the grades do not overlap (small = mild, large = severe).
- unsupported_comparison: the candidate compares with a prior study ("unchanged", "new",
  "compared with", "again seen") when the case has none; one per sentence.

Change (new, increased, stable...) is reported on every finding but not scored against the
reference: with a prior the resident sees the same prior, and without one any change is
already an unsupported comparison.

A candidate finding of a *related* label (consolidation for pneumonia, mass for nodule, edema
for vascular congestion) earns half the credit of the reference finding and is not a false
finding; it is listed under ``matched`` with ``related: true``.

Score. With ``w`` the adjusted weight of each positive reference finding (halved when the
reference is itself uncertain), ``W = sum(w)``:

- credit ``c = w * certainty * (1 - min(1, location_penalty + severity_penalty))``, where
  certainty is 0.75 when one report hedges what the other states, else 1; a wrong side costs
  0.5 (0.25 for one side of a bilateral finding), a wrong zone 0.25 (location at most 0.5 in
  all), a severity off by one grade 0.25 and by more 0.5;
- ``F`` = weights of false findings (halved when hedged) + 0.25 per unsupported comparison
  (at most 0.5 in all);
- ``raw = (C - F) / W`` when ``W > 0``; a reference with no weighted finding (normal, or only
  benign findings) counts correct normality as one unit of credit: ``raw = 1 - F``, so a normal
  report read as normal scores exactly 1 and nothing divides by zero;
- ``clinical_score = raw`` for ``raw >= 0`` and ``raw / (1 - raw)`` below 0: continuous, strictly
  increasing, and bounded in (-1, 1];
- ``clinical_percent = 100 * max(0, clinical_score)``, a non-decreasing map onto 0-100.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ml import taxonomy
from ml.report_metrics.findings import Finding, Span
from ml.report_metrics.label_states import LabelState, merge_by_label
from ml.report_metrics.modifiers import ZONE_GROUPS
from ml.report_metrics.significance import MALPOSITION, WeightContext

UNCERTAIN_FACTOR = 0.5
HEDGE_CREDIT = 0.75
RELATED_CREDIT = 0.5
COMPARISON_WEIGHT = 0.25
COMPARISON_CAP = 0.5

_RELATED_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"Consolidation", "Pneumonia", "Infiltration", "Lung opacity"}),
    frozenset({"Lung opacity", "Atelectasis"}),
    frozenset({"Lung opacity", "Edema"}),
    frozenset({"Nodule", "Mass", "Nodule/Mass", "Lung tumor"}),
    frozenset({"Effusion", "Costophrenic angle blunting"}),
    frozenset({"Edema", "Vascular congestion"}),
    frozenset({"Fibrosis", "Interstitial lung disease", "Fibrotic band"}),
    frozenset({"Emphysema", "Hyperinflation", "COPD", "Bulla"}),
    frozenset({"Cardiomegaly", "Enlarged cardiomediastinum"}),
    frozenset({"Tuberculosis", "Tuberculosis sequelae"}),
    frozenset(
        {"Support device"}
        | {name for name, label in taxonomy.LABELS.items() if label.system == "devices"}
    ),
)

_COMPARISON_CUE = re.compile(
    r"\b(?:compared\s+(?:to|with)|in\s+comparison|comparison\s+(?:to|with)"
    r"|(?:prior|previous|preceding|earlier|last)\s+(?:study|studies|exam\w*|film|radiograph\w*"
    r"|imaging|x-?rays?|ct|cxr)|since\s+(?:the\s+)?(?:prior|previous|last)|interval\w*"
    r"|again\s+(?:seen|noted|demonstrated|visuali[sz]ed)|redemonstrat\w+|unchanged|stable"
    r"|no\s+(?:significant\s+|interval\s+)?change|(?:has|have)\s+(?:increased|decreased|improved"
    r"|worsened|resolved|progressed|enlarged)|new(?:ly)?|worsen\w*|improv\w*|resolv\w*"
    r"|resolution|persist\w*)\b",
    re.IGNORECASE,
)
_NO_PRIOR = re.compile(
    r"\b(?:no|without)\s+(?:prior|previous|comparison|old)\b|comparison\s*:\s*(?:none|n/?a)",
    re.IGNORECASE,
)


@dataclass
class Comparison:
    """What ``compare`` found: itemised errors and matches, and the score inputs."""

    errors: list[dict[str, object]]
    matched: list[dict[str, object]]
    reference_weight: float
    credit: float
    penalty: float

    @property
    def raw(self) -> float:
        if self.reference_weight <= 0:
            return 1.0 - self.penalty
        return min(1.0, (self.credit - self.penalty) / self.reference_weight)

    @property
    def score(self) -> float:
        raw = self.raw
        return raw if raw >= 0 else raw / (1.0 - raw)

    @property
    def percent(self) -> float:
        return round(100.0 * max(0.0, self.score), 1)


def compare(
    reference: Sequence[Finding],
    candidate: Sequence[Finding],
    *,
    reference_text: str,
    candidate_text: str,
    candidate_sentences: Sequence[Span],
    weights: WeightContext,
    has_prior: bool,
) -> Comparison:
    """Compare candidate findings with the reference's (see the module docstring)."""
    ref_all = merge_by_label(reference)
    ref_states = {k: s for k, s in ref_all.items() if s.presence != "absent"}
    cand_all = merge_by_label(candidate)
    cand_states = {k: s for k, s in cand_all.items() if s.presence != "absent"}
    errors: list[dict[str, object]] = []
    matched: list[dict[str, object]] = []
    total = credit = penalty = 0.0

    def weight_of(state: LabelState, text: str) -> tuple[float, list[str]]:
        malpositioned = any(
            MALPOSITION.search(text, m.sentence_span[0], m.sentence_span[1]) for m in state.mentions
        )
        weight, reasons = weights.weight(state.label, malpositioned=malpositioned)
        if state.presence == "uncertain":
            return weight * UNCERTAIN_FACTOR, reasons
        return weight, reasons

    unmatched_candidates = dict(cand_states)
    ordered = sorted(ref_states.values(), key=lambda s: -weights.weight(s.label)[0])
    exact = {s.label for s in ordered if s.label in unmatched_candidates}
    for label in exact:
        unmatched_candidates.pop(label)
    for ref in ordered:
        weight, reasons = weight_of(ref, reference_text)
        total += weight
        cand = cand_states.get(ref.label) if ref.label in exact else None
        if cand is not None:
            earned, attribute_errors = _match_credit(ref, cand, weight)
            credit += earned
            errors.extend(attribute_errors)
            matched.append(_match_entry(ref, cand, weight, earned, related=False))
            continue
        related = _take_related(ref.label, unmatched_candidates)
        if related is not None:
            earned = weight * RELATED_CREDIT
            credit += earned
            matched.append(_match_entry(ref, related, weight, earned, related=True))
            continue
        errors.append(
            _error(
                "missed_finding",
                ref.label,
                weight,
                weight,
                ref.span,
                # Where the candidate denied it, point at the denial too.
                cand_all[ref.label].span if ref.label in cand_all else None,
                f"Missed: the reference reports {_describe(ref)}{_because(reasons)}"
                + (", and you stated it is absent." if ref.label in cand_all else "."),
            )
        )
    for cand in unmatched_candidates.values():
        weight, reasons = weight_of(cand, candidate_text)
        penalty += weight
        denied = cand.label in ref_all
        errors.append(
            _error(
                "false_finding",
                cand.label,
                weight,
                weight,
                ref_all[cand.label].span if denied else None,
                cand.span,
                f"You reported {_describe(cand)}{_because(reasons)}, but the reference "
                + ("states it is absent." if denied else "does not report it."),
            )
        )
    if not has_prior:
        comparison_errors = _unsupported_comparisons(candidate_text, candidate_sentences)
        penalty += min(COMPARISON_CAP, COMPARISON_WEIGHT * len(comparison_errors))
        errors.extend(comparison_errors)
    return Comparison(errors, matched, total, credit, penalty)


def _take_related(label: str, candidates: dict[str, LabelState]) -> LabelState | None:
    for group in _RELATED_GROUPS:
        if label not in group:
            continue
        for other in group:
            if other != label and other in candidates:
                return candidates.pop(other)
    return None


def _match_credit(
    ref: LabelState, cand: LabelState, weight: float
) -> tuple[float, list[dict[str, object]]]:
    errors: list[dict[str, object]] = []
    location_cost, location_notes = _location_cost(ref, cand)
    if location_cost:
        errors.append(
            _error(
                "location",
                ref.label,
                weight,
                weight * location_cost,
                ref.span,
                cand.span,
                f"{ref.label}: {'; '.join(location_notes)}.",
            )
        )
    severity_cost = _severity_cost(ref, cand)
    if severity_cost:
        errors.append(
            _error(
                "severity",
                ref.label,
                weight,
                weight * severity_cost,
                ref.span,
                cand.span,
                f"{ref.label}: the reference grades it {ref.severity}, you graded it "
                f"{cand.severity}.",
            )
        )
    certainty = HEDGE_CREDIT if ref.presence != cand.presence else 1.0
    earned = weight * certainty * (1.0 - min(1.0, location_cost + severity_cost))
    # Attribute errors record what they cost after the certainty factor too.
    for error in errors:
        error["penalty"] = round(float(error["penalty"]) * certainty, 4)  # type: ignore[arg-type]
    return earned, errors


def _location_cost(ref: LabelState, cand: LabelState) -> tuple[float, list[str]]:
    cost, notes = 0.0, []
    if ref.laterality and cand.laterality and ref.laterality != cand.laterality:
        one_side_of_bilateral = "bilateral" in (ref.laterality, cand.laterality)
        cost += 0.25 if one_side_of_bilateral else 0.5
        notes.append(f"the reference places it {ref.laterality}, you placed it {cand.laterality}")
    ref_groups = {ZONE_GROUPS[z] for z in ref.zones}
    cand_groups = {ZONE_GROUPS[z] for z in cand.zones}
    if ref_groups and cand_groups and not ref_groups & cand_groups:
        cost += 0.25
        notes.append(
            f"the reference zone is {', '.join(ref.zones)}, yours is {', '.join(cand.zones)}"
        )
    return min(cost, 0.5), notes


def _severity_cost(ref: LabelState, cand: LabelState) -> float:
    if ref.severity_range is None or cand.severity_range is None:
        return 0.0
    (ref_low, ref_high), (cand_low, cand_high) = ref.severity_range, cand.severity_range
    if cand_high < ref_low:
        gap = ref_low - cand_high
    elif cand_low > ref_high:
        gap = cand_low - ref_high
    else:
        return 0.0
    return 0.25 if gap == 1 else 0.5


def _unsupported_comparisons(text: str, sentences: Sequence[Span]) -> list[dict[str, object]]:
    errors: list[dict[str, object]] = []
    for start, end in sentences:
        if _NO_PRIOR.search(text, start, end):
            continue
        cue = _COMPARISON_CUE.search(text, start, end)
        if cue is None:
            continue
        errors.append(
            _error(
                "unsupported_comparison",
                None,
                COMPARISON_WEIGHT,
                COMPARISON_WEIGHT,
                None,
                (cue.start(), cue.end()),
                f'"{cue.group()}" compares with a prior study, but this case has none.',
            )
        )
    return errors


def _match_entry(
    ref: LabelState, cand: LabelState, weight: float, earned: float, *, related: bool
) -> dict[str, object]:
    return {
        "label": ref.label,
        "candidate_label": cand.label,
        "related": related,
        "reference_presence": ref.presence,
        "candidate_presence": cand.presence,
        "weight": round(weight, 4),
        "credit": round(earned, 4),
        "reference_span": list(ref.span),
        "candidate_span": list(cand.span),
    }


def _error(
    category: str,
    label: str | None,
    weight: float,
    penalty: float,
    reference_span: Span | None,
    candidate_span: Span | None,
    message: str,
) -> dict[str, object]:
    return {
        "category": category,
        "label": label,
        "weight": round(weight, 4),
        "penalty": round(penalty, 4),
        "reference_span": list(reference_span) if reference_span else None,
        "candidate_span": list(candidate_span) if candidate_span else None,
        "message": message,
    }


def _describe(state: LabelState) -> str:
    words = [
        "possible" if state.presence == "uncertain" else "",
        state.severity or "",
        state.laterality or "",
        state.zones[0] if state.zones else "",
        state.label.lower(),
    ]
    return " ".join(word for word in words if word)


def _because(reasons: list[str]) -> str:
    return f" (weighted up: {'; '.join(reasons)})" if reasons else ""
