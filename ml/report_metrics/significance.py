"""Clinical-significance weights of findings, adjusted for the patient's age and the indication.

The default weight of every finding comes from the taxonomy (urgent 1.0, actionable 0.5, not
actionable 0.25, benign 0.0). A finding that answers the clinical question, or that matters more
at the patient's age, moves up: either one tier (0.0 -> 0.25 -> 0.5 -> 1.0) or straight to
urgent. The adjustments, in order (a finding takes the highest weight any rule gives it):

=====================================  ================================================  ========
Condition                              Findings                                          Becomes
=====================================  ================================================  ========
indication mentions trauma (trauma,    Fracture, Pneumothorax, Pneumomediastinum,        urgent
fall, MVC, assault, injury, stab...)   Subcutaneous emphysema
indication mentions infection (fever,  Consolidation, Pneumonia, Infiltration, Lung      +1 tier
cough, sepsis, pneumonia...)           opacity, Effusion, Lung cavity
indication mentions heart failure or   Edema, Vascular congestion, Effusion,             +1 tier
breathlessness (dyspnea, SOB, CHF...)  Cardiomegaly
indication mentions malignancy         Nodule, Mass, Nodule/Mass, Lung tumor, Hilar      +1 tier
(cancer, metastases, weight loss,      enlargement, Mediastinal mass, Bone lesion
haemoptysis, smoker...)
indication mentions a line or tube     every device                                      actionable
(placement, position, PICC, ETT...)
age under 2                            Fracture (possible non-accidental injury)         urgent
age under 18                           Hyperinflation (asthma, bronchiolitis, inhaled    +1 tier
                                       foreign body), Foreign body                       urgent
age 35 and over                        Nodule, Nodule/Mass (malignancy risk; the         +1 tier
                                       Fleischner criteria start at 35)
age under 50                           Aortic atheromatosis (premature atherosclerosis   +1 tier
                                       is a cardiovascular risk to act on; in the old
                                       it is expected)
a device described as malpositioned    that device                                       urgent
(in the reference report)
a fracture described as old, healed,   Fracture (an incidental finding)                  benign
remote or chronic
external monitor leads or wires        Support device (outside the patient)              benign
=====================================  ================================================  ========
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from ml import taxonomy

_TIERS: Final = (0.0, 0.25, 0.5, 1.0)
URGENT: Final = 1.0
ACTIONABLE: Final = 0.5

_TRAUMA = re.compile(
    r"\b(?:trauma\w*|falls?|fell|mvc|mva|motor\s+vehicle|accident|assault\w*|injur\w*|blunt"
    r"|stab\w*|gunshot|gsw|crush\w*)\b",
    re.IGNORECASE,
)
_INFECTION = re.compile(
    r"\b(?:fevers?|febrile|pyrexi\w*|cough\w*|pneumonia|infect\w*|sepsis|septic|leukocytosis"
    r"|sputum|productive)\b",
    re.IGNORECASE,
)
_HEART_FAILURE = re.compile(
    r"\b(?:dyspn\w*|shortness\s+of\s+breath|sob|breathless\w*|heart\s+failure|chf|edema|oedema"
    r"|orthopn\w*|fluid\s+overload|volume\s+overload)\b",
    re.IGNORECASE,
)
_MALIGNANCY = re.compile(
    r"\b(?:cancer|malignan\w*|metasta\w*|tumou?rs?|neoplas\w*|weight\s+loss|h(?:a)?emoptysis"
    r"|smok\w*|lymphoma|carcinoma|oncolog\w*)\b",
    re.IGNORECASE,
)
_LINES = re.compile(
    r"\b(?:lines?|tubes?|catheters?|picc|ett|cvc|intubat\w*|placement|position\w*|drains?"
    r"|pacemaker|ng|nasogastric)\b",
    re.IGNORECASE,
)
MALPOSITION = re.compile(
    r"\b(?:mal-?position\w*|(?:right\s+)?main\s*stem|coiled|kinked|too\s+(?:high|low|deep)"
    r"|recommend\w*\s+(?:retraction|withdrawal|advancement|repositioning)"
    r"|should\s+be\s+(?:retracted|withdrawn|advanced|repositioned)"
    r"|(?:within|in)\s+the\s+(?:esophagus|oesophagus|azygos))\b",
    re.IGNORECASE,
)

# Described as old or healed ("old healed rib fractures") or outside the patient ("external
# monitor leads"), these findings are incidental: a reader may leave them out.
INCIDENTAL = re.compile(
    r"\b(?:old|healed|remote|chronic|external|monitor(?:ing)?\s+leads?|ekg|ecg)\b", re.IGNORECASE
)
_INCIDENTAL_WHEN_DESCRIBED: Final = frozenset({"Fracture", "Support device"})

_DEVICE_LABELS: Final = frozenset(
    name for name, label in taxonomy.LABELS.items() if label.system == "devices"
)


@dataclass(frozen=True, slots=True)
class _Rule:
    reason: str
    labels: frozenset[str]
    urgent: bool  # straight to urgent; otherwise one tier up (or to ``floor``)
    floor: float | None = None


@dataclass(frozen=True, slots=True)
class WeightContext:
    """The adjustment rules that apply to one case, from its age and indication."""

    rules: tuple[_Rule, ...] = field(default=())

    def weight(
        self, label: str, *, malpositioned: bool = False, incidental: bool = False
    ) -> tuple[float, list[str]]:
        """The adjusted weight of ``label`` and the reasons for any change."""
        base = taxonomy.LABELS[label].weight
        if incidental and label in _INCIDENTAL_WHEN_DESCRIBED:
            return 0.0, []
        weight, reasons = base, []
        if malpositioned and label in _DEVICE_LABELS and weight < URGENT:
            weight, reasons = URGENT, ["the device is malpositioned"]
        for rule in self.rules:
            if label not in rule.labels:
                continue
            if rule.urgent:
                proposed = URGENT
            elif rule.floor is not None:
                proposed = max(base, rule.floor)
            else:
                proposed = _TIERS[min(len(_TIERS) - 1, _tier(base) + 1)]
            if proposed > weight:
                weight = proposed
                reasons.append(rule.reason)
        return weight, reasons


def _tier(weight: float) -> int:
    return min(range(len(_TIERS)), key=lambda index: abs(_TIERS[index] - weight))


def weight_context(*, age: int | None, indication: str | None) -> WeightContext:
    """The adjustment rules for a case (see the module docstring for the table)."""
    rules: list[_Rule] = []
    text = indication or ""
    if _TRAUMA.search(text):
        rules.append(
            _Rule(
                "the indication is trauma",
                frozenset(
                    {"Fracture", "Pneumothorax", "Pneumomediastinum", "Subcutaneous emphysema"}
                ),
                urgent=True,
            )
        )
    if _INFECTION.search(text):
        rules.append(
            _Rule(
                "the indication asks about infection",
                frozenset(
                    {
                        "Consolidation",
                        "Pneumonia",
                        "Infiltration",
                        "Lung opacity",
                        "Effusion",
                        "Lung cavity",
                    }
                ),
                urgent=False,
            )
        )
    if _HEART_FAILURE.search(text):
        rules.append(
            _Rule(
                "the indication asks about heart failure or breathlessness",
                frozenset({"Edema", "Vascular congestion", "Effusion", "Cardiomegaly"}),
                urgent=False,
            )
        )
    if _MALIGNANCY.search(text):
        rules.append(
            _Rule(
                "the indication asks about malignancy",
                frozenset(
                    {
                        "Nodule",
                        "Mass",
                        "Nodule/Mass",
                        "Lung tumor",
                        "Hilar enlargement",
                        "Mediastinal mass",
                        "Bone lesion",
                    }
                ),
                urgent=False,
            )
        )
    if _LINES.search(text):
        rules.append(
            _Rule(
                "the indication asks about lines and tubes",
                _DEVICE_LABELS,
                urgent=False,
                floor=ACTIONABLE,
            )
        )
    if age is not None:
        if age < 2:
            rules.append(
                _Rule(
                    "a fracture under age 2 raises non-accidental injury",
                    frozenset({"Fracture"}),
                    urgent=True,
                )
            )
        if age < 18:
            rules.append(
                _Rule("the patient is a child", frozenset({"Hyperinflation"}), urgent=False)
            )
            rules.append(
                _Rule(
                    "an inhaled foreign body in a child", frozenset({"Foreign body"}), urgent=True
                )
            )
        if age < 50:
            rules.append(
                _Rule(
                    "atherosclerosis before age 50 is premature",
                    frozenset({"Aortic atheromatosis"}),
                    urgent=False,
                )
            )
        if age >= 35:
            rules.append(
                _Rule(
                    "malignancy risk rises from age 35",
                    frozenset({"Nodule", "Nodule/Mass"}),
                    urgent=False,
                )
            )
    return WeightContext(tuple(rules))
