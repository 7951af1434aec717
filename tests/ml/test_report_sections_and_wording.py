"""Radiologists' wording read by rules added for issue 8, in our own sentences: exam sections,
negation and hedge scope, and names of findings."""

from __future__ import annotations

import pytest

from ml.report_metrics import score_report
from ml.report_metrics.extraction import extract_findings
from ml.report_metrics.sections import heading_region, out_of_scope
from ml.report_metrics.sentences import split_sentences


def states(text: str) -> dict[str, str]:
    """Label -> presence of the explicit mentions (implied negatives left out)."""
    found: dict[str, str] = {}
    for finding in extract_findings(text):
        if not finding.implied:
            found.setdefault(finding.label, finding.presence)
    return found


def labels(text: str) -> set[str]:
    return {f.label for f in extract_findings(text)}


# ------------------------------------------------------------------------ exam sections


def test_findings_under_another_exams_heading_are_not_chest_findings() -> None:
    text = (
        "1. Chest. Clear lungs. Normal heart size. "
        "2. Left knee. Large joint effusion and a fracture of the tibial plateau."
    )

    assert states(text) == {}


def test_chest_sections_and_text_before_any_heading_stay_in_scope() -> None:
    text = (
        "Small left effusion. Pelvis x-ray: healing fracture of the right pubic ramus. "
        "Ribs. Acute fracture of the left sixth rib. Abdomen. Moderate hiatal hernia."
    )

    assert states(text) == {"Effusion": "present", "Fracture": "present"}


def test_a_normal_statement_under_another_heading_implies_nothing_for_the_chest() -> None:
    text = "Chest. Mild cardiomegaly. Right ankle. No fracture or dislocation."

    assert "Fracture" not in labels(text)


def test_a_correct_chest_reading_is_not_charged_with_the_other_exams_findings() -> None:
    reference = "Chest. Lungs are clear. Heart size normal. Right shoulder. Old clavicle fracture."

    result = score_report(reference, "Normal chest radiograph.")

    assert result["errors"] == []


@pytest.mark.parametrize(
    ("sentence", "region"),
    [
        ("Chest.", "chest"),
        ("Right shoulder.", "right shoulder"),
        ("The knee.", "the knee"),
        ("Pelvis x-ray:", "pelvis"),
        ("Thoracic spine.", "thoracic spine"),
        ("Left wrist: two views, no fracture.", "left wrist"),
        ("Hip and femur.", "hip and femur"),
        ("Chest pain.", None),
        ("The knee is normal.", None),
        ("Heart and lungs normal.", None),
    ],
)
def test_a_heading_is_a_sentence_that_is_only_a_body_region(
    sentence: str, region: str | None
) -> None:
    assert heading_region(sentence, (0, len(sentence))) == region


@pytest.mark.parametrize(
    ("text", "outside"),
    [
        (
            "Lungs: clear. Left elbow: two views. Joint effusion. Heart: normal.",
            ["Left elbow: two views.", "Joint effusion."],
        ),
        ("Chest and abdomen. Small effusion. Free air under the diaphragm.", []),
        (
            "Elbow and humerus. Displaced fracture. Ribs. No fracture.",
            ["Elbow and humerus.", "Displaced fracture."],
        ),
        ("Heart: normal. Upper abdomen: no free air. Bones: old rib fracture.", []),
    ],
)
def test_colon_and_compound_headings_open_sections(text: str, outside: list[str]) -> None:
    spans = split_sentences(text)

    assert [text[s:e] for s, e in spans if (s, e) in out_of_scope(text, spans)] == outside


def test_out_of_scope_runs_from_another_exams_heading_to_the_next_heading() -> None:
    text = "No effusion. Abdomen. Normal bowel gas. Chest. No pneumothorax."
    spans = split_sentences(text)

    assert [text[s:e] for s, e in spans if (s, e) in out_of_scope(text, spans)] == [
        "Abdomen.",
        "Normal bowel gas.",
    ]


# ------------------------------------------------------------- negation and hedge scope


def test_a_backward_hedge_does_not_reach_over_a_comma_into_another_clause() -> None:
    text = "Crowded vessels, mild pulmonary edema, interstitial infiltrates cannot be excluded."

    assert states(text) == {"Edema": "present", "Infiltration": "uncertain"}


def test_a_backward_negation_still_covers_a_coordinated_list() -> None:
    text = "Consolidation, effusion, or pneumothorax is not seen."

    assert states(text) == {
        "Consolidation": "absent",
        "Effusion": "absent",
        "Pneumothorax": "absent",
    }


@pytest.mark.parametrize(
    "text",
    [
        "The left pneumothorax, seen on the prior film, is not visualized today.",
        "The apical pneumothorax, as before, is no longer seen.",
    ],
)
def test_a_backward_negation_reaches_over_an_aside_to_its_finding(text: str) -> None:
    assert states(text) == {"Pneumothorax": "absent"}


def test_the_concern_is_for_leans_positive() -> None:
    finding = next(
        f for f in extract_findings("This might be scar, but the concern is for a nodule.")
    )

    assert (finding.label, finding.presence, finding.hedge) == ("Nodule", "uncertain", "probable")


@pytest.mark.parametrize(
    ("text", "label", "presence"),
    [
        ("Lungs are expanded and clear consolidation.", "Consolidation", "absent"),
        ("The left lung is clear pneumothorax.", "Pneumothorax", "absent"),
        ("Clear hyperinflated lungs.", "Hyperinflation", "present"),
        ("Lungs are clear of effusion and pneumothorax.", "Pneumothorax", "absent"),
    ],
)
def test_clear_before_a_finding_clears_it_even_without_of(
    text: str, label: str, presence: str
) -> None:
    assert states(text)[label] == presence


# ------------------------------------------------------------------------ names of findings


@pytest.mark.parametrize(
    "text",
    [
        "Subcutaneous edema along the right flank.",
        "Soft tissue edema of the forearm.",
        "Chest wall edema after surgery.",
    ],
)
def test_edema_outside_the_lungs_is_not_pulmonary_edema(text: str) -> None:
    assert "Edema" not in labels(text)


def test_lung_edema_keeps_its_name() -> None:
    assert states("Mild interstitial edema at both bases.") == {"Edema": "present"}


def test_a_mass_like_opacity_is_a_mass() -> None:
    assert states("A 5 cm mass-like opacity in the left upper lobe.") == {"Mass": "present"}


@pytest.mark.parametrize(
    "text",
    [
        "Large left pleural effusion with an air-fluid level.",
        "An air-fluid level within the right pleural space.",
        "Loculated pleural air-fluid level at the right base.",
    ],
)
def test_a_pleural_air_fluid_level_is_a_hydropneumothorax(text: str) -> None:
    assert states(text).get("Pneumothorax") == "present"


def test_an_air_fluid_level_elsewhere_is_not_a_pneumothorax() -> None:
    assert "Pneumothorax" not in labels("Air-fluid level in a large hiatal hernia.")
