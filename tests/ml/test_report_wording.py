"""Real radiologists' wording that the scorer once read wrong (issue 8), in our own sentences."""

from __future__ import annotations

import pytest

from ml.report_metrics import score_report
from ml.report_metrics.extraction import extract_findings
from ml.report_metrics.sentences import split_sentences


def states(text: str) -> dict[str, str]:
    """Label -> presence of the explicit mentions (implied negatives left out)."""
    found: dict[str, str] = {}
    for finding in extract_findings(text):
        if not finding.implied:
            found.setdefault(finding.label, finding.presence)
    return found


def positives(text: str) -> list[str]:
    return sorted(f.label for f in extract_findings(text) if f.presence != "absent")


def categories(result: dict[str, object]) -> list[tuple[str, str | None]]:
    return sorted((e["category"], e["label"]) for e in result["errors"])  # type: ignore[union-attr, index]


# --------------------------------------------------------------- negation over coordinated lists


@pytest.mark.parametrize(
    "text",
    [
        "No focal consolidation, worrisome pulmonary opacity, large pleural effusion, or "
        "pneumothorax is seen.",
        "There is no focal airspace consolidation, suspicious nodule, sizable effusion or "
        "pneumothorax.",
        "No acute infiltrate, large effusion, or pneumothorax identified",
        "Without consolidation, small effusion or pneumothorax.",
        "No evidence of focal consolidation, definite effusion, or pneumothorax.",
        "Negative for consolidation, large pleural effusion or pneumothorax.",
    ],
)
def test_a_negated_list_with_modifier_words_negates_every_member(text: str) -> None:
    assert positives(text) == []


def test_a_correct_normal_report_is_not_missing_findings_of_a_negated_list() -> None:
    reference = (
        "No focal consolidation, suspicious pulmonary opacity, large pleural effusion, or "
        "pneumothorax is identified. Normal heart size."
    )
    result = score_report(
        reference, "Heart size is normal. The lungs are clear. No pleural effusion or pneumothorax."
    )

    assert result["errors"] == []
    assert result["clinical_percent"] == 100.0


@pytest.mark.parametrize(
    ("text", "label", "presence"),
    [
        ("No pneumothorax, small left pleural effusion.", "Effusion", "present"),
        ("No pneumothorax. Moderate right effusion.", "Effusion", "present"),
        ("Pneumothorax is not excluded.", "Pneumothorax", "uncertain"),
        ("A small effusion is not excluded.", "Effusion", "uncertain"),
        ("No evidence of pneumothorax.", "Pneumothorax", "absent"),
        ("Lungs are expanded without consolidation.", "Consolidation", "absent"),
        ("No change in the small left effusion.", "Effusion", "present"),
        ("There are no XXXX of pleural effusion.", "Effusion", "absent"),
        ("No XXXX consolidation or pneumothorax.", "Pneumothorax", "absent"),
        ("XXXX opacity in the left base, likely atelectasis.", "Atelectasis", "uncertain"),
    ],
)
def test_pseudo_negations_masks_and_new_findings_after_a_negation(
    text: str, label: str, presence: str
) -> None:
    assert states(text)[label] == presence


# ---------------------------------------------------------------------------- sentences


def test_lower_case_sentence_starts_split() -> None:
    text = "normal chest. large left effusion. no pneumothorax."

    assert [text[s:e] for s, e in split_sentences(text)] == [
        "normal chest.",
        "large left effusion.",
        "no pneumothorax.",
    ]


def test_unpunctuated_lines_are_sentences() -> None:
    text = "heart normal size\nlungs clear\nno effusion or pneumothorax"

    assert len(split_sentences(text)) == 3


def test_abbreviations_still_do_not_split() -> None:
    text = "Nodule measures approx. 2 cm in the left apex, e.g. a granuloma."

    assert len(split_sentences(text)) == 1


def test_a_lower_case_report_highlights_only_its_own_sentence() -> None:
    candidate = "normal chest. large left effusion. no pneumothorax."
    result = score_report("Small right pleural effusion.", candidate)
    effusion = next(f for f in result["candidate_findings"] if f["label"] == "Effusion")

    start, end = effusion["sentence_span"]
    assert candidate[start:end] == "large left effusion."


# ------------------------------------------------------------------- one finding per mention


def test_a_synonym_in_parentheses_is_one_finding() -> None:
    text = "Bilateral airspace opacities (infiltration)."

    assert positives(text) == ["Infiltration"]


def test_the_heart_is_enlarged_with_its_name_in_parentheses_is_one_finding() -> None:
    assert positives("The heart is enlarged (cardiomegaly).") == ["Cardiomegaly"]


@pytest.mark.parametrize(
    ("text", "hedge"),
    [
        ("Findings suspicious for right lower lobe pneumonia.", "probable"),
        ("Left basilar atelectasis or scarring.", "probable"),
        ("Right basal atelectasis versus early infiltrate.", "probable"),
        ("Right basal opacity may represent pneumonia.", "possible"),
        ("Pneumonia cannot be excluded.", "possible"),
    ],
)
def test_uncertainty_keeps_its_strength(text: str, hedge: str) -> None:
    uncertain = [f for f in extract_findings(text) if f.presence == "uncertain"]

    assert uncertain and all(f.hedge == hedge for f in uncertain)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Mild dextrocurvature of the thoracic spine.", "Scoliosis"),
        ("The heart is slightly large.", "Cardiomegaly"),
        ("Borderline heart size.", "Cardiomegaly"),
        ("Left chest wall port with the catheter tip in the SVC.", "Central venous catheter"),
        ("Right-sided dialysis catheter in place.", "Central venous catheter"),
        ("Cholecystectomy clips.", "Surgical clips"),
        ("Coronary artery stents.", "Support device"),
        ("Globular heart, question pericardial effusion.", "Pericardial effusion"),
    ],
)
def test_common_report_wording_names_its_finding(text: str, label: str) -> None:
    assert label in {f.label for f in extract_findings(text) if f.presence != "absent"}


@pytest.mark.parametrize(
    "text",
    [
        "There is no pleural line to suggest pneumothorax.",
        "Calcified granulomas from old granulomatous infection.",
        "Please note that fractures may not be demonstrated on a chest film.",
        "If there is concern for rib fracture, a rib series is recommended.",
        "Removal of the left chest tube.",
    ],
)
def test_wording_that_states_no_current_finding(text: str) -> None:
    positive = {f.label for f in extract_findings(text) if f.presence != "absent"}

    assert not positive & {"Pneumothorax", "Pneumonia", "Fracture", "Chest tube"}
