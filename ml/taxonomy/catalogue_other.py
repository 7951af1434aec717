"""Heart and mediastinum, hila, bones, soft tissues and everything else."""

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

MEDIASTINUM_LABELS: tuple[Label, ...] = (
    Label(
        "Pericardial effusion",
        SELECT,
        ACTIONABLE,
        "Fluid around the heart: a globular, 'water-bottle' enlargement of the cardiac "
        "silhouette; echocardiography confirms it.",
        "heart_mediastinum",
        ("pericardial fluid",),
    ),
    Label(
        "Cardiomegaly",
        DRAW,
        ACTIONABLE,
        "An enlarged cardiac silhouette: on a PA film the heart is wider than half the inner "
        "width of the chest (cardiothoracic ratio above 0.5).",
        "heart_mediastinum",
        (
            "enlarged heart",
            "cardiac enlargement",
            "enlarged cardiac silhouette",
            "increased cardiothoracic ratio",
        ),
    ),
    Label(
        "Enlarged cardiomediastinum",
        DRAW,
        ACTIONABLE,
        "A widened heart and mediastinum contour, from cardiac enlargement, vessels, nodes or a "
        "mediastinal mass.",
        "heart_mediastinum",
        (
            "Enlarged Cardiomediastinum",
            "enlarged cardiomediastinal silhouette",
            "widened mediastinum",
            "mediastinal widening",
            "mediastinal enlargement",
        ),
    ),
    Label(
        "Mediastinal mass",
        DRAW,
        URGENT,
        "A focal mass in the mediastinum (thymus, thyroid, nodes, lymphoma, germ-cell tumour) "
        "that widens or deforms its contour.",
        "heart_mediastinum",
        ("mediastinal lesion", "anterior mediastinal mass", "superior mediastinal mass"),
    ),
    Label(
        "Mediastinal shift",
        DRAW,
        URGENT,
        "Displacement of the trachea and heart to one side, pushed by a large effusion or "
        "tension pneumothorax, or pulled by collapse.",
        "heart_mediastinum",
        ("mediastinal deviation", "mediastinal displacement", "tracheal deviation"),
    ),
    Label(
        "Pneumomediastinum",
        DRAW,
        URGENT,
        "Free air in the mediastinum, seen as lucent streaks outlining the heart border, aorta "
        "and trachea, often tracking into the neck.",
        "heart_mediastinum",
        ("mediastinal emphysema",),
    ),
    Label(
        "Aortic enlargement",
        DRAW,
        ACTIONABLE,
        "A dilated thoracic aorta, seen as a widened aortic knuckle or a bulging mediastinal "
        "contour; an aneurysm needs cross-sectional imaging.",
        "heart_mediastinum",
        (
            "aortic dilatation",
            "aortic dilation",
            "dilated aorta",
            "aortic aneurysm",
            "aortic ectasia",
        ),
    ),
    Label(
        "Aortic elongation",
        DRAW,
        BENIGN,
        "An unfolded, tortuous aorta of normal calibre, a common age-related finding.",
        "heart_mediastinum",
        ("elongated aorta", "tortuous aorta", "aortic tortuosity", "unfolded aorta"),
    ),
    Label(
        "Aortic atheromatosis",
        DRAW,
        BENIGN,
        "Calcified atherosclerotic plaque in the wall of the aortic arch.",
        "heart_mediastinum",
        (
            "aortic atherosclerosis",
            "aortic calcification",
            "calcified aorta",
            "aortic knob calcification",
        ),
    ),
    Label(
        "Enlarged pulmonary artery",
        DRAW,
        ACTIONABLE,
        "A bulging main pulmonary artery segment below the aortic knuckle, a sign of pulmonary "
        "hypertension.",
        "heart_mediastinum",
        (
            "Enlarged PA",
            "pulmonary artery enlargement",
            "dilated pulmonary artery",
            "prominent pulmonary artery",
        ),
    ),
    Label(
        "Hernia",
        DRAW,
        NOT_ACTIONABLE,
        "Abdominal contents in the chest, most often a hiatal hernia: a retrocardiac soft-tissue "
        "opacity, often with an air-fluid level.",
        "heart_mediastinum",
        (
            "hiatal hernia",
            "hiatus hernia",
            "paraesophageal hernia",
            "diaphragmatic hernia",
        ),
    ),
)

HILA_LABELS: tuple[Label, ...] = (
    Label(
        "Hilar enlargement",
        DRAW,
        ACTIONABLE,
        "A hilum that is larger or denser than normal, from enlarged nodes, a central tumour or "
        "enlarged pulmonary arteries.",
        "hila",
        (
            "hilar prominence",
            "enlarged hilum",
            "enlarged hila",
            "bulky hila",
            "hilar lymphadenopathy",
            "hilar adenopathy",
            "hilar mass",
        ),
    ),
)

