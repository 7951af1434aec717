"""The finding taxonomy: canonical names, synonyms, answer mode, significance and system.

Django-free and stdlib-only, so the web process, the workers and the CLI share one vocabulary.
Canonical names are NIH ChestX-ray14's where NIH has the finding (written "Pleural thickening",
not "Pleural_Thickening"), then CheXpert's, VinDr-CXR's and PadChest's. Every other spelling from
those datasets and common report wording is a synonym; lookups ignore case, spaces, underscores,
hyphens and slashes, and accept simple plurals.

Answer mode (``localizable``): focal findings are drawn as boxes; diffuse or image-level findings
(edema, emphysema, hyperinflation, fibrosis/ILD, COPD, tuberculosis, spinal curvature,
osteopenia) are ticked from a checklist. A case may override the mode per finding.

Default clinical-significance weights, after the CRIMSON categories the report scorer uses:
- 1.0 urgent, needs action now: pneumothorax, pneumomediastinum, pneumoperitoneum,
  mediastinal shift, consolidation, pneumonia, edema, active tuberculosis, mass, mediastinal
  mass, lung tumour, and VinDr's merged "Nodule/Mass" (the reader cannot tell which it was, so it
  takes the more urgent weight).
- 0.5 actionable, needs follow-up or treatment but not now: effusion, nodule, infiltration,
  lung opacity, cavity, cardiomegaly, enlarged cardiomediastinum, aortic or pulmonary artery
  enlargement, hilar enlargement, fibrosis, ILD, vascular congestion, fracture, bone lesion,
  subcutaneous emphysema, foreign body, other lesion or disease.
- 0.25 not actionable, worth reporting: atelectasis, emphysema, hyperinflation, COPD,
  bronchiectasis, cysts and bullae, pleural thickening, costophrenic blunting, hiatal hernia,
  elevated hemidiaphragm, osteopenia, old tuberculosis, and expected support devices (their
  position is what matters and the report scorer judges that separately).
- 0.0 benign: granuloma, calcification, fibrotic band, aortic elongation and atheromatosis,
  scoliosis, kyphosis, spinal degeneration, surgical clips, sternotomy wires, valve prostheses,
  postoperative change.

VinDr's "Rib fracture" and "Clavicle fracture" are synonyms of "Fracture" (the box says where).
"Hyperinflation" is not "Emphysema": one is a sign of air trapping, the other a tissue diagnosis.
"""

from ml.taxonomy.core import (
    LABELS,
    NORMAL_NAMES,
    UnknownLabelError,
    canonical,
    draw_labels,
    get,
    is_normal,
    lookup,
    normalise,
    select_labels,
    suggest,
)
from ml.taxonomy.datasets import DATASET_VOCABULARIES, derived_vocabulary, map_dataset_label
from ml.taxonomy.label import (
    ACTIONABLE,
    BENIGN,
    NOT_ACTIONABLE,
    SYSTEMS,
    URGENT,
    WEIGHTS,
    Label,
    System,
)

__all__ = [
    "ACTIONABLE",
    "BENIGN",
    "DATASET_VOCABULARIES",
    "LABELS",
    "NORMAL_NAMES",
    "NOT_ACTIONABLE",
    "SYSTEMS",
    "URGENT",
    "WEIGHTS",
    "Label",
    "System",
    "UnknownLabelError",
    "canonical",
    "derived_vocabulary",
    "draw_labels",
    "get",
    "is_normal",
    "lookup",
    "map_dataset_label",
    "normalise",
    "select_labels",
    "suggest",
]
