"""Phrase rules: the report phrases that name a finding.

Our own rules, written as regular expressions for the clinical equivalents a synonym list cannot
express: "enlarged cardiac silhouette" and "the heart is mildly enlarged" are Cardiomegaly;
"blunting of the costophrenic angle" is read as a (small) Effusion, the finding it stands for in
a report; "hyperexpanded lungs" are Hyperinflation, never Emphysema (a tissue diagnosis a film
cannot make alone). ``vocabulary`` adds every name and synonym of the taxonomy that these rules
do not already read, and matches them all.
"""

from __future__ import annotations

from dataclasses import dataclass

_SIDE = r"(?:(?:left|right|bilateral|both)\s+)?"
_ADVERB = r"(?:(?:\w+ly|borderline)\s+)?"
_BE = r"(?:(?:is|are|appears?|remains?|is\s+again|again)\s+)?"


@dataclass(frozen=True, slots=True)
class PhraseRule:
    """A target phrase: the label it names, its pattern, and words any match must contain.

    ``keys`` are lower-case substrings, one of which every match contains; checking them with
    ``in`` first lets the matcher skip the regexes that cannot match (see ``find_targets``),
    which keeps extraction well under a millisecond per report.
    """

    label: str
    pattern: str
    keys: tuple[str, ...]


