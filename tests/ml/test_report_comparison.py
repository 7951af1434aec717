"""Clinical comparison on hand-written report pairs: every error category and the score's rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ml.report_metrics import score_report
from ml.report_metrics.comparison import Comparison
from ml.report_metrics.significance import weight_context

REFERENCE = (
    "PA and lateral views of the chest. The heart is mildly enlarged. There is a small left "
    "pleural effusion with adjacent atelectasis. No pneumothorax. Osseous structures are intact."
)
NORMAL = "The lungs are clear. Heart size is normal. No pleural effusion or pneumothorax."


def categories(result: dict[str, object]) -> list[tuple[str, str | None]]:
    return sorted((e["category"], e["label"]) for e in result["errors"])  # type: ignore[union-attr, index]


def test_the_identical_report_scores_one_with_no_errors() -> None:
    result = score_report(REFERENCE, REFERENCE)

    assert result["clinical_score"] == 1.0
    assert result["clinical_percent"] == 100.0
    assert result["errors"] == []
    assert {m["label"] for m in result["matched"]} == {"Cardiomegaly", "Effusion", "Atelectasis"}


def test_normal_read_as_normal_scores_one() -> None:
    result = score_report(NORMAL, "No acute cardiopulmonary process. Normal heart size.")

    assert result["clinical_score"] == 1.0
    assert result["errors"] == []


def test_reordered_sentences_score_the_same() -> None:
    reordered = (
        "Osseous structures are intact. No pneumothorax. There is a small left pleural "
        "effusion with adjacent atelectasis. The heart is mildly enlarged. PA and lateral views "
        "of the chest."
    )

    assert score_report(REFERENCE, reordered)["clinical_score"] == 1.0
    assert score_report(REFERENCE, reordered)["errors"] == []


def test_a_missed_finding_costs_its_weight() -> None:
    result = score_report(REFERENCE, "Mildly enlarged heart. Small left pleural effusion.")

    assert categories(result) == [("missed_finding", "Atelectasis")]
    assert result["errors"][0]["candidate_span"] is None
    # Weights: cardiomegaly 0.5, effusion 0.5, atelectasis 0.25 -> 1.0 of 1.25.
    assert result["clinical_score"] == pytest.approx(1.0 / 1.25)


def test_a_false_finding_is_subtracted() -> None:
    result = score_report(NORMAL, "Lungs clear. Small right pneumothorax.")

    (error,) = result["errors"]
    assert (error["category"], error["label"], error["weight"]) == (
        "false_finding",
        "Pneumothorax",
        1.0,
    )
    assert "the reference stated it is absent" in error["message"]
    # Both spans: the false claim, and the reference sentence that denies it.
    start, end = error["reference_span"]
    assert NORMAL[start:end] == "pneumothorax"
    assert error["candidate_span"] is not None
    # A normal reference: one unit of credit for normality, less the urgent false finding.
    assert result["clinical_score"] == 0.0


def test_a_laterality_swap_is_a_location_error() -> None:
    result = score_report("Small left pleural effusion.", "Small right pleural effusion.")

    (error,) = result["errors"]
    assert (error["category"], error["label"]) == ("location", "Effusion")
    assert "left" in error["message"] and "right" in error["message"]
    assert result["clinical_score"] == pytest.approx(0.5)


def test_a_wrong_zone_is_a_location_error_but_a_synonym_zone_is_not() -> None:
    wrong = score_report("Right upper lobe nodule.", "Right lower lobe nodule.")
    synonym = score_report("Right basilar atelectasis.", "Right lower lobe atelectasis.")

    assert categories(wrong) == [("location", "Nodule")]
    assert synonym["errors"] == []


def test_an_omitted_side_is_not_an_error() -> None:
    assert score_report("Small left pleural effusion.", "Small pleural effusion.")["errors"] == []


def test_a_severity_change_is_a_severity_error() -> None:
    one_grade = score_report("Moderate left effusion.", "Small left effusion.")
    two_grades = score_report("Large left effusion.", "Small left effusion.")
    same_grade = score_report("Small left effusion.", "Mild left effusion.")

    assert categories(one_grade) == [("severity", "Effusion")]
    assert one_grade["clinical_score"] == pytest.approx(0.75)
    assert two_grades["clinical_score"] == pytest.approx(0.5)
    assert same_grade["errors"] == []


def test_a_comparison_without_a_prior_is_unsupported() -> None:
    candidate = "Stable mildly enlarged heart. Small left effusion, unchanged. Atelectasis."
    without = score_report(REFERENCE, candidate, has_prior=False)
    with_prior = score_report(REFERENCE, candidate, has_prior=True)

    # One error for the report, naming both sentences, at a bounded cost.
    (error,) = without["errors"]
    assert error["category"] == "unsupported_comparison"
    assert len(error["candidate_spans"]) == 2
    assert without["clinical_score"] == pytest.approx(0.85)
    assert with_prior["errors"] == []
    assert without["clinical_score"] < with_prior["clinical_score"] == 1.0


def test_saying_there_is_no_prior_is_not_a_comparison() -> None:
    result = score_report(NORMAL, "Comparison: none. Lungs are clear. No prior studies.")

    assert result["errors"] == []


def test_uncertain_reference_findings_count_half() -> None:
    result = score_report("Right basal atelectasis or pneumonia.", "Right basal atelectasis.")

    assert categories(result) == [("missed_finding", "Pneumonia")]
    (missed,) = result["errors"]
    assert missed["weight"] == 0.5  # pneumonia is urgent (1.0), stated as uncertain


def test_hedging_a_definite_finding_earns_partial_credit() -> None:
    result = score_report("Small left effusion.", "Possible small left effusion.")

    assert result["errors"] == []
    assert result["clinical_score"] == pytest.approx(0.75)


def test_a_related_label_earns_half_credit_and_is_not_a_false_finding() -> None:
    result = score_report("Right lower lobe pneumonia.", "Right lower lobe consolidation.")

    assert result["errors"] == []
    (match,) = result["matched"]
    assert match["related"] and match["candidate_label"] == "Consolidation"
    assert result["clinical_score"] == pytest.approx(0.5)


def test_but_scope_keeps_the_finding_after_it() -> None:
    result = score_report(
        "Small left pleural effusion. No pneumothorax.",
        "No pneumothorax, but there is a small left effusion.",
    )

    assert result["clinical_score"] == 1.0


def test_a_negation_trap_is_a_miss_not_a_match() -> None:
    result = score_report("Small left pleural effusion.", "No pleural effusion.")

    assert categories(result) == [("missed_finding", "Effusion")]
    (error,) = result["errors"]
    assert "stated it is absent" in error["message"]
    assert error["candidate_span"] == [3, 19]  # "pleural effusion" in "No pleural effusion."


def test_clinical_equivalents_match_the_reference_label() -> None:
    result = score_report(
        "Cardiomegaly. Small left pleural effusion. Hyperinflation.",
        "Enlarged cardiac silhouette. Blunting of the left costophrenic angle. "
        "Hyperexpanded lungs.",
    )

    assert result["errors"] == []
    assert result["clinical_score"] == 1.0


def test_benign_findings_do_not_break_a_normal_reference() -> None:
    result = score_report("Calcified granuloma in the right upper lobe.", "Lungs are clear.")

    assert categories(result) == [("missed_finding", "Granuloma")]
    assert result["errors"][0]["weight"] == 0.0
    assert result["clinical_score"] == 1.0


def test_trauma_indication_raises_fractures_to_urgent() -> None:
    reference = "Acute left rib fracture."
    plain = score_report(reference, "Lungs are clear.")
    trauma = score_report(reference, "Lungs are clear.", indication="Fall from ladder")

    assert plain["errors"][0]["weight"] == 0.5
    assert trauma["errors"][0]["weight"] == 1.0
    assert "trauma" in trauma["errors"][0]["message"]


def test_age_adjustments() -> None:
    infant = weight_context(age=1, indication=None)
    adult = weight_context(age=60, indication=None)
    young = weight_context(age=25, indication=None)

    assert infant.weight("Fracture")[0] == 1.0
    assert adult.weight("Fracture")[0] == 0.5
    assert adult.weight("Nodule")[0] == 1.0
    assert young.weight("Nodule")[0] == 0.5
    assert infant.weight("Hyperinflation")[0] == 0.5


def test_indication_adjustments_move_one_tier() -> None:
    infection = weight_context(age=None, indication="Fever and productive cough")
    failure = weight_context(age=None, indication="SOB, known CHF")
    lines = weight_context(age=None, indication="PICC placement")

    assert infection.weight("Effusion")[0] == 1.0
    assert infection.weight("Atelectasis")[0] == 0.25
    assert failure.weight("Cardiomegaly")[0] == 1.0
    assert lines.weight("Central venous catheter")[0] == 0.5


def test_a_malpositioned_device_is_urgent() -> None:
    result = score_report(
        "Endotracheal tube tip in the right mainstem bronchus; recommend retraction.",
        "Lungs are clear.",
    )

    (missed,) = result["errors"]
    assert (missed["label"], missed["weight"]) == ("Endotracheal tube", 1.0)


def test_scores_stay_bounded_however_bad_the_report() -> None:
    result = score_report(
        "Small left effusion.",
        "Large right pneumothorax. Right lower lobe consolidation. Pulmonary edema. "
        "Left upper lobe mass. Stable since prior.",
    )

    assert -1.0 < result["clinical_score"] < 0
    assert result["clinical_percent"] == 0.0


# Real weights are 0 or at least 0.125 (a not-actionable finding stated as uncertain), and a
# report cannot falsely claim more than every label in the taxonomy.
@given(
    credit=st.floats(0, 10),
    penalty=st.floats(0, 100),
    weight=st.one_of(st.just(0.0), st.floats(0.125, 10)),
)
def test_the_score_map_is_bounded(credit: float, penalty: float, weight: float) -> None:
    comparison = Comparison([], [], weight, min(credit, weight), penalty)

    assert -1.0 < comparison.score <= 1.0
    assert 0.0 <= comparison.percent <= 100.0


@given(st.floats(-40, 1), st.floats(-40, 1))
def test_the_score_map_is_monotone(first: float, second: float) -> None:
    low, high = sorted((first, second))

    def score(raw: float) -> float:
        return Comparison([], [], 0.0, 0.0, 1.0 - raw).score

    assert score(low) <= score(high)
    assert (
        Comparison([], [], 0.0, 0.0, 1.0 - low).percent
        <= Comparison([], [], 0.0, 0.0, 1.0 - high).percent
    )
