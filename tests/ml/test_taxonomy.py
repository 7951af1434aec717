"""The taxonomy resolves every dataset's spelling to one canonical label and explains failures."""

from __future__ import annotations

import dataclasses

import pytest

from ml import taxonomy
from ml.taxonomy import (
    LABELS,
    NORMAL_NAMES,
    SYSTEMS,
    WEIGHTS,
    UnknownLabelError,
    canonical,
    draw_labels,
    get,
    is_normal,
    lookup,
    map_dataset_label,
    normalise,
    select_labels,
)
from ml.taxonomy.datasets import (
    CHEXPERT_LABELS,
    NIH_LABELS,
    VINDR_GLOBAL_LABELS,
    VINDR_LOCAL_LABELS,
)

NIH_FOURTEEN = (
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
    "Pleural thickening",
    "Hernia",
)


def test_it_uses_the_nih_names_as_canonical_names() -> None:
    for name in NIH_FOURTEEN:
        assert name in LABELS
        assert canonical(name) == name


def test_it_keeps_every_label_well_formed() -> None:
    for name, label in LABELS.items():
        assert label.name == name
        assert label.weight in WEIGHTS
        assert label.system in SYSTEMS
        assert label.description.endswith(".")
        assert len(label.description.split()) >= 6
        assert name not in label.synonyms


def test_it_lists_labels_in_a_stable_order() -> None:
    assert list(LABELS)[:3] == ["Atelectasis", "Consolidation", "Infiltration"]
    assert [label.name for label in draw_labels()] + [
        label.name for label in select_labels()
    ] == sorted(LABELS, key=lambda n: (not LABELS[n].localizable, list(LABELS).index(n)))


def test_it_makes_labels_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        LABELS["Nodule"].weight = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        LABELS["Foo"] = LABELS["Nodule"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("Pleural_Thickening", "Pleural thickening"),
        ("pleural-thickening", "Pleural thickening"),
        ("PLEURAL THICKENING", "Pleural thickening"),
        ("Infiltrate", "Infiltration"),
        ("Pleural Effusion", "Effusion"),
        ("pleural effusions", "Effusion"),
        ("Nodule/Mass", "Nodule/Mass"),
        ("Lung Lesion", "Nodule/Mass"),
        ("Enlarged PA", "Enlarged pulmonary artery"),
        ("ILD", "Interstitial lung disease"),
        ("interstitial pattern", "Interstitial lung disease"),
        ("hiatal hernia", "Hernia"),
        ("Rib fracture", "Fracture"),
        ("rib fractures", "Fracture"),
        ("Clavicle fracture", "Fracture"),
        ("NSG tube", "Nasogastric tube"),
        ("central venous catheter", "Central venous catheter"),
        ("endotracheal tube", "Endotracheal tube"),
        ("pacemaker", "Pacemaker"),
        ("surgical clips", "Surgical clips"),
        ("laminar atelectasis", "Atelectasis"),
        ("apical pleural thickening", "Pleural thickening"),
        ("costophrenic angle blunting", "Costophrenic angle blunting"),
        ("vertebral degenerative changes", "Vertebral degenerative changes"),
        ("aortic elongation", "Aortic elongation"),
        ("calcified granuloma", "Granuloma"),
        ("air trapping", "Hyperinflation"),
        ("Support Devices", "Support device"),
        ("nodules", "Nodule"),
        ("masses", "Mass"),
    ],
)
def test_it_resolves_synonyms_to_canonical_names(spelling: str, expected: str) -> None:
    assert canonical(spelling) == expected
    assert get(spelling).name == expected
    assert lookup(spelling) is LABELS[expected]


def test_it_keeps_hyperinflation_apart_from_emphysema() -> None:
    assert canonical("hyperinflation") == "Hyperinflation"
    assert canonical("emphysema") == "Emphysema"
    assert get("hyperinflation") != get("emphysema")


def test_it_assigns_answer_modes_by_clinical_shape() -> None:
    for focal in ("Nodule", "Mass", "Effusion", "Pneumothorax", "Cardiomegaly", "Fracture"):
        assert get(focal).localizable, focal
    for diffuse in ("Emphysema", "Edema", "Fibrosis", "Hyperinflation", "COPD", "Scoliosis"):
        assert not get(diffuse).localizable, diffuse
    assert get("Nodule").mode == "draw"
    assert get("Emphysema").mode == "select"


