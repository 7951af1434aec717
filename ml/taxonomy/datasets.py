"""Public datasets' label vocabularies and their mapping to canonical names.

NIH ChestX-ray14, CheXpert and VinDr-CXR have small closed vocabularies, listed here exactly as
each dataset writes them; a name outside its dataset's list is rejected, which catches an importer
pointed at the wrong file. PadChest (and PadChest-GR / RadGame, which regroup it) has an open
vocabulary of some 190 terms, so any spelling the taxonomy knows is accepted for it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from ml.taxonomy.core import UnknownLabelError, canonical, is_normal, normalise

NIH_LABELS: Final[tuple[str, ...]] = (
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Infiltrate",  # the box list's spelling of Infiltration
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
)

CHEXPERT_LABELS: Final[tuple[str, ...]] = (
    "No Finding",
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Opacity",
    "Lung Lesion",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    "Support Devices",
)

VINDR_LOCAL_LABELS: Final[tuple[str, ...]] = (
    "Aortic enlargement",
    "Atelectasis",
    "Calcification",
    "Cardiomegaly",
    "Clavicle fracture",
    "Consolidation",
    "Edema",
    "Emphysema",
    "Enlarged PA",
    "ILD",
    "Infiltration",
    "Lung cavity",
    "Lung cyst",
    "Lung Opacity",
    "Mediastinal shift",
    "Nodule/Mass",
    "Other lesion",
    "Pleural effusion",
    "Pleural thickening",
    "Pneumothorax",
    "Rib fracture",
)
VINDR_GLOBAL_LABELS: Final[tuple[str, ...]] = (
    "COPD",
    "Lung tumor",
    "Pneumonia",
    "Tuberculosis",
    "Other diseases",
    "Other disease",
    "No finding",
)

DATASET_VOCABULARIES: Final[Mapping[str, tuple[str, ...] | None]] = MappingProxyType(
    {
        "nih": NIH_LABELS,
        "chexpert": CHEXPERT_LABELS,
        "vindr": VINDR_LOCAL_LABELS + VINDR_GLOBAL_LABELS,
        "padchest": None,
    }
)

# Dataset terms whose meaning there is narrower or wider than the plain English word.
_OVERRIDES: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        # CheXpert's catch-all for pleural disease other than effusion is mostly thickening and
        # plaques (Irvin et al. 2019, labeler phrases).
        ("chexpert", normalise("Pleural Other")): "Pleural thickening",
    }
)


def map_dataset_label(dataset: str, name: str) -> str | None:
    """The canonical name of ``name`` as ``dataset`` writes it; None for "no finding".

    ``dataset`` is one of "nih", "chexpert", "vindr", "padchest". Raises UnknownLabelError
    for a name the dataset does not use and ValueError for an unknown dataset.
    """
    key = dataset.casefold()
    if key not in DATASET_VOCABULARIES:
        raise ValueError(
            f"Unknown dataset {dataset!r}; expected one of {', '.join(DATASET_VOCABULARIES)}."
        )
    if is_normal(name):
        return None
    vocabulary = DATASET_VOCABULARIES[key]
    if vocabulary is not None:
        allowed = {normalise(term): term for term in vocabulary}
        if normalise(name) not in allowed:
            close = difflib.get_close_matches(normalise(name), allowed, n=3, cutoff=0.6)
            raise UnknownLabelError(name, [allowed[k] for k in close])
    override = _OVERRIDES.get((key, normalise(name)))
    return override if override is not None else canonical(name)


# The names a case's source gives a dataset, for the datasets whose references are derived.
_SOURCE_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        normalise(name): key
        for key, names in {
            "nih": ("nih", "NIH ChestX-ray14", "ChestX-ray14", "ChestX-ray8"),
            "chexpert": ("chexpert", "CheXpert"),
            "vindr": ("vindr", "VinDr-CXR"),
        }.items()
        for name in names
    }
)


def derived_vocabulary(dataset: str) -> tuple[str, ...] | None:
    """The canonical labels a reference derived from ``dataset``'s labels can name (sorted), or
    None for a dataset with an open vocabulary or one we do not know. The report scorer leaves
    findings outside it unscored (neither false nor missed)."""
    key = _SOURCE_NAMES.get(normalise(dataset))
    vocabulary = DATASET_VOCABULARIES.get(key) if key else None
    if vocabulary is None:
        return None
    return tuple(sorted({label for name in vocabulary if (label := map_dataset_label(key, name))}))
