"""Finding extraction: targets onto the taxonomy, ConText presence, attributes, normal phrases."""

from __future__ import annotations

import pytest

from ml import taxonomy
from ml.report_metrics.extraction import extract_findings
from ml.report_metrics.findings import Finding
from ml.report_metrics.normals import NORMAL_STATEMENTS
from ml.report_metrics.phrases import PHRASE_RULES
from ml.report_metrics.vocabulary import target_table


def by_label(text: str) -> dict[str, Finding]:
    findings: dict[str, Finding] = {}
    for finding in extract_findings(text):
        findings.setdefault(finding.label, finding)
    return findings


def presence(text: str, label: str) -> str | None:
    found = by_label(text).get(label)
    return found.presence if found else None


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        ("There is a small left pleural effusion.", "Effusion", "present"),
        ("No pneumothorax.", "Pneumothorax", "absent"),
        ("Small effusion without pneumothorax.", "Pneumothorax", "absent"),
        ("Small effusion without pneumothorax.", "Effusion", "present"),
        ("The lungs are free of consolidation.", "Consolidation", "absent"),
        ("Negative for pneumothorax.", "Pneumothorax", "absent"),
        ("No evidence of pulmonary edema.", "Edema", "absent"),
        ("Pneumothorax is not seen.", "Pneumothorax", "absent"),
        ("The left effusion has resolved.", "Effusion", "absent"),
        ("Pneumothorax is unlikely.", "Pneumothorax", "absent"),
        ("Cannot exclude a small effusion.", "Effusion", "uncertain"),
        ("Mild pulmonary edema cannot be excluded.", "Edema", "uncertain"),
        ("Right basal opacity may represent pneumonia.", "Pneumonia", "uncertain"),
        ("Possible left lower lobe consolidation.", "Consolidation", "uncertain"),
        ("Findings suspicious for a right upper lobe mass.", "Mass", "uncertain"),
        ("Findings consistent with pulmonary edema.", "Edema", "present"),
        ("There is mild cardiomegaly without pulmonary edema.", "Edema", "absent"),
        ("There is mild cardiomegaly without pulmonary edema.", "Cardiomegaly", "present"),
        (
            "The previously seen right pneumothorax is no longer visualized.",
            "Pneumothorax",
            "absent",
        ),
        ("Right lower lobe nodule, e.g. granuloma vs. neoplasm.", "Nodule", "present"),
        ("Right lower lobe nodule, e.g. granuloma vs. neoplasm.", "Granuloma", "uncertain"),
        ("Left retrocardiac opacity is concerning for pneumonia.", "Pneumonia", "uncertain"),
        ("No change in the small left effusion.", "Effusion", "present"),
    ],
)
def test_presence_follows_negation_and_uncertainty_cues(
    text: str, label: str, expected: str
) -> None:
    assert presence(text, label) == expected


@pytest.mark.parametrize(
    "text",
    [
        "No pneumothorax, but there is a small left effusion.",
        "No pneumothorax; however, a small left effusion is present.",
        "No pneumothorax, small left effusion.",
        "No pneumothorax and a small left effusion.",
        "There is no pneumothorax although there is a small left effusion.",
    ],
)
def test_negation_scope_ends_at_but_however_and_clause_boundaries(text: str) -> None:
    assert presence(text, "Pneumothorax") == "absent"
    assert presence(text, "Effusion") == "present"


def test_a_negated_list_negates_every_member() -> None:
    found = by_label("No focal consolidation, pleural effusion, or pneumothorax.")

    assert {label: f.presence for label, f in found.items()} == {
        "Consolidation": "absent",
        "Effusion": "absent",
        "Pneumothorax": "absent",
    }


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("Right lower lobe atelectasis or pneumonia.", ("Atelectasis", "Pneumonia")),
        ("Scarring versus infiltrate in the right upper lobe.", ("Fibrotic band", "Infiltration")),
        ("Atelectasis, aspiration or pneumonia at the left base.", ("Atelectasis", "Pneumonia")),
    ],
)
def test_a_differential_makes_every_alternative_uncertain_and_shares_location(
    text: str, labels: tuple[str, ...]
) -> None:
    found = by_label(text)
    for label in labels:
        assert found[label].presence == "uncertain"
    assert len({(found[label].laterality, found[label].zone) for label in labels}) == 1
    assert found[labels[0]].laterality in {"left", "right"}


def test_a_generic_opacity_folds_into_the_diagnosis_that_explains_it() -> None:
    found = extract_findings("Left basilar opacity, likely atelectasis.")

    assert [(f.label, f.presence, f.laterality, f.zone) for f in found] == [
        ("Atelectasis", "uncertain", "left", "basal")
    ]