def test_it_weighs_findings_by_clinical_significance() -> None:
    assert get("Pneumothorax").weight == 1.0
    assert get("Mass").weight == 1.0
    assert get("Pneumonia").weight == 1.0
    assert get("Nodule").weight == 0.5
    assert get("Effusion").weight == 0.5
    assert get("Cardiomegaly").weight == 0.5
    assert get("Atelectasis").weight == 0.25
    assert get("Granuloma").weight == 0.0


def test_it_puts_findings_in_the_systems_a_report_covers() -> None:
    assert get("Effusion").system == "pleura"
    assert get("Cardiomegaly").system == "heart_mediastinum"
    assert get("Hilar enlargement").system == "hila"
    assert get("Fracture").system == "bones"
    assert get("Pacemaker").system == "devices"
    assert get("Subcutaneous emphysema").system == "soft_tissues"
    assert get("Nodule").system == "lungs"


def test_it_rejects_unknown_labels_with_suggestions() -> None:
    with pytest.raises(UnknownLabelError) as caught:
        canonical("Efusion")
    assert "'Efusion'" in str(caught.value)
    assert "Effusion" in str(caught.value)
    assert caught.value.label == "Efusion"
    assert caught.value.suggestions[0] == "Effusion"
    assert isinstance(caught.value, ValueError)
    assert lookup("Efusion") is None


def test_it_rejects_unknown_labels_without_suggestions_when_nothing_is_close() -> None:
    with pytest.raises(UnknownLabelError, match=r"^Unknown finding label 'zzzz'\.$"):
        get("zzzz")


def test_it_treats_non_strings_as_unknown() -> None:
    assert lookup(3) is None  # type: ignore[arg-type]
    with pytest.raises(UnknownLabelError):
        canonical(None)  # type: ignore[arg-type]


def test_it_recognises_normal_study_names() -> None:
    for name in ("No Finding", "No finding", "no_finding", "Normal", "normal study"):
        assert is_normal(name)
        assert normalise(name) in NORMAL_NAMES
    assert not is_normal("Nodule")
    with pytest.raises(UnknownLabelError):
        canonical("No Finding")


def test_it_normalises_case_spacing_and_punctuation() -> None:
    assert normalise("Pleural_Thickening") == normalise("pleural thickening") == "pleuralthickening"
    assert normalise("Nodule/Mass") == "nodulemass"


@pytest.mark.parametrize(
    ("dataset", "vocabulary"),
    [
        ("nih", NIH_LABELS),
        ("chexpert", CHEXPERT_LABELS),
        ("vindr", VINDR_LOCAL_LABELS + VINDR_GLOBAL_LABELS),
    ],
)
def test_it_maps_every_term_of_each_closed_dataset(
    dataset: str, vocabulary: tuple[str, ...]
) -> None:
    for term in vocabulary:
        mapped = map_dataset_label(dataset, term)
        assert mapped is None if is_normal(term) else mapped in LABELS, term


def test_it_maps_dataset_specific_terms() -> None:
    assert map_dataset_label("nih", "Infiltrate") == "Infiltration"
    assert map_dataset_label("nih", "Pleural_Thickening") == "Pleural thickening"
    assert map_dataset_label("chexpert", "Pleural Other") == "Pleural thickening"
    assert map_dataset_label("chexpert", "Lung Lesion") == "Nodule/Mass"
    assert map_dataset_label("vindr", "Rib fracture") == "Fracture"
    assert map_dataset_label("vindr", "Other diseases") == "Other disease"
    assert map_dataset_label("VinDr", "No finding") is None
    assert map_dataset_label("padchest", "hiatal hernia") == "Hernia"
    assert map_dataset_label("padchest", "normal") is None


def test_it_rejects_terms_outside_a_closed_dataset_vocabulary() -> None:
    with pytest.raises(UnknownLabelError, match="Nodule/Mass"):
        map_dataset_label("nih", "Nodule/Mass")
    with pytest.raises(UnknownLabelError):
        map_dataset_label("padchest", "suboptimal study")
    with pytest.raises(ValueError, match="Unknown dataset 'mimic'"):
        map_dataset_label("mimic", "Effusion")


def test_it_exports_the_public_api() -> None:
    for name in taxonomy.__all__:
        assert hasattr(taxonomy, name), name
