"""Style score: is the report systematic, concise and clear?

Five criteria, each scored in [0, 1] with a reason; the style score is their weighted mean.

- coverage (0.4): the regions a chest film report addresses, each mentioned at least once (by a
  finding of that system or by naming the region): lungs, pleura, heart and mediastinum, hila,
  bones, soft tissues, and lines and devices when the reference reports any. Score = share of
  regions addressed.
- concision (0.2): length against the reference (up to 1.5x the reference's words, with a floor
  of 40 words, is free; the score falls linearly to 0 at 4x) less 0.05 per filler phrase
  ("there is evidence of", "it is noted that", "is seen").
- hedging (0.2): hedge words per sentence ("possible", "may", "cannot exclude"...). Up to 0.25
  per sentence is free; the score falls linearly to 0 at 1 per sentence.
- redundancy (0.1): 0.25 off per repeated sentence or finding stated again with the same
  presence and side.
- contradictions (0.1): 0.5 off per contradiction: a finding stated both present and absent on
  a compatible side, or a normal statement ("lungs are clear") beside a finding it rules out,
  unless the statement allows exceptions ("otherwise clear", "except").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ml import taxonomy
from ml.report_metrics.findings import Finding, Span
from ml.report_metrics.normals import compiled_normal_statements

WEIGHTS: dict[str, float] = {
    "coverage": 0.4,
    "concision": 0.2,
    "hedging": 0.2,
    "redundancy": 0.1,
    "contradictions": 0.1,
}
_CORE_REGIONS: tuple[str, ...] = (
    "lungs",
    "pleura",
    "heart_mediastinum",
    "hila",
    "bones",
    "soft_tissues",
)
_REGION_NAMES: dict[str, str] = {
    "lungs": "lungs",
    "pleura": "pleura",
    "heart_mediastinum": "heart and mediastinum",
    "hila": "hila",
    "bones": "bones",
    "soft_tissues": "soft tissues",
    "devices": "lines and devices",
}
_REGION_WORDS: dict[str, re.Pattern[str]] = {
    region: re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)
    for region, pattern in {
        "lungs": r"lungs?|pulmonary|parenchym\w*|air\s*space|lung\s+fields",
        "pleura": r"pleura\w*|effusions?|pneumothora\w*|costophrenic",
        "heart_mediastinum": r"heart|cardiac|cardiomediastin\w*|mediastin\w*|aort\w*"
        r"|cardiomegaly",
        "hila": r"hila|hilar|hilum|hili",
        "bones": r"osseous|bones?|bony|skelet\w*|ribs?|spine|vertebr\w*|clavic\w*|fractur\w*",
        "soft_tissues": r"soft[-\s]+tissues?|subcutaneous|chest\s+wall",
        "devices": r"tubes?|lines?|catheters?|pacemaker|pacer|leads?|drains?|devices?|wires?"
        r"|clips?|picc|ett|port",
    }.items()
}
_FILLER = re.compile(
    r"\b(?:there\s+is\s+(?:evidence|radiographic\s+evidence)\s+of|it\s+is\s+noted\s+that"
    r"|it\s+should\s+be\s+noted|is\s+(?:seen|noted|identified|visuali[sz]ed|demonstrated)"
    r"|are\s+(?:seen|noted|identified|visuali[sz]ed|demonstrated)|appears?\s+to\s+be"
    r"|in\s+terms\s+of|of\s+note)\b",
    re.IGNORECASE,
)
_HEDGE = re.compile(
    r"\b(?:possible|possibly|probable|probably|likely|may|might|could|cannot\s+(?:be\s+)?"
    r"(?:exclude|excluded|ruled\s+out)|not\s+excluded|questionable|suggest\w*|suspicious"
    r"|concerning|equivocal|perhaps|presumabl\w*|versus|vs)\b",
    re.IGNORECASE,
)
_ALLOWS_EXCEPTIONS = re.compile(
    r"\b(?:otherwise|except|apart|aside|other\s+than|elsewhere|remainder|remaining)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z0-9]+")


def style_criteria(
    candidate: str,
    candidate_sentences: Sequence[Span],
    candidate_findings: Sequence[Finding],
    reference: str,
    reference_findings: Sequence[Finding],
) -> dict[str, dict[str, object]]:
    """Every style criterion with its score, weight and reason (see the module docstring)."""
    criteria = {
        "coverage": _coverage(candidate, candidate_findings, reference_findings),
        "concision": _concision(candidate, reference),
        "hedging": _hedging(candidate, candidate_sentences),
        "redundancy": _redundancy(candidate, candidate_sentences, candidate_findings),
        "contradictions": _contradictions(candidate, candidate_findings),
    }
    for name, criterion in criteria.items():
        criterion["weight"] = WEIGHTS[name]
        criterion["score"] = round(float(criterion["score"]), 4)  # type: ignore[arg-type]
    return criteria


def style_score(criteria: dict[str, dict[str, object]]) -> float:
    total = sum(WEIGHTS[name] * float(c["score"]) for name, c in criteria.items())  # type: ignore[arg-type]
    return round(total / sum(WEIGHTS.values()), 4)


def _coverage(
    text: str, findings: Sequence[Finding], reference_findings: Sequence[Finding]
) -> dict[str, object]:
    regions = list(_CORE_REGIONS)
    if any(
        f.is_positive and taxonomy.LABELS[f.label].system == "devices" for f in reference_findings
    ):
        regions.append("devices")
    systems = {taxonomy.LABELS[f.label].system for f in findings}
    missing = [r for r in regions if r not in systems and not _REGION_WORDS[r].search(text)]
    score = 1.0 - len(missing) / len(regions)
    if missing:
        names = ", ".join(_REGION_NAMES[r] for r in missing)
        reason = f"Not addressed: {names}. A systematic read comments on every region."
    else:
        reason = "Every region a chest film report should address is addressed."
    return {"score": score, "reason": reason, "missing": [_REGION_NAMES[r] for r in missing]}


def _concision(text: str, reference: str) -> dict[str, object]:
    words = len(_WORD.findall(text))
    allowance = 1.5 * max(40, len(_WORD.findall(reference)))
    ratio = words / allowance
    length_score = 1.0 if ratio <= 1 else max(0.0, 1.0 - (ratio - 1.0) / (4.0 / 1.5 - 1.0))
    fillers = [m.group() for m in _FILLER.finditer(text)]
    score = max(0.0, length_score - 0.05 * len(fillers))
    reasons = []
    if length_score < 1:
        reasons.append(f"{words} words where about {int(allowance)} would do")
    if fillers:
        shown = ", ".join(f'"{f}"' for f in dict.fromkeys(f.lower() for f in fillers))
        reasons.append(f"filler phrases: {shown}")
    reason = "; ".join(reasons).capitalize() + "." if reasons else "Concise."
    return {"score": score, "reason": reason}


def _hedging(text: str, sentences: Sequence[Span]) -> dict[str, object]:
    hedges = [m.group().lower() for m in _HEDGE.finditer(text)]
    density = len(hedges) / max(1, len(sentences))
    score = 1.0 if density <= 0.25 else max(0.0, 1.0 - (density - 0.25) / 0.75)
    if score == 1.0:
        reason = "Findings are stated with commitment."
    else:
        common = ", ".join(f'"{w}"' for w, _ in Counter(hedges).most_common(3))
        reason = (
            f"{len(hedges)} hedges in {len(sentences)} sentences ({common}); commit where the "
            "film allows it."
        )
    return {"score": score, "reason": reason}


def _redundancy(
    text: str, sentences: Sequence[Span], findings: Sequence[Finding]
) -> dict[str, object]:
    normalised = [" ".join(_WORD.findall(text[s:e].lower())) for s, e in sentences]
    repeated_sentences = len(normalised) - len(set(normalised))
    statements = Counter((f.label, f.presence, f.laterality) for f in findings if not f.implied)
    per_sentence = {(f.label, f.presence, f.laterality, f.sentence_span) for f in findings}
    repeated_findings = sum(
        max(0, len({k[3] for k in per_sentence if k[:3] == key}) - 1) for key in statements
    )
    repeats = repeated_sentences + repeated_findings
    score = max(0.0, 1.0 - 0.25 * repeats)
    if repeats:
        reason = f"{repeats} repeated statement(s); say each finding once."
    else:
        reason = "No repetition."
    return {"score": score, "reason": reason}


def _contradictions(text: str, findings: Sequence[Finding]) -> dict[str, object]:
    notes: list[str] = []
    explicit = [f for f in findings if not f.implied]
    for index, first in enumerate(explicit):
        for second in explicit[index + 1 :]:
            if (
                first.label == second.label
                and {first.presence, second.presence} == {"present", "absent"}
                and first.sentence_span != second.sentence_span
                and _sides_overlap(first.laterality, second.laterality)
            ):
                notes.append(f"{first.label} is stated both present and absent")
    present_labels = {f.label for f in explicit if f.presence == "present"}
    for regex, statement in compiled_normal_statements():
        for match in regex.finditer(text):
            if _ALLOWS_EXCEPTIONS.search(match.group()):
                continue
            clash = sorted(set(statement.covers) & present_labels)
            if clash:
                notes.append(f'"{match.group()}" contradicts {", ".join(clash).lower()}')
    notes = list(dict.fromkeys(notes))
    score = max(0.0, 1.0 - 0.5 * len(notes))
    reason = ("Contradictions: " + "; ".join(notes) + ".") if notes else "No contradictions."
    return {"score": score, "reason": reason}


def _sides_overlap(first: str | None, second: str | None) -> bool:
    return first is None or second is None or first == second or "bilateral" in (first, second)
