"""Lung parenchyma and pleura findings.

Descriptions are written for residents: what the finding is and how it shows on a chest film.
"""

from __future__ import annotations

from ml.taxonomy.label import (
    ACTIONABLE,
    BENIGN,
    DRAW,
    NOT_ACTIONABLE,
    SELECT,
    URGENT,
    Label,
)

LUNG_LABELS: tuple[Label, ...] = (
    Label(
        "Atelectasis",
        DRAW,
        NOT_ACTIONABLE,
        "Partial collapse of lung with loss of volume, seen as a linear or wedge-shaped opacity "
        "that pulls fissures, hila or the diaphragm towards it.",
        "lungs",
        (
            "atelectases",
            "atelectatic change",
            "laminar atelectasis",
            "plate-like atelectasis",
            "platelike atelectasis",
            "discoid atelectasis",
            "linear atelectasis",
            "subsegmental atelectasis",
            "segmental atelectasis",
            "lobar atelectasis",
            "round atelectasis",
            "lobar collapse",
            "lung collapse",
            "volume loss",
        ),
    ),
    Label(
        "Consolidation",
        DRAW,
        URGENT,
        "Airspaces filled with fluid, pus, blood or cells, seen as a dense opacity that hides "
        "vessels and often shows air bronchograms, without loss of volume.",
        "lungs",
        (
            "airspace consolidation",
            "air space consolidation",
            "alveolar consolidation",
            "infiltrate/consolidation",
            "alveolar pattern",
            "consolidations",
        ),
    ),
    Label(
        "Infiltration",
        DRAW,
        ACTIONABLE,
        "A poorly defined area of increased lung density (an 'infiltrate') from fluid or cells "
        "in the lung, less dense and less sharply marginated than consolidation.",
        "lungs",
        ("Infiltrate", "infiltrates", "pulmonary infiltrate", "pulmonary infiltrates"),
    ),
    Label(
        "Pneumonia",
        DRAW,
        URGENT,
        "Infection of the lung, seen as patchy or lobar airspace opacity in the clinical "
        "setting of fever, cough or raised inflammatory markers.",
        "lungs",
        ("bronchopneumonia", "lobar pneumonia", "pneumonic consolidation", "chest infection"),
    ),
    Label(
        "Lung opacity",
        DRAW,
        ACTIONABLE,
        "Any area of the lung that is whiter than it should be, a descriptive umbrella term used "
        "before the cause (fluid, cells, collapse, mass) is named.",
        "lungs",
        (
            "Lung Opacity",
            "opacity",
            "opacities",
            "airspace opacity",
            "air space opacity",
            "pulmonary opacity",
            "parenchymal opacity",
            "increased density",
            "ground glass opacity",
            "ground glass pattern",
        ),
    ),
    Label(
        "Nodule",
        DRAW,
        ACTIONABLE,
        "A rounded opacity up to 3 cm across within the lung, which may need comparison with "
        "old films or follow-up imaging to exclude cancer.",
        "lungs",
        (
            "pulmonary nodule",
            "lung nodule",
            "nodular opacity",
            "solitary pulmonary nodule",
            "multiple nodules",
            "pseudonodule",
        ),
    ),
    Label(
        "Mass",
        DRAW,
        URGENT,
        "A rounded or lobulated opacity larger than 3 cm within the lung, suspicious for cancer "
        "until proven otherwise.",
        "lungs",
        ("lung mass", "pulmonary mass", "mass lesion", "masses"),
    ),
    Label(
        "Nodule/Mass",
        DRAW,
        URGENT,
        "A focal rounded lung lesion whose size class (nodule under 3 cm, mass over 3 cm) the "
        "source did not record.",
        "lungs",
        (
            "nodule or mass",
            "mass/nodule",
            "Lung Lesion",
            "pulmonary lesion",
            "focal lung lesion",
        ),
    ),
    Label(
        "Lung tumor",
        SELECT,
        URGENT,
        "An image-level impression of a lung cancer or other lung neoplasm, rather than a "
        "single marked lesion.",
        "lungs",
        ("lung tumour", "lung cancer", "lung neoplasm", "bronchogenic carcinoma", "tumor"),
    ),
    Label(
        "Lung cavity",
        DRAW,
        ACTIONABLE,
        "A gas-filled space with a thick wall inside a consolidation or mass, as seen in "
        "tuberculosis, lung abscess or cavitating cancer.",
        "lungs",
        ("cavity", "cavitation", "cavitary lesion", "cavitating lesion", "cavitated lesion"),
    ),
    Label(
        "Lung cyst",
        DRAW,
        NOT_ACTIONABLE,
        "A round, thin-walled, air-filled space in the lung.",
        "lungs",
        ("cyst", "pulmonary cyst", "pneumatocele"),
    ),
    Label(
        "Bulla",
        DRAW,
        NOT_ACTIONABLE,
        "An air space larger than 1 cm with a hairline wall and no lung markings, usually with "
        "emphysema; a large one can mimic a pneumothorax.",
        "lungs",
        ("bullae", "bullas", "bullous lesion", "emphysematous bulla"),
    ),
    Label(
        "Edema",
        SELECT,
        URGENT,
        "Fluid in the lung interstitium and airspaces, most often from heart failure: upper-lobe "
        "vessel diversion, septal lines, peribronchial cuffing and bilateral perihilar haze.",
        "lungs",
        (
            "oedema",
            "pulmonary edema",
            "pulmonary oedema",
            "interstitial edema",
            "alveolar edema",
        ),
    ),
    Label(
        "Vascular congestion",
        SELECT,
        ACTIONABLE,
        "Distended pulmonary veins with blood diverted to the upper lobes, an early sign of raised "
        "left heart pressure before frank edema.",
        "lungs",
        (
            "pulmonary vascular congestion",
            "pulmonary venous congestion",
            "vascular redistribution",
            "upper lobe diversion",
            "cephalization",
        ),
    ),
    Label(
        "Emphysema",
        SELECT,
        NOT_ACTIONABLE,
        "Destruction of alveolar walls with enlarged air spaces, seen as lucent lungs with few "
        "peripheral vessels, often with bullae.",
        "lungs",
        (
            "pulmonary emphysema",
            "emphysematous changes",
            "centrilobular emphysema",
            "panlobular emphysema",
            "paraseptal emphysema",
        ),
    ),
    Label(
        "Hyperinflation",
        SELECT,
        NOT_ACTIONABLE,
        "Over-expanded lungs from air trapping: flat low hemidiaphragms, more than ten posterior "
        "ribs above the diaphragm and a large retrosternal space. A sign, not the same as "
        "emphysema.",
        "lungs",
        (
            "air trapping",
            "air trapping/hyperinflation",
            "hyperexpansion",
            "hyperexpanded lungs",
            "hyperinflated lungs",
            "overinflation",
        ),
    ),
    Label(
        "COPD",
        SELECT,
        NOT_ACTIONABLE,
        "An image-level impression of chronic obstructive pulmonary disease: hyperinflation, "
        "emphysema and thickened bronchial walls together.",
        "lungs",
        ("chronic obstructive pulmonary disease", "COPD signs", "chronic obstructive lung disease"),
    ),
    Label(
        "Fibrosis",
        SELECT,
        ACTIONABLE,
        "Scarring of the lung interstitium with volume loss, coarse reticular lines and, when "
        "advanced, honeycombing, usually worst at the bases.",
        "lungs",
        ("pulmonary fibrosis", "lung fibrosis", "fibrotic changes", "honeycombing"),
    ),
    Label(
        "Interstitial lung disease",
        SELECT,
        ACTIONABLE,
        "A diffuse reticular, nodular or reticulonodular pattern of lines and dots throughout "
        "the lungs, pointing to disease of the interstitium.",
        "lungs",
        (
            "ILD",
            "interstitial pattern",
            "reticular interstitial pattern",
            "reticulonodular interstitial pattern",
            "reticular pattern",
            "reticulonodular pattern",
            "miliary pattern",
            "interstitial opacities",
        ),
    ),
    Label(
        "Fibrotic band",
        DRAW,
        BENIGN,
        "A thin linear scar in the lung, usually from old infection or infarction.",
        "lungs",
        ("fibrotic bands", "parenchymal band", "linear scar", "lung scar", "scarring"),
    ),
    Label(
        "Bronchiectasis",
        DRAW,
        NOT_ACTIONABLE,
        "Permanently widened, thick-walled bronchi, seen as parallel 'tram lines' or ring "
        "shadows, most often in the lower zones.",
        "lungs",
        ("bronchiectases", "bronchiectatic changes", "cylindrical bronchiectasis"),
    ),
    Label(
        "Granuloma",
        DRAW,
        BENIGN,
        "A small, dense, often calcified nodule left by old infection such as tuberculosis or "
        "histoplasmosis; it needs no follow-up.",
        "lungs",
        ("granulomas", "calcified granuloma", "calcified granulomas", "calcified nodule"),
    ),
    Label(
        "Tuberculosis",
        SELECT,
        URGENT,
        "An image-level impression of active pulmonary tuberculosis: upper-zone consolidation, "
        "cavities, nodal enlargement or a miliary pattern. Patients need isolation and testing.",
        "lungs",
        ("TB", "pulmonary tuberculosis", "active tuberculosis"),
    ),
    Label(
        "Tuberculosis sequelae",
        SELECT,
        NOT_ACTIONABLE,
        "Signs of old, healed tuberculosis: upper-zone scarring, volume loss and calcified "
        "granulomas or nodes.",
        "lungs",
        (
            "old tuberculosis",
            "healed tuberculosis",
            "post-tuberculous changes",
            "post tuberculosis changes",
            "tuberculosis sequela",
        ),
    ),
)

