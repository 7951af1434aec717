"""Clinical comparison of a candidate report with the reference, and the CRIMSON-style score.

Findings are compared as *instances* (``instances``): the positive mentions of a label that
describe one thing. "Absent" and "not mentioned" are the same for scoring (a reader need not
list every normal), so normal statements neither help nor hurt. Per label, reference and
candidate instances are matched one to one by optimal assignment, then compared attribute by
attribute. Errors, each with the finding's significance weight (``significance``) and what it
cost:

- missed_finding: a reference instance with no candidate instance of its label or a related one.
- false_finding: a candidate instance with no reference instance of its label or a related one.
- location: a matched pair on the other side (left vs right; one side of a bilateral finding)
  or in a zone group the reference does not name (top: apical/upper; middle: mid/perihilar;
  bottom: lower/basal/retrocardiac/costophrenic). An omitted side or zone is not an error.
- severity: both graded and the grades do not overlap (small = mild, large = severe), or both
  measured and the sizes differ by more than a quarter (``attribute`` says "grade" or "size").
- change (with a prior only): both state a change and they disagree (increased vs stable).
- unsupported_comparison: without a prior, the candidate compares with one ("unchanged", "new",
  "compared with", "again seen"): one error for the whole report, whatever the number of words,
  naming every sentence. The reference's change statements are then not required.

A candidate instance of a *related* label (opacity or consolidation for pneumonia, mass for
nodule, edema for vascular congestion) earns ``RELATED_CREDIT`` of the reference instance, with
its attribute errors, and is not a false finding; it is listed under ``matched`` with
``related: true``.

A label-derived reference (``vocabulary`` given: the labels the reference could have named)
leaves out of scoring every candidate finding whose label, and every label related to it, lies
outside that vocabulary (devices, findings the dataset never labels); they are listed under
``unscored`` with the reason.

Score. With ``w`` the adjusted weight of each reference instance (halved when the reference is
uncertain) and ``W = sum(w)``:

- credit ``c = w * certainty * (1 - min(1, location_cost + severity_cost))``: certainty 0.75
  when one report hedges what the other states; a wrong side costs 0.5 (0.25 for one side of a
  bilateral finding), a wrong zone 0.25 (location at most 0.5); a grade off by one 0.25, by more
  0.5, a size off by 25-50% 0.25 and by more 0.5 (severity at most 0.5); a wrong change 0.25.
  Every attribute error costs less than missing the finding.
- ``F`` = the weights of false findings (halved when hedged);
- ``raw = (C - F) / W`` when ``W > 0``; a reference with no weighted finding counts correct
  normality as one unit of credit: ``raw = 1 - F``, so a normal report read as normal scores 1;
- an unsupported comparison then takes ``COMPARISON_PENALTY`` (0.15) off ``raw``: a correct
  report with a comparison word scores 85%;
- ``clinical_score = raw`` for ``raw >= 0`` and ``raw / (1 - raw)`` below 0: continuous, strictly
  increasing, and bounded in (-1, 1]; ``clinical_percent = 100 * max(0, clinical_score)``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ml import taxonomy
from ml.report_metrics import messages as say
from ml.report_metrics.differences import attribute_cost
from ml.report_metrics.findings import Finding, Span
from ml.report_metrics.instances import Instance, assign, group, harmonise
from ml.report_metrics.significance import INCIDENTAL, MALPOSITION, WeightContext

UNCERTAIN_FACTOR = 0.5
HEDGE_CREDIT = 0.75
RELATED_CREDIT = 0.5
COMPARISON_PENALTY = 0.15

_RELATED_GROUPS: tuple[tuple[str, ...], ...] = (
    ("Consolidation", "Pneumonia", "Infiltration", "Lung opacity"),
    ("Lung opacity", "Atelectasis"),
    ("Lung opacity", "Edema"),
    ("Nodule", "Mass", "Nodule/Mass", "Lung tumor", "Granuloma"),
    ("Effusion", "Costophrenic angle blunting"),
    ("Edema", "Vascular congestion"),
    ("Fibrosis", "Interstitial lung disease", "Fibrotic band"),
    ("Emphysema", "Hyperinflation", "COPD", "Bulla"),
    ("Cardiomegaly", "Enlarged cardiomediastinum"),
    ("Tuberculosis", "Tuberculosis sequelae"),
    ("Aortic atheromatosis", "Calcification", "Aortic elongation"),
    (
        "Support device",
        *sorted(name for name, label in taxonomy.LABELS.items() if label.system == "devices"),
    ),
)
_RELATED: dict[str, tuple[str, ...]] = {}
for _group in _RELATED_GROUPS:
    for _label in _group:
        _RELATED[_label] = tuple(
            dict.fromkeys((*_RELATED.get(_label, ()), *(o for o in _group if o != _label)))
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
    comparison_penalty: float = 0.0
    unscored: list[dict[str, object]] | None = None

    @property
    def raw(self) -> float:
        if self.reference_weight <= 0:
            raw = 1.0 - self.penalty
        else:
            raw = min(1.0, (self.credit - self.penalty) / self.reference_weight)
        return raw - self.comparison_penalty

    @property
    def score(self) -> float:
        raw = self.raw
        return raw if raw >= 0 else raw / (1.0 - raw)

    @property
    def percent(self) -> float:
        return round(100.0 * max(0.0, self.score), 1)


@dataclass(frozen=True)
class _Side:
    """One report: its text, findings and instances."""

    text: str
    findings: Sequence[Finding]
    instances: dict[str, list[Instance]]

    def denial(self, label: str) -> Finding | None:
        """The explicit negation of ``label`` if there is one, else the implying normal statement."""
        absent = [f for f in self.findings if f.label == label and f.presence == "absent"]
        explicit = [f for f in absent if not f.implied]
        return (explicit or absent or [None])[0]

    def where(self, instance: Instance | None) -> tuple[str, Span | None, Span | None]:
        if instance is None:
            return (self.text, None, None)
        return (self.text, instance.span, instance.sentence_span)


def compare(
    reference: Sequence[Finding],
    candidate: Sequence[Finding],
    *,
    reference_text: str,
    candidate_text: str,
    candidate_sentences: Sequence[Span],
    weights: WeightContext,
    has_prior: bool,
    vocabulary: Collection[str] | None = None,
) -> Comparison:
    """Compare candidate findings with the reference's (see the module docstring)."""
    ref = _Side(reference_text, reference, group(reference))
    cand = _Side(candidate_text, candidate, group(candidate))
    unscored: list[dict[str, object]] | None = None
    if vocabulary is not None:
        unscored = _set_aside(cand, frozenset(vocabulary))
    result = Comparison([], [], 0.0, 0.0, 0.0, unscored=unscored)

    def weight_of(instance: Instance, side: _Side) -> tuple[float, list[str]]:
        malpositioned = any(
            MALPOSITION.search(side.text, *mention.sentence_span) for mention in instance.mentions
        )
        incidental = all(
            INCIDENTAL.search(side.text, *mention.sentence_span) for mention in instance.mentions
        )
        weight, reasons = weights.weight(
            instance.label, malpositioned=malpositioned, incidental=incidental
        )
        return (weight * UNCERTAIN_FACTOR if instance.presence == "uncertain" else weight), reasons

    left_over_ref: list[tuple[Instance, float, list[str]]] = []
    left_over_cand: dict[str, list[Instance]] = {}
    for label in dict.fromkeys([*ref.instances, *cand.instances]):
        refs = harmonise(ref.instances.get(label, []), cand.instances.get(label, []))
        cands = harmonise(cand.instances.get(label, []), refs)
        pairs = assign(refs, cands, lambda r, c: attribute_cost(r, c, has_prior)[0])
        for ref_index, cand_index in pairs:
            weight, _ = weight_of(refs[ref_index], ref)
            result.reference_weight += weight
            _credit_match(result, ref, cand, refs[ref_index], cands[cand_index], weight, has_prior)
        matched_refs = {r for r, _ in pairs}
        matched_cands = {c for _, c in pairs}
        for index, instance in enumerate(refs):
            if index not in matched_refs:
                left_over_ref.append((instance, *weight_of(instance, ref)))
        rest = [instance for index, instance in enumerate(cands) if index not in matched_cands]
        if rest:
            left_over_cand[label] = rest
    for instance, weight, reasons in left_over_ref:
        result.reference_weight += weight
        related = _take_related(instance.label, left_over_cand)
        if related is not None:
            _credit_match(
                result, ref, cand, instance, related, weight, has_prior, factor=RELATED_CREDIT
            )
            continue
        denial = cand.denial(instance.label)
        if instance.label in cand.instances:
            denial = None  # the resident reported this finding elsewhere, not this instance
        result.errors.append(
            say.error(
                "missed_finding",
                instance.label,
                weight=weight,
                penalty=weight,
                reference=ref.where(instance),
                candidate=(candidate_text, denial.span, denial.sentence_span) if denial else None,
                message=f"Missed: the reference reports {say.describe(instance)}"
                f"{say.because(reasons)}{say.quoted(say.sentence_of(reference_text, instance.sentence_span))}; "
                + say.denial_clause(denial, candidate_text, who="you")
                + ".",
            )
        )
    for instances in left_over_cand.values():
        for instance in instances:
            weight, reasons = weight_of(instance, cand)
            result.penalty += weight
            denial = None if instance.label in ref.instances else ref.denial(instance.label)
            result.errors.append(
                say.error(
                    "false_finding",
                    instance.label,
                    weight=weight,
                    penalty=weight,
                    reference=(reference_text, denial.span, denial.sentence_span)
                    if denial
                    else None,
                    candidate=cand.where(instance),
                    message=f"You reported {say.describe(instance)}{say.because(reasons)}"
                    f"{say.quoted(say.sentence_of(candidate_text, instance.sentence_span))}, but "
                    + say.denial_clause(denial, reference_text, who="reference")
                    + ".",
                )
            )
    if not has_prior:
        unsupported = _unsupported_comparison(candidate_text, candidate_sentences)
        if unsupported is not None:
            result.errors.append(unsupported)
            result.comparison_penalty = COMPARISON_PENALTY
    return result