def test_an_unexplained_opacity_stays_a_finding() -> None:
    found = by_label("Right upper lobe opacity and left lower lobe atelectasis.")

    assert found["Lung opacity"].laterality == "right"
    assert found["Atelectasis"].laterality == "left"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Enlarged cardiac silhouette.", "Cardiomegaly"),
        ("The heart is mildly enlarged.", "Cardiomegaly"),
        ("Heart size is increased.", "Cardiomegaly"),
        ("Blunting of the left costophrenic angle.", "Effusion"),
        ("Blunted right costophrenic angle.", "Effusion"),
        ("Hyperexpanded lungs.", "Hyperinflation"),
        ("The lungs are hyperinflated with flattened hemidiaphragms.", "Hyperinflation"),
        ("Right IJ central venous catheter tip in the SVC.", "Central venous catheter"),
        ("Enteric tube courses below the diaphragm.", "Nasogastric tube"),
        ("Interval placement of a right-sided PICC.", "Central venous catheter"),
        ("Degenerative changes of the thoracic spine.", "Vertebral degenerative changes"),
        ("Hyperinflated lungs consistent with COPD.", "COPD"),
    ],
)
def test_clinical_equivalents_map_onto_the_taxonomy(text: str, label: str) -> None:
    found = by_label(text)

    assert label in found and found[label].presence == "present"


def test_hyperexpanded_lungs_are_not_emphysema() -> None:
    assert "Emphysema" not in by_label("Hyperexpanded lungs.")


@pytest.mark.parametrize(
    ("text", "covered"),
    [
        ("The lungs are clear.", {"Consolidation", "Pneumonia", "Edema", "Atelectasis"}),
        ("Heart size is normal.", {"Cardiomegaly"}),
        ("Normal cardiomediastinal silhouette.", {"Cardiomegaly"}),
        ("No acute cardiopulmonary process.", {"Effusion", "Pneumothorax", "Consolidation"}),
        ("Osseous structures are intact.", {"Fracture"}),
    ],
)
def test_normal_statements_are_explicit_negatives(text: str, covered: set[str]) -> None:
    found = by_label(text)

    for label in covered:
        assert found[label].presence == "absent"
        assert found[label].implied


def test_an_explicit_mention_wins_over_a_normal_statement() -> None:
    found = by_label("Lungs are otherwise clear. Left basal atelectasis.")

    assert found["Atelectasis"].presence == "present"
    assert not found["Atelectasis"].implied


@pytest.mark.parametrize(
    ("text", "label", "laterality", "zone", "severity", "change"),
    [
        ("Small left pleural effusion.", "Effusion", "left", None, "small", None),
        (
            "Bilateral effusions, left greater than right.",
            "Effusion",
            "bilateral",
            None,
            None,
            None,
        ),
        ("Trace right apical pneumothorax.", "Pneumothorax", "right", "apical", "trace", None),
        ("Moderate bibasilar atelectasis.", "Atelectasis", "bilateral", "basal", "moderate", None),
        ("Retrocardiac consolidation.", "Consolidation", None, "retrocardiac", None, None),
        ("Perihilar edema, markedly increased.", "Edema", None, "perihilar", "severe", "increased"),
        ("New right upper lobe nodule.", "Nodule", "right", "upper", None, "new"),
        ("Stable moderate cardiomegaly.", "Cardiomegaly", None, None, "moderate", "stable"),
        ("The left effusion has resolved.", "Effusion", "left", None, None, "resolved"),
        ("The heart is markedly enlarged.", "Cardiomegaly", None, None, "severe", None),
    ],
)
def test_attributes_are_read_from_the_findings_clause(
    text: str,
    label: str,
    laterality: str | None,
    zone: str | None,
    severity: str | None,
    change: str | None,
) -> None:
    found = by_label(text)[label]

    assert (found.laterality, found.zone, found.severity, found.change) == (
        laterality,
        zone,
        severity,
        change,
    )


def test_attributes_do_not_leak_into_the_next_finding() -> None:
    found = by_label("Small left effusion with adjacent atelectasis. Large right pneumothorax.")

    assert found["Effusion"].severity == "small"
    assert found["Atelectasis"].severity is None
    assert found["Pneumothorax"].laterality == "right"


def test_hypothetical_mentions_are_dropped() -> None:
    assert by_label("Evaluate for pneumonia. Rule out pneumothorax.") == {}


def test_spans_point_at_the_mention_and_its_sentence() -> None:
    text = "Heart normal. There is a small left pleural effusion."
    (finding,) = [f for f in extract_findings(text) if f.label == "Effusion"]

    assert text[finding.span[0] : finding.span[1]] == finding.text == "pleural effusion"
    assert text[finding.sentence_span[0] : finding.sentence_span[1]] == (
        "There is a small left pleural effusion."
    )
    assert finding.as_dict()["span"] == list(finding.span)


def test_results_are_cached_by_text() -> None:
    text = "Small left effusion. No pneumothorax."

    assert extract_findings(text) is extract_findings(text)


def test_every_rule_and_normal_statement_names_a_taxonomy_label() -> None:
    for rule in PHRASE_RULES:
        assert taxonomy.canonical(rule.label) == rule.label
    for statement in NORMAL_STATEMENTS:
        for label in statement.covers:
            assert label in taxonomy.LABELS
    assert set(target_table().labels) <= set(taxonomy.LABELS)


def test_a_report_without_findings_yields_none() -> None:
    assert extract_findings("PA and lateral views of the chest were obtained.") == ()
