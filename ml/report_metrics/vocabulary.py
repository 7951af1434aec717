"""Target rules: the report phrases that name a finding, and the normal statements.

Two sources feed the target matcher:

1. Our own phrase rules (``PHRASE_RULES``), written as regular expressions for the clinical
   equivalents a synonym list cannot express: "enlarged cardiac silhouette" and "the heart is
   mildly enlarged" are Cardiomegaly; "blunting of the costophrenic angle" is read as a (small)
   Effusion, the finding it stands for in a report; "hyperexpanded lungs" are Hyperinflation, never
   Emphysema (a tissue diagnosis a film cannot make alone).
2. Every name and synonym of the taxonomy, as a literal phrase, unless one of our rules already
   reads that phrase (our rules decide) or it is too generic to mean a finding in running text
   ("cavity" in "pleural cavity").

Normal statements ("lungs are clear", "heart size is normal", "no acute cardiopulmonary
process") are not findings but explicit negatives for the findings they cover; ``NORMAL_STATEMENTS``
lists what each covers. An explicit mention of a finding anywhere in the report wins over the
negative a normal statement implies ("lungs are clear except for basal atelectasis").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ml import taxonomy

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


@dataclass(frozen=True, slots=True)
class NormalStatement:
    """A phrase stating a region is normal, and the findings it rules out."""

    name: str
    pattern: str
    covers: tuple[str, ...]


_LUNG_CLEAR_COVERS = (
    "Consolidation",
    "Infiltration",
    "Pneumonia",
    "Edema",
    "Atelectasis",
    "Lung opacity",
)
_ACUTE_COVERS = ("Consolidation", "Pneumonia", "Edema", "Effusion", "Pneumothorax", "Lung opacity")

NORMAL_STATEMENTS: tuple[NormalStatement, ...] = (
    NormalStatement(
        "lungs_clear",
        r"(?:lungs?|lung\s+fields|lung\s+parenchyma)\s+(?:(?:are|is|remain|appears?)\s+)?"
        r"(?:(?:otherwise|grossly|essentially|well[-\s]expanded(?:\s+and)?|bilaterally|now|fully)"
        r"\s+)*(?:clear|unremarkable)|clear\s+lungs",
        _LUNG_CLEAR_COVERS,
    ),
    NormalStatement(
        "heart_normal",
        r"(?:heart|cardiac)(?:\s+(?:size|silhouette|contours?|shadow))?"
        r"\s+(?:(?:is|are|appears?|remains?)\s+)?(?:(?:otherwise|grossly|essentially)\s+)?"
        r"(?:normal(?:\s+in\s+size)?|within\s+normal\s+limits|not\s+enlarged|unremarkable)"
        r"|normal\s+(?:heart\s+size|cardiac\s+size|size\s+of\s+the\s+heart|cardiac\s+silhouette)",
        ("Cardiomegaly",),
    ),
    NormalStatement(
        "cardiomediastinal_normal",
        r"normal\s+cardiomediastinal\s+(?:silhouette|contours?)"
        r"|(?:cardiomediastinal\s+(?:silhouette|contours?)|heart\s+and\s+mediastinum)\s+"
        r"(?:(?:is|are|appears?)\s+)?(?:normal|within\s+normal\s+limits|unremarkable)",
        ("Cardiomegaly", "Enlarged cardiomediastinum"),
    ),
    NormalStatement(
        "no_acute_process",
        r"no\s+acute\s+(?:cardiopulmonary|cardiothoracic|intrathoracic|pulmonary|chest)\s+"
        r"(?:process|abnormality|abnormalities|disease|findings?|pathology)"
        r"|no\s+active\s+(?:cardiopulmonary\s+)?disease",
        _ACUTE_COVERS,
    ),
    NormalStatement(
        "normal_chest",
        r"normal\s+(?:chest(?:\s+(?:radiograph|x-?ray|film))?|study|examination)",
        (*_ACUTE_COVERS, "Cardiomegaly"),
    ),
    NormalStatement(
        "pleura_clear",
        r"no\s+pleural\s+(?:abnormality|abnormalities|disease)"
        r"|pleural\s+spaces?\s+(?:(?:are|is)\s+)?clear",
        ("Effusion", "Pneumothorax"),
    ),
    NormalStatement(
        "costophrenic_sharp",
        r"costophrenic\s+angles?\s+(?:(?:are|is)\s+)?(?:sharp|clear|preserved)",
        ("Effusion",),
    ),
    NormalStatement(
        "bones_intact",
        r"(?:osseous|bony|skeletal)\s+structures\s+(?:(?:are|is|appear)\s+)?"
        r"(?:intact|unremarkable|normal)"
        r"|no\s+(?:acute\s+)?(?:osseous|bony|skeletal)\s+(?:abnormality|abnormalities|injury|lesion)",
        ("Fracture",),
    ),
    NormalStatement(
        "vessels_normal",
        r"pulmonary\s+vasculature\s+(?:(?:is|appears)\s+)?(?:normal|within\s+normal\s+limits"
        r"|unremarkable)|no\s+(?:pulmonary\s+)?vascular\s+congestion",
        ("Edema", "Vascular congestion"),
    ),
    NormalStatement(
        "volumes_normal",
        r"(?:normal|adequate)\s+lung\s+volumes|lungs\s+are\s+(?:normally\s+|well[-\s])expanded",
        ("Hyperinflation",),
    ),
)


@dataclass(frozen=True, slots=True)
class TargetTable:
    """Every target rule in matching order, with the keys that gate it."""

    patterns: tuple[str, ...]
    labels: tuple[str, ...]
    keys: tuple[tuple[str, ...], ...]


def _literal_pattern(spelling: str) -> str:
    words = re.split(r"[\s_\-/]+", spelling.strip())
    body = r"[\s\-/]*".join(re.escape(word) for word in words if word)
    return body + r"(?:e?s)?" if spelling[-1:].isalpha() else body


def _literal_keys(spelling: str) -> tuple[str, ...]:
    words = [word for word in re.split(r"[\s_\-/]+", spelling.lower()) if word]
    return (max(words, key=len),)


@cache
def target_table() -> TargetTable:
    """All target rules, built once: ours, then the taxonomy's spellings that ours do not read."""
    ours = [(taxonomy.canonical(rule.label), rule.pattern, rule.keys) for rule in PHRASE_RULES]
    our_regex = re.compile("|".join(f"(?:{rule.pattern})" for rule in PHRASE_RULES), re.IGNORECASE)
    from_taxonomy: list[tuple[str, str, tuple[str, ...]]] = []
    for label in taxonomy.LABELS.values():
        if label.name in UNEXTRACTED_LABELS:
            continue
        for spelling in (label.name, *label.synonyms):
            if spelling.lower() in GENERIC_SPELLINGS or our_regex.fullmatch(spelling):
                continue
            from_taxonomy.append((label.name, _literal_pattern(spelling), _literal_keys(spelling)))
    # At one start position the first alternative wins, so the phrases needing the most text go
    # first ("nodule or mass" before "nodule"); the sort is stable, so ours win ties.
    rules = sorted([*ours, *from_taxonomy], key=lambda rule: -_shortest_match(rule[1]))
    return TargetTable(
        patterns=tuple(rule[1] for rule in rules),
        labels=tuple(rule[0] for rule in rules),
        keys=tuple(rule[2] for rule in rules),
    )