def _set_aside(cand: _Side, vocabulary: frozenset[str]) -> list[dict[str, object]]:
    """Remove the candidate instances a label-derived reference could not have named."""
    unscored: list[dict[str, object]] = []
    for label in list(cand.instances):
        if label in vocabulary or any(other in vocabulary for other in _RELATED.get(label, ())):
            continue
        for instance in cand.instances.pop(label):
            unscored.append(
                {
                    "label": label,
                    "candidate_span": list(instance.span),
                    "candidate_sentence": say.sentence_of(cand.text, instance.sentence_span),
                    "message": f"Not scored: {say.describe(instance)}. The reference was derived "
                    "from dataset labels that cannot express this finding, so it is neither "
                    "false nor missed.",
                }
            )
    return unscored


def _take_related(label: str, candidates: dict[str, list[Instance]]) -> Instance | None:
    for other in _RELATED.get(label, ()):
        if candidates.get(other):
            instance = candidates[other].pop(0)
            if not candidates[other]:
                del candidates[other]
            return instance
    return None


def _credit_match(
    result: Comparison,
    ref: _Side,
    cand: _Side,
    ref_instance: Instance,
    cand_instance: Instance,
    weight: float,
    has_prior: bool,
    *,
    factor: float = 1.0,
) -> None:
    cost, problems = attribute_cost(ref_instance, cand_instance, has_prior)
    certainty = HEDGE_CREDIT if ref_instance.presence != cand_instance.presence else 1.0
    earned = weight * factor * certainty * (1.0 - cost)
    result.credit += earned
    ref_sentence = say.sentence_of(ref.text, ref_instance.sentence_span)
    cand_sentence = say.sentence_of(cand.text, cand_instance.sentence_span)
    for category, attribute, part, what in problems:
        result.errors.append(
            say.error(
                category,
                ref_instance.label,
                weight=weight,
                penalty=weight * factor * certainty * part,
                reference=ref.where(ref_instance),
                candidate=cand.where(cand_instance),
                message=f"{ref_instance.label}: {what} (reference{say.quoted(ref_sentence)}; "
                f"yours{say.quoted(cand_sentence)}).",
                attribute=attribute,
            )
        )
    result.matched.append(
        {
            "label": ref_instance.label,
            "candidate_label": cand_instance.label,
            "related": factor < 1.0,
            "reference_presence": ref_instance.presence,
            "candidate_presence": cand_instance.presence,
            "weight": round(weight, 4),
            "credit": round(earned, 4),
            "reference_span": list(ref_instance.span),
            "candidate_span": list(cand_instance.span),
        }
    )


def _unsupported_comparison(text: str, sentences: Sequence[Span]) -> dict[str, object] | None:
    cues: list[tuple[re.Match[str], Span]] = []
    for start, end in sentences:
        if _NO_PRIOR.search(text, start, end):
            continue
        cue = _COMPARISON_CUE.search(text, start, end)
        if cue is not None:
            cues.append((cue, (start, end)))
    if not cues:
        return None
    first, sentence = cues[0]
    quoted = "; ".join(f'"{text[s:e]}"' for _, (s, e) in cues)
    words = ", ".join(dict.fromkeys(f'"{cue.group()}"' for cue, _ in cues))
    return say.error(
        "unsupported_comparison",
        None,
        weight=COMPARISON_PENALTY,
        penalty=COMPARISON_PENALTY,
        reference=None,
        candidate=(text, (first.start(), first.end()), sentence),
        message=f"{words} compares with a prior study, but this case has none ({quoted}). "
        "Describe what this film shows.",
        candidate_spans=[[cue.start(), cue.end()] for cue, _ in cues],
    )