BONE_LABELS: tuple[Label, ...] = (
    Label(
        "Fracture",
        DRAW,
        ACTIONABLE,
        "A break in a bone (most often a rib or clavicle), seen as a lucent line, a step in the "
        "cortex or callus around a healing break.",
        "bones",
        (
            "fractures",
            "Rib fracture",
            "rib fractures",
            "Clavicle fracture",
            "clavicular fracture",
            "vertebral fracture",
            "vertebral compression fracture",
            "compression fracture",
            "callus rib fracture",
        ),
    ),
    Label(
        "Bone lesion",
        DRAW,
        ACTIONABLE,
        "A focal area of abnormal bone density, lytic (darker) or sclerotic (whiter), which may "
        "be a metastasis or myeloma.",
        "bones",
        (
            "bone density abnormality/lesion",
            "lytic lesion",
            "lytic bone lesion",
            "sclerotic bone lesion",
            "blastic lesion",
            "bone metastasis",
            "bone metastases",
        ),
    ),
    Label(
        "Osteopenia",
        SELECT,
        NOT_ACTIONABLE,
        "Generalised loss of bone density with thin cortices, as in osteoporosis.",
        "bones",
        ("osteoporosis", "decreased bone density", "demineralisation", "demineralization"),
    ),
    Label(
        "Scoliosis",
        SELECT,
        BENIGN,
        "A sideways curve of the thoracic spine on the frontal film.",
        "bones",
        ("dextroscoliosis", "levoscoliosis", "thoracic scoliosis", "scoliotic curvature"),
    ),
    Label(
        "Kyphosis",
        SELECT,
        BENIGN,
        "An exaggerated forward curve of the thoracic spine, judged on the lateral film.",
        "bones",
        ("thoracic kyphosis", "dorsal kyphosis", "increased kyphosis", "hyperkyphosis"),
    ),
    Label(
        "Spinal deformity",
        SELECT,
        BENIGN,
        "An abnormal curvature of the spine, sideways (scoliosis) or front to back (kyphosis).",
        "bones",
        ("spinal curvature abnormality", "spinal curvature", "kyphoscoliosis"),
    ),
    Label(
        "Vertebral degenerative changes",
        SELECT,
        BENIGN,
        "Wear of the thoracic spine: osteophytes, narrowed discs and endplate sclerosis.",
        "bones",
        (
            "vertebral degenerative change",
            "degenerative changes of the spine",
            "spondylosis",
            "thoracic spondylosis",
            "dorsal spondylosis",
            "osteophytes",
            "vertebral osteophytes",
        ),
    ),
)

SOFT_TISSUE_LABELS: tuple[Label, ...] = (
    Label(
        "Subcutaneous emphysema",
        DRAW,
        ACTIONABLE,
        "Air in the soft tissues of the chest wall or neck, seen as dark streaks between muscle "
        "planes, after trauma, surgery or a chest drain.",
        "soft_tissues",
        ("subcutaneous air", "surgical emphysema", "soft tissue emphysema"),
    ),
)

OTHER_LABELS: tuple[Label, ...] = (
    Label(
        "Calcification",
        DRAW,
        BENIGN,
        "A dense calcified focus (in a node, vessel, cartilage, pleura or old granuloma) that "
        "is usually of no consequence.",
        "other",
        ("calcifications", "calcified lesion", "calcified densities"),
    ),
    Label(
        "Elevated hemidiaphragm",
        DRAW,
        NOT_ACTIONABLE,
        "One hemidiaphragm sitting higher than expected (the right is normally 1 to 2 cm higher "
        "than the left), from volume loss, phrenic nerve palsy or eventration.",
        "other",
        (
            "raised hemidiaphragm",
            "hemidiaphragm elevation",
            "diaphragmatic elevation",
            "elevated diaphragm",
            "diaphragmatic eventration",
            "eventration",
        ),
    ),
    Label(
        "Pneumoperitoneum",
        DRAW,
        URGENT,
        "Free gas under the diaphragm on an erect film, usually from a perforated bowel, which "
        "needs an urgent surgical opinion.",
        "other",
        (
            "free air",
            "free intraperitoneal air",
            "subdiaphragmatic air",
            "free subdiaphragmatic air",
        ),
    ),
    Label(
        "Postoperative change",
        DRAW,
        BENIGN,
        "Changes left by previous surgery, such as a resected rib, lobectomy volume loss or "
        "sutures.",
        "other",
        (
            "postoperative changes",
            "post-operative changes",
            "postsurgical change",
            "post-surgical changes",
            "surgical changes",
        ),
    ),
    Label(
        "Other lesion",
        DRAW,
        ACTIONABLE,
        "A focal abnormality that fits none of the named findings.",
        "other",
        ("other lesions", "other abnormality"),
    ),
    Label(
        "Other disease",
        SELECT,
        ACTIONABLE,
        "An image-level impression of a disease that fits none of the named findings.",
        "other",
        ("Other diseases",),
    ),
)