def _shortest_match(pattern: str) -> int:
    """The fewest characters ``pattern`` can match, from the regex parser's own width bounds."""
    # The parser is private but stable since Python 3.11; this runs once, at build time.
    return int(re._parser.parse(pattern).getwidth()[0])  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class TargetMatch:
    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class _KeyGroup:
    """The rules gated by one key tuple, as one alternation compiled at build time."""

    keys: tuple[str, ...]
    regex: re.Pattern[str]
    rules: tuple[int, ...]  # group ``t{i}`` of ``regex`` is rule ``rules[i]``


@cache
def _key_groups() -> tuple[_KeyGroup, ...]:
    table = target_table()
    members: dict[tuple[str, ...], list[int]] = {}
    for rule, keys in enumerate(table.keys):
        members.setdefault(keys, []).append(rule)
    groups = []
    for keys, rules in members.items():
        body = "|".join(f"(?P<t{i}>{table.patterns[rule]})" for i, rule in enumerate(rules))
        regex = re.compile(rf"\b(?:{body})\b", re.IGNORECASE)
        groups.append(_KeyGroup(keys, regex, tuple(rules)))
    return tuple(groups)


@cache
def _groups_by_key() -> dict[str, tuple[_KeyGroup, ...]]:
    index: dict[str, list[_KeyGroup]] = {}
    for group in _key_groups():
        for key in group.keys:
            index.setdefault(key, []).append(group)
    return {key: tuple(groups) for key, groups in index.items()}


def find_targets(text: str) -> list[TargetMatch]:
    """Every finding mention in ``text``, leftmost first, never overlapping.

    Only the rule groups whose key occurs in the text run (a substring test each), and all
    regexes are compiled once, so the cost does not depend on which rules a report wakes.
    Where matches overlap, the leftmost wins, and at one start the rule first in
    ``target_table()`` order (the one needing the most text) wins, as in one big alternation.
    """
    lowered = text.lower()
    live: dict[int, _KeyGroup] = {}
    for key, groups in _groups_by_key().items():
        if key in lowered:
            for group in groups:
                live[id(group)] = group
    candidates: list[tuple[int, int, int]] = []  # (start, rule order, end)
    for group in live.values():
        for match in group.regex.finditer(text):
            rule = group.rules[int(match.lastgroup[1:])]  # type: ignore[index]
            candidates.append((match.start(), rule, match.end()))
    candidates.sort()
    labels = target_table().labels
    found: list[TargetMatch] = []
    last_end = 0
    for start, rule, end in candidates:
        if start >= last_end:
            found.append(TargetMatch(start, end, labels[rule]))
            last_end = end
    return found


@cache
def compiled_normal_statements() -> tuple[tuple[re.Pattern[str], NormalStatement], ...]:
    return tuple(
        (re.compile(rf"\b(?:{statement.pattern})\b", re.IGNORECASE), statement)
        for statement in NORMAL_STATEMENTS
    )