_R = PhraseRule
# Patterns are case-insensitive and matched on word boundaries.
PHRASE_RULES: tuple[PhraseRule, ...] = (
    # Cardiomegaly in its many clinical phrasings; "heart size is normal" is a normal statement.
    _R("Cardiomegaly", r"cardiomegaly", ("cardiomegaly",)),
    _R(
        "Cardiomegaly",
        r"enlarged\s+(?:cardiac\s+(?:silhouette|shadow|size)|heart(?:\s+size)?)",
        ("enlarged",),
    ),
    _R(
        "Cardiomegaly",
        r"(?:cardiac\s+(?:silhouette|shadow|size)|heart\s+size|heart)\s+"
        + _BE
        + _ADVERB
        + r"(?:enlarged|increased)",
        ("enlarged", "increased"),
    ),
    _R("Cardiomegaly", r"(?:cardiac|heart)\s+enlargement", ("enlargement",)),
    _R(
        "Cardiomegaly",
        r"(?:heart|cardiac\s+(?:silhouette|contour))(?:\s+size)?\s+(?:is\s+|appears\s+)?"
        r"(?:(?:\w+ly|slightly|xxxx)\s+)*large",
        ("large",),
    ),
    _R(
        "Cardiomegaly",
        r"borderline(?:\s+enlarged)?\s+(?:heart(?:\s+size)?|cardiac\s+(?:size|silhouette|contour))"
        r"|(?:heart|cardiac\s+silhouette)(?:\s+size)?\s+(?:is\s+)?borderline(?:\s+in\s+size)?",
        ("borderline",),
    ),
    _R(
        "Cardiomegaly",
        r"enlarged\s+cardiomediastinal\s+(?:silhouette|contours?)"
        r"|increase\s+in\s+(?:the\s+)?(?:heart|cardiac)\s+(?:size|silhouette)",
        ("enlarged", "increase"),
    ),
    _R("Pericardial effusion", r"pericardial\s+(?:effusions?|fluid)", ("pericardial",)),
    _R(
        "Cardiomegaly",
        r"enlargement\s+of\s+the\s+(?:cardiac\s+silhouette|heart)",
        ("enlargement",),
    ),
    # Pleural fluid, including its indirect sign.
    _R("Effusion", r"(?:pleural\s+)?effusions?", ("effusion",)),
    _R(
        "Effusion",
        r"(?:blunt(?:ing|ed)\s+of\s+|blunted\s+)(?:the\s+)?" + _SIDE + r"(?:costophrenic|cp)\s+"
        r"(?:angles?|sulc(?:us|i))",
        ("blunt",),
    ),
    _R("Effusion", r"(?:costophrenic|cp)\s+(?:angle\s+)?blunting", ("blunt",)),
    _R("Effusion", r"(?:costophrenic|cp)\s+angles?\s+(?:is\s+|are\s+)?blunted", ("blunt",)),
    _R("Effusion", r"(?:pleural|layering)\s+fluid", ("fluid",)),
    _R(
        "Effusion",
        r"fluid\s+(?:in|within)\s+the\s+(?:\w+\s+)?(?:pleural\s+space|fissure)s?",
        ("fluid",),
    ),
    # Air trapping is Hyperinflation, not Emphysema.
    _R("Hyperinflation", r"hyper-?(?:inflat|expan|aerat)\w*", ("hyper",)),
    _R("Hyperinflation", r"over-?(?:inflat|expan|disten)\w*", ("over",)),
    _R("Hyperinflation", r"(?:increased|large)\s+lung\s+volumes?", ("volume",)),
    _R(
        "Hyperinflation",
        r"flat(?:tened|tening)?\s+(?:of\s+)?(?:the\s+)?(?:hemi-?)?diaphragms?",
        ("flat",),
    ),
    _R("Emphysema", r"emphysema(?:tous(?:\s+changes?)?)?", ("emphysema",)),
    # Lung parenchyma.
    _R("Atelectasis", r"atelecta\w+", ("atelecta",)),
    _R("Atelectasis", r"(?:lobar|lobe|lung)\s+collapse", ("collapse",)),
    _R("Atelectasis", r"collapse\s+of\s+the\s+(?:\w+\s+){0,3}?(?:lobe|lung)", ("collapse",)),
    _R("Consolidation", r"consolidat\w*", ("consolidat",)),
    _R("Consolidation", r"air\s*space\s+disease", ("disease",)),
    _R("Consolidation", r"air\s+bronchograms?", ("bronchogram",)),
    _R("Lung opacity", r"opacit(?:y|ies)|opacification|haziness", ("opaci", "haziness")),
    _R("Infiltration", r"infiltrat(?:es?|ion|ive)", ("infiltrat",)),
    _R(
        "Granuloma",
        r"(?:(?:old|prior|previous|remote|healed)\s+)?granulomatous\s+(?:infection|disease|process)"
        r"|(?:old|prior|previous|remote|healed)\s+(?:granulomatous\s+)?(?:histoplasm\w*|infection)",
        ("granulomatous", "histoplasm", "infection"),
    ),
    _R(
        "Tuberculosis sequelae",
        r"(?:(?:old|prior|previous|remote|healed)\s+)?tubercul(?:ous|osis)\s+infection",
        ("tubercul",),
    ),
    _R(
        "Pneumonia",
        r"(?:broncho)?pneumonias?|pneumonic|infectious\s+process|infection",
        ("pneumoni", "infecti"),
    ),
    # Edema of the lungs; "soft tissue edema" of a limb or the chest wall is not.
    _R(
        "Edema",
        r"(?<!soft\stissue\s)(?<!soft-tissue\s)(?<!subcutaneous\s)(?<!pedal\s)(?<!wall\s)"
        r"(?:pulmonary\s+|interstitial\s+|alveolar\s+)?o?edema",
        ("edema",),
    ),
    _R("Edema", r"kerley\s+b?[-\s]?lines|fluid\s+overload", ("kerley", "overload")),
    _R("Nodule", r"nodules?", ("nodul",)),
    # "Mass-like opacity": the writer names the shape of a mass, not a vague opacity.
    _R(
        "Mass",
        r"mass[-\s]?like\s+(?:\w+\s+)?(?:opacit(?:y|ies)|densit(?:y|ies)|lesions?)",
        ("mass",),
    ),
    # "Nodular opacity/density" is described, not diagnosed: an opacity (as MeSH indexes it).
    _R("Lung opacity", r"nodular\s+(?:\w+\s+)?(?:opacit(?:y|ies)|densit(?:y|ies))", ("nodular",)),
    _R(
        "Scoliosis",
        r"(?:dextro|levo)?scolio(?:sis|tic)|(?:dextro|levo)[-\s]?curvature"
        r"|(?:spine|spinal|s-shaped|thoracolumbar|thoracic|lumbar|xxxx)\s+curvature"
        r"|curvature\s+(?:of\s+)?the\s+(?:\w+\s+)?spine",
        ("scolio", "curvature"),
    ),
    _R("Fibrosis", r"fibrosis|fibrotic(?:\s+changes?)?|honeycombing", ("fibro", "honeycomb")),
    _R("Fracture", r"fractur(?:e|es|ed)|fx", ("fractur", "fx")),
    _R(
        "Vertebral degenerative changes",
        r"degenerative\s+(?:changes?|disease)\s+(?:of|in)\s+the\s+(?:\w+\s+)?spine",
        ("degenerative",),
    ),
    _R("Pneumothorax", r"(?:hydro|hemo)?pneumothora(?:x|ces|xes)|ptx", ("pneumothora", "ptx")),
    _R(
        "Pneumothorax",
        r"pleural\s+air(?:\s+collection)?|air\s+collection(?=[^.]{0,80}\bpleural\s+space)",
        ("air",),
    ),
    # An air-fluid level in the pleural space is a hydropneumothorax.
    _R(
        "Pneumothorax",
        r"(?:(?<=effusion\swith\s)|(?<=effusion\swith\san\s)|(?<=pleural\s))"
        r"air[-\s]fluid\s+levels?"
        r"|air[-\s]fluid\s+levels?(?=\s+(?:in|within)\s+the\s+(?:\w+\s+)?pleural\s+space)",
        ("fluid",),
    ),
    # Lines and devices, by their common bedside names.
    _R(
        "Central venous catheter",
        r"(?:internal\s+jugular|ij|subclavian)\s+(?:central\s+)?(?:venous\s+)?(?:catheter|line)"
        r"|port-?a-?cath|picc(?:\s+line)?|central\s+(?:venous\s+)?(?:catheter|line)",
        ("jugular", "ij", "subclavian", "port", "picc", "central"),
    ),
    _R(
        "Central venous catheter",
        r"(?:hemo)?dialysis\s+catheter|medi-?port|porta-?cath(?:eter)?|xxxx-a-xxxx"
        r"|(?:chest\s+(?:wall\s+)?|venous\s+|infusion\s+)port"
        r"|chest\s+(?:wall\s+)?xxxx(?=\s+(?:catheter|tip|with|is|has))",
        ("dialysis", "port", "cath", "xxxx"),
    ),
    _R(
        "Pacemaker",
        r"(?:cardiac\s+)?(?:xxxx\s+)?generator|(?:cardiac\s+)?defibrillator"
        r"|(?:electronic|dual-?\s*(?:xxxx|chamber|lead))\s+(?:cardiac\s+)?(?:xxxx\s+)?device"
        r"|cardiac\s+(?:xxxx\s+)?device",
        ("generator", "defibrillator", "device"),
    ),
    _R(
        "Surgical clips",
        r"(?:(?:surgical|postsurgical|cholecystectomy|vascular|mediastinal|gallbladder)\s+)?clips?",
        ("clip",),
    ),
    _R(
        "Prosthetic heart valve",
        r"(?:prosthetic|mechanical|bioprosthetic)\s+(?:\w+\s+)?valve|valve\s+(?:prosthesis|replacement)",
        ("valve",),
    ),
    _R(
        "Support device",
        r"(?:external\s+)?(?:cardiac\s+)?(?:monitor(?:ing)?|ekg|ecg)\s+(?:leads?|device|wires?)"
        r"|(?:spinal\s+)?stimulator|stents?|(?:ivc|vena\s+cava)\s+filter|closure\s+device"
        r"|gastrostomy\s+tube|shunt(?:\s+(?:tubing|catheter))?|(?:\w+\s+)?catheters?"
        r"|prosthe(?:sis|tic)",
        (
            "monitor",
            "ekg",
            "ecg",
            "stimulator",
            "stent",
            "filter",
            "device",
            "tub",
            "shunt",
            "catheter",
            "prosthe",
        ),
    ),
    _R(
        "Nasogastric tube",
        r"(?:enteric|dobhoff|ng|og|nasogastric|orogastric)\s+tube",
        ("tube",),
    ),
    _R("Endotracheal tube", r"(?:endotracheal|et)\s+tube|ett", ("tube", "ett")),
    _R("Pacemaker", r"pacemaker|pacer|pacing\s+(?:leads?|wires?)|a?icd", ("pac", "icd")),
    _R(
        "Chest tube",
        r"(?:chest|pleural)\s+(?:tube|drain)s?|pigtail\s+catheter",
        ("tube", "drain", "pigtail"),
    ),
)

# Taxonomy spellings too generic to read as a finding in running text.
GENERIC_SPELLINGS: frozenset[str] = frozenset(
    {"cavity", "tumor", "other abnormality", "other lesions", "endotracheal"}
)
# Labels never extracted from free text: catch-alls a report does not name.
UNEXTRACTED_LABELS: frozenset[str] = frozenset({"Other lesion", "Other disease"})
