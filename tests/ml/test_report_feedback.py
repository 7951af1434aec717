"""Instances, priors and messages: the comparison failures of issue 8, in our own sentences."""

from __future__ import annotations

import pytest

from ml.report_metrics import score_report
from ml.report_metrics.extraction import extract_findings


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


# ------------------------------------------------------------------- instances and attributes


def test_two_instances_with_sides_and_sizes_swapped_are_both_errors() -> None:
    reference = "Moderate left and small right pleural effusions."
    result = score_report(reference, "Small left and moderate right pleural effusions.")

    assert categories(result) == [("severity", "Effusion"), ("severity", "Effusion")]
    assert score_report(reference, reference)["errors"] == []


def test_instances_are_matched_one_to_one_by_side() -> None:
    reference = "Small left pleural effusion. Large right pleural effusion."
    swapped = "Large right pleural effusion. Small left pleural effusion."

    assert score_report(reference, swapped)["errors"] == []
    result = score_report(reference, "Small left pleural effusion.")
    assert categories(result) == [("missed_finding", "Effusion")]


def test_a_bilateral_statement_covers_both_sides() -> None:
    reference = "Small left and small right pleural effusions."

    assert score_report(reference, "Small bilateral pleural effusions.")["errors"] == []


def test_a_size_with_its_unit_is_compared() -> None:
    reference = "A 2 cm nodule in the right upper lobe."
    close = score_report(reference, "Right upper lobe nodule measuring 21 mm.")
    far = score_report(reference, "A 5 cm nodule in the right upper lobe.")

    assert close["errors"] == []
    assert categories(far) == [("severity", "Nodule")]
    assert far["errors"][0]["attribute"] == "size"
    assert close["clinical_score"] > far["clinical_score"]


# --------------------------------------------------------------------------------- priors


@pytest.mark.parametrize("word", ["Stable", "Unchanged"])
def test_one_comparison_word_without_a_prior_costs_a_bounded_penalty(word: str) -> None:
    reference = "Mild bibasilar atelectasis. No effusion."
    candidate = f"{word} mild bibasilar atelectasis. No effusion."
    result = score_report(reference, candidate)

    assert categories(result) == [("unsupported_comparison", None)]
    assert result["clinical_percent"] >= 80


def test_several_comparison_words_are_still_one_bounded_error() -> None:
    reference = "Mild cardiomegaly."
    candidate = "Stable mild cardiomegaly. Unchanged lungs compared with the prior study."
    result = score_report(reference, candidate)

    assert categories(result) == [("unsupported_comparison", None)]
    assert result["clinical_percent"] >= 80


def test_reference_change_statements_are_not_required_without_a_prior() -> None:
    reference = "Stable moderate cardiomegaly. Left effusion has increased."
    result = score_report(reference, "Moderate cardiomegaly. Left pleural effusion.")

    assert result["errors"] == []


def test_with_a_prior_change_is_compared() -> None:
    reference = "Left pleural effusion has increased."
    result = score_report(reference, "Left pleural effusion has decreased.", has_prior=True)

    assert categories(result) == [("change", "Effusion")]
    assert (
        score_report(reference, "Increased left pleural effusion.", has_prior=True)["errors"] == []
    )


# -------------------------------------------------------------------------------- messages


def test_a_finding_never_mentioned_is_not_called_absent() -> None:
    result = score_report("Small left pleural effusion.", "Mild cardiomegaly.")
    missed = next(e for e in result["errors"] if e["category"] == "missed_finding")

    assert "you did not mention it" in missed["message"]
    assert "absent" not in missed["message"]


def test_a_denied_finding_is_called_absent_and_both_sentences_are_named() -> None:
    result = score_report("Small left pleural effusion.", "Heart normal. No pleural effusion.")
    missed = next(e for e in result["errors"] if e["category"] == "missed_finding")

    assert "you stated it is absent" in missed["message"]
    assert missed["reference_sentence"] == "Small left pleural effusion."
    assert missed["candidate_sentence"] == "No pleural effusion."
    assert '"Small left pleural effusion."' in missed["message"]
    assert '"No pleural effusion."' in missed["message"]


def test_every_error_names_its_sentences() -> None:
    reference = "Small left pleural effusion. Mild cardiomegaly."
    candidate = "Large right pleural effusion. Right upper lobe consolidation. Stable heart."
    result = score_report(reference, candidate)

    assert result["errors"]
    for error in result["errors"]:
        assert "reference_sentence" in error and "candidate_sentence" in error
        if error["candidate_span"] is not None:
            assert error["candidate_sentence"] in candidate
            assert f'"{error["candidate_sentence"]}"' in error["message"]
        if error["reference_span"] is not None:
            assert error["reference_sentence"] in reference
            assert f'"{error["reference_sentence"]}"' in error["message"]


# ------------------------------------------------------------------ label-derived references

NIH = [
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
    "Consolidation",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Pleural_Thickening",
    "Hernia",
    "No Finding",
]


def test_a_derived_reference_does_not_score_what_it_cannot_name() -> None:
    reference = "Infiltration in both lungs. The heart is enlarged (cardiomegaly)."
    candidate = (
        "Endotracheal tube tip 4 cm above the carina. Right internal jugular central line in the "
        "SVC. Bilateral airspace opacities (infiltration). Cardiomegaly."
    )
    result = score_report(reference, candidate, vocabulary=NIH)

    assert result["errors"] == []
    assert result["clinical_percent"] == 100.0
    assert {u["label"] for u in result["unscored"]} == {
        "Endotracheal tube",
        "Central venous catheter",
    }
    assert "derived from dataset labels" in result["vocabulary_note"]
    assert "Endotracheal tube" in result["vocabulary_note"]
    # Without the vocabulary the same devices are false findings.
    plain = score_report(reference, candidate)
    assert {e["label"] for e in plain["errors"]} == {"Endotracheal tube", "Central venous catheter"}


def test_a_finding_inside_the_vocabulary_is_still_false() -> None:
    result = score_report("The lungs are clear.", "Large right pneumothorax.", vocabulary=NIH)

    assert categories(result) == [("false_finding", "Pneumothorax")]


def test_an_unknown_vocabulary_label_is_an_input_error() -> None:
    with pytest.raises(ValueError, match="vocabulary"):
        score_report("Normal.", "Normal.", vocabulary=["Not a finding at all"])


# ------------------------------------------------------------------------ order and incidentals


def test_shuffled_sentences_give_the_same_instances() -> None:
    reference = (
        "Multiple nodules in both lungs. A 9 mm nodule in the left lower lobe. "
        "A 2 cm nodule near the right hilum."
    )
    shuffled = (
        "A 2 cm nodule near the right hilum. Multiple nodules in both lungs. "
        "A 9 mm nodule in the left lower lobe."
    )

    assert score_report(reference, shuffled)["errors"] == []


def test_a_normal_clause_lends_no_side_to_the_next_finding() -> None:
    reference = "Right lung clear. Left lower lobe atelectasis."

    assert (
        score_report(reference, "Right lung clear, but left lower lobe atelectasis.")["errors"]
        == []
    )


def test_old_healed_fractures_and_monitor_leads_weigh_nothing() -> None:
    result = score_report(
        "Old healed right rib fractures. External monitor leads overlie the chest. Lungs clear.",
        "The lungs are clear.",
    )

    assert {e["label"] for e in result["errors"]} == {"Fracture", "Support device"}
    assert all(e["weight"] == 0 for e in result["errors"])
    assert result["clinical_percent"] == 100.0