PLEURA_LABELS: tuple[Label, ...] = (
    Label(
        "Effusion",
        DRAW,
        ACTIONABLE,
        "Fluid in the pleural space, seen on an erect film as a dense basal opacity with a "
        "meniscus and a blunted costophrenic angle.",
        "pleura",
        (
            "Pleural effusion",
            "pleural effusions",
            "effusions",
            "pleural fluid",
            "hydrothorax",
            "loculated effusion",
            "loculated pleural effusion",
            "subpulmonic effusion",
        ),
    ),
    Label(
        "Costophrenic angle blunting",
        DRAW,
        NOT_ACTIONABLE,
        "Loss of the sharp angle between the diaphragm and the chest wall, from a small "
        "effusion or old pleural thickening.",
        "pleura",
        (
            "blunted costophrenic angle",
            "blunting of the costophrenic angle",
            "costophrenic blunting",
            "CP angle blunting",
        ),
    ),
    Label(
        "Pneumothorax",
        DRAW,
        URGENT,
        "Air in the pleural space: a thin white visceral pleural line with no lung markings "
        "beyond it. Under tension it shifts the mediastinum and needs immediate decompression.",
        "pleura",
        ("PTX", "pneumothoraces", "tension pneumothorax", "hydropneumothorax"),
    ),
    Label(
        "Pleural thickening",
        DRAW,
        NOT_ACTIONABLE,
        "Thickened pleura, seen as a band of soft tissue along the chest wall or apex, from old "
        "infection, blood, asbestos exposure or, rarely, tumour.",
        "pleura",
        (
            "Pleural_Thickening",
            "apical pleural thickening",
            "apical cap",
            "pleural plaque",
            "pleural plaques",
            "calcified pleural plaques",
            "pleural scarring",
        ),
    ),
)
