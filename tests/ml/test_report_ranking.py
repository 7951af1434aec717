"""Does the clinical score order reports as a radiologist would? Our own ranking suite (issue 8).

Each case gives a reference and two candidate readings, A and B, with the context each is read
in, and says whether A must score above B (">") or the same ("="). The ten categories are the
ones radiologists use to judge a report metric: patient context, paraphrase robustness, location
errors, measurement errors, diagnostic precision, clinical-significance weighting, clinical
practicality, false-finding penalties, normal-finding handling and partial credit.
"""

from __future__ import annotations

from typing import Any

import pytest

from ml.report_metrics import score_report

Reading = str | tuple[str, dict[str, Any]]
NORMAL = "Heart size is normal. The lungs are clear. No pleural effusion or pneumothorax."

CASES: list[tuple[str, str, Reading, Reading, str]] = [
    # --- patient context: age and indication change what a finding weighs
    (
        "context",
        "Calcified aortic atherosclerosis. The lungs are clear.",
        ("The lungs are clear.", {"age": 82}),
        ("The lungs are clear.", {"age": 31}),
        ">",
    ),
    (
        "context",
        "Mild cardiomegaly. Nondisplaced left rib fracture.",
        ("Mild cardiomegaly.", {"indication": "cough"}),
        ("Mild cardiomegaly.", {"indication": "fall from standing"}),
        ">",
    ),
    (
        "context",
        "Small left pleural effusion. Mild cardiomegaly.",
        ("Mild cardiomegaly.", {"indication": "preoperative"}),
        ("Mild cardiomegaly.", {"indication": "fever and productive cough"}),
        ">",
    ),
    (
        "context",
        "Hyperinflated lungs. Mild cardiomegaly.",
        ("Mild cardiomegaly.", {"age": 64}),
        ("Mild cardiomegaly.", {"age": 6}),
        ">",
    ),
    (
        "context",
        "4 mm nodule in the right upper lobe. Mild cardiomegaly.",
        ("Mild cardiomegaly.", {"age": 25}),
        ("Mild cardiomegaly.", {"age": 25, "indication": "history of lung cancer"}),
        ">",
    ),
    (
        "context",
        "Mild cardiomegaly. Left lower lobe atelectasis.",
        ("Left lower lobe atelectasis.", {"indication": "preoperative"}),
        ("Left lower lobe atelectasis.", {"indication": "shortness of breath"}),
        ">",
    ),
    # --- paraphrase robustness: the same findings in other words score the same
    (
        "paraphrase",
        "Small left pleural effusion.",
        "Blunting of the left costophrenic angle, compatible with a small effusion.",
        "Small left pleural effusion.",
        "=",
    ),
    ("paraphrase", "The heart is enlarged.", "Cardiomegaly.", "Enlarged cardiac silhouette.", "="),
    (
        "paraphrase",
        "Right lower lobe consolidation.",
        "Airspace consolidation in the right lower lobe.",
        "Right lower lobe consolidation.",
        "=",
    ),
    (
        "paraphrase",
        "No pneumothorax, pleural effusion, or focal consolidation.",
        "Lungs are clear. No effusion or pneumothorax.",
        "No acute cardiopulmonary abnormality.",
        "=",
    ),
    (
        "paraphrase",
        "Mild pulmonary edema.",
        "Mild interstitial pulmonary edema.",
        "There is mild pulmonary oedema.",
        "=",
    ),
    ("paraphrase", "Hyperexpanded lungs.", "The lungs are hyperinflated.", "Hyperinflation.", "="),
    (
        "paraphrase",
        "Left lower lobe atelectasis. No pneumothorax.",
        "Atelectasis at the left lung base without pneumothorax.",
        "Left lower lobe atelectasis.",
        "=",
    ),
    # --- location errors: the right place beats the wrong one, which beats a miss
    ("location", "Right upper lobe mass.", "Right upper lobe mass.", "Left upper lobe mass.", ">"),
    ("location", "Right upper lobe mass.", "Left upper lobe mass.", "No mass.", ">"),
    (
        "location",
        "Left lower lobe consolidation.",
        "Left lower lobe consolidation.",
        "Left upper lobe consolidation.",
        ">",
    ),
    ("location", "Right pneumothorax.", "Bilateral pneumothoraces.", "Left pneumothorax.", ">"),
    (
        "location",
        "Small bilateral pleural effusions.",
        "Small bilateral pleural effusions.",
        "Small right pleural effusion.",
        ">",
    ),
    # --- measurement errors
    (
        "measurement",
        "A 2 cm nodule in the right upper lobe.",
        "A 2.2 cm right upper lobe nodule.",
        "A 5 cm right upper lobe nodule.",
        ">",
    ),
    (
        "measurement",
        "8 mm nodule in the left lower lobe.",
        "8 mm left lower lobe nodule.",
        "15 mm left lower lobe nodule.",
        ">",
    ),
    (
        "measurement",
        "8 mm nodule in the left lower lobe.",
        "15 mm left lower lobe nodule.",
        "The lungs are clear.",
        ">",
    ),
    (
        "measurement",
        "A 3 cm right hilar mass.",
        "A 3 cm right hilar mass.",
        "A 30 mm right hilar mass.",
        "=",
    ),
    (
        "measurement",
        "Large right pleural effusion.",
        "Moderate right pleural effusion.",
        "Small right pleural effusion.",
        ">",
    ),
    # --- diagnostic precision: the exact term beats a vaguer one that covers it
    (
        "precision",
        "Right lower lobe pneumonia.",
        "Right lower lobe pneumonia.",
        "Right lower lobe opacity.",
        ">",
    ),
    (
        "precision",
        "Right lower lobe pneumonia.",
        "Right lower lobe opacity.",
        "The lungs are clear.",
        ">",
    ),
    (
        "precision",
        "Right upper lobe mass.",
        "Right upper lobe mass.",
        "Right upper lobe nodule.",
        ">",
    ),
    (
        "precision",
        "Moderate pulmonary edema.",
        "Moderate pulmonary edema.",
        "Moderate pulmonary vascular congestion.",
        ">",
    ),
    (
        "precision",
        "Left lower lobe atelectasis.",
        "Left lower lobe atelectasis.",
        "Left basilar opacity.",
        ">",
    ),
    (
        "precision",
        "Right lower lobe pneumonia.",
        "Right lower lobe opacity.",
        "Left upper lobe opacity.",
        ">",
    ),
    # --- clinical-significance weighting: urgent misses cost most
    (
        "significance",
        "Large right pneumothorax. Mild left basilar atelectasis.",
        "Large right pneumothorax.",
        "Mild left basilar atelectasis.",
        ">",
    ),
    (
        "significance",
        "Right lower lobe consolidation. Mild scoliosis.",
        "Right lower lobe consolidation.",
        "Mild scoliosis.",
        ">",
    ),
    (
        "significance",
        "Pulmonary edema. Small calcified granuloma in the left upper lobe.",
        "Pulmonary edema.",
        "Small calcified granuloma in the left upper lobe.",
        ">",
    ),
    (
        "significance",
        "Moderate cardiomegaly. Large left pleural effusion.",
        "Moderate cardiomegaly. Large left pleural effusion.",
        "Moderate cardiomegaly.",
        ">",
    ),
    # --- clinical practicality
    (
        "practicality",
        "Small left pleural effusion.",
        "Small left pleural effusion.",
        "Possible small left pleural effusion.",
        ">",
    ),
    (
        "practicality",
        "Small left pleural effusion.",
        "Possible small left pleural effusion.",
        "No pleural effusion.",
        ">",
    ),
    ("practicality", "Mild cardiomegaly.", "Mild cardiomegaly.", "Stable mild cardiomegaly.", ">"),
    ("practicality", "Mild cardiomegaly.", "Stable mild cardiomegaly.", "No cardiomegaly.", ">"),
    (
        "practicality",
        "Small left pleural effusion.",
        "Small left pleural effusion.",
        ("Small left pleural effusion, unchanged from the prior study.", {"has_prior": True}),
        "=",
    ),
    (
        "practicality",
        "Right lower lobe pneumonia.",
        "Right lower lobe consolidation, likely pneumonia.",
        "Right lower lobe opacity.",
        ">",
    ),
    # --- false-finding penalties
    ("false finding", NORMAL, NORMAL, "Small left pleural effusion.", ">"),
    ("false finding", NORMAL, "Small left pleural effusion.", "Large right pneumothorax.", ">"),
    (
        "false finding",
        NORMAL,
        "Possible small left pleural effusion.",
        "Small left pleural effusion.",
        ">",
    ),
    (
        "false finding",
        "Mild cardiomegaly.",
        "Mild cardiomegaly.",
        "Mild cardiomegaly. Right lower lobe consolidation.",
        ">",
    ),
    (
        "false finding",
        "Mild cardiomegaly. Small right pleural effusion.",
        "Mild cardiomegaly. Small right pleural effusion.",
        "Mild cardiomegaly. Small right pleural effusion. Right upper lobe mass.",
        ">",
    ),
    # --- normal-finding handling: normal statements neither help nor hurt
    (
        "normal findings",
        "Small left pleural effusion. Heart size is normal. Lungs are otherwise clear. "
        "No pneumothorax.",
        "Small left pleural effusion.",
        "Small left pleural effusion. Normal heart size. No pneumothorax.",
        "=",
    ),
    (
        "normal findings",
        "Heart size is normal. The lungs are clear.",
        "No acute cardiopulmonary process.",
        "Normal heart size. Clear lungs. No effusion. No pneumothorax. No acute bony abnormality.",
        "=",
    ),
    (
        "normal findings",
        "Right lower lobe pneumonia.",
        "Right lower lobe pneumonia.",
        "Right lower lobe pneumonia. Heart size is normal. No pneumothorax.",
        "=",
    ),
    ("normal findings", NORMAL, "Normal chest.", "The lungs are clear.", "="),
    # --- partial credit
    (
        "partial credit",
        "Moderate cardiomegaly. Small left pleural effusion. Left basilar atelectasis.",
        "Moderate cardiomegaly. Small left pleural effusion.",
        "Moderate cardiomegaly.",
        ">",
    ),
    (
        "partial credit",
        "Moderate cardiomegaly. Small left pleural effusion. Left basilar atelectasis.",
        "Moderate cardiomegaly.",
        "Normal chest.",
        ">",
    ),
    (
        "partial credit",
        "Large left pleural effusion.",
        "Small left pleural effusion.",
        "No pleural effusion.",
        ">",
    ),
    (
        "partial credit",
        "Right upper lobe pneumonia.",
        "Right upper lobe consolidation.",
        "Normal chest.",
        ">",
    ),
    (
        "partial credit",
        "Bilateral lower lobe consolidation.",
        "Right lower lobe consolidation.",
        "No consolidation.",
        ">",
    ),
    (
        "partial credit",
        "Moderate left and small right pleural effusions.",
        "Moderate left and small right pleural effusions.",
        "Small left and moderate right pleural effusions.",
        ">",
    ),
    (
        "partial credit",
        "Moderate left and small right pleural effusions.",
        "Small left and moderate right pleural effusions.",
        "No pleural effusion.",
        ">",
    ),
]
CATEGORIES = {
    "context",
    "paraphrase",
    "location",
    "measurement",
    "precision",
    "significance",
    "practicality",
    "false finding",
    "normal findings",
    "partial credit",
}


def score(reference: str, reading: Reading) -> float:
    text, context = (reading, {}) if isinstance(reading, str) else reading
    return float(score_report(reference, text, **context)["clinical_score"])


def test_the_suite_covers_ten_categories_with_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
    assert {case[0] for case in CASES} == CATEGORIES


@pytest.mark.parametrize(
    ("category", "reference", "a", "b", "relation"),
    CASES,
    ids=[f"{index:02d}-{case[0]}" for index, case in enumerate(CASES)],
)
def test_ranking(category: str, reference: str, a: Reading, b: Reading, relation: str) -> None:
    first, second = score(reference, a), score(reference, b)

    if relation == ">":
        assert first > second, (category, first, second)
    else:
        assert first == pytest.approx(second), (category, first, second)
