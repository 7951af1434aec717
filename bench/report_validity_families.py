"""MeSH finding families for ``report_validity``: what the indexers code, what the scorer
extracts, and the extraction F1 table between them.

A family is *coded* when a MeSH heading of it is present (a "/qualifier" narrows a heading), and
*extracted* when a scorer label of it is stated present or probable. The words naming each family
in text pick the sentences the perturbations edit (``report_validity_edits``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from ml.report_metrics.extraction import extract_findings

DEVICES = frozenset(
    {
        "Support device",
        "Pacemaker",
        "Central venous catheter",
        "Nasogastric tube",
        "Endotracheal tube",
        "Tracheostomy tube",
        "Chest tube",
        "Surgical clips",
        "Prosthetic heart valve",
    }
)
# Sternotomy wires are left out: MeSH indexes the sternotomy, under no device heading.
# family: (MeSH headings (a "/qualifier" narrows one), scorer labels, words naming it in text)
FAMILIES: dict[str, tuple[tuple[str, ...], frozenset[str], str]] = {
    "cardiomegaly": (
        ("Cardiomegaly", "Cardiac Shadow/enlarged", "Heart/enlarged"),
        frozenset({"Cardiomegaly"}),
        r"cardiomegaly|enlarged (?:cardiac|heart)|(?:heart|cardiac silhouette) is enlarged",
    ),
    "effusion": (
        ("Pleural Effusion", "Hydropneumothorax"),
        frozenset({"Effusion"}),
        r"effusions?",
    ),
    "pneumothorax": (
        ("Pneumothorax", "Hydropneumothorax", "Hemopneumothorax"),
        frozenset({"Pneumothorax"}),
        r"pneumothora\w+",
    ),
    "nodule/mass": (
        ("Nodule", "Mass"),
        frozenset({"Nodule", "Mass", "Nodule/Mass", "Lung tumor"}),
        r"nodules?|nodular|mass(?:es)?",
    ),
    "consolidation": (
        ("Consolidation", "Airspace Disease", "Pneumonia", "Infiltrate"),
        frozenset({"Consolidation", "Pneumonia", "Infiltration"}),
        r"consolidat\w*|air\s?space|pneumonia|infiltrat\w*",
    ),
    "atelectasis": (
        ("Pulmonary Atelectasis",),
        frozenset({"Atelectasis"}),
        r"atelecta\w+",
    ),
    "edema": (("Pulmonary Edema",), frozenset({"Edema"}), r"edema"),
    "emphysema": (
        ("Emphysema", "Pulmonary Emphysema", "Bullous Emphysema"),
        frozenset({"Emphysema"}),
        r"emphysema\w*",
    ),
    "hyperinflation": (
        ("Lung/hyperdistention", "Lung/bilateral/hyperdistention", "Diaphragm/flattened"),
        frozenset({"Hyperinflation"}),
        r"hyper-?(?:inflat|expan|aerat)\w*|over-?(?:inflat|expan)\w*",
    ),
    "fracture": (("Fractures, Bone",), frozenset({"Fracture"}), r"fractures?"),
    "scoliosis": (("Scoliosis",), frozenset({"Scoliosis"}), r"\w*scolio\w*"),
    "devices": (
        (
            "Catheters, Indwelling",
            "Tube, Inserted",
            "Implanted Medical Device",
            "Medical Device",
            "Surgical Instruments",
            "Stents",
        ),
        DEVICES,
        r"catheters?|tubes?|pacemaker|picc|port|wires?|clips?|stents?|device",
    ),
}
FAMILY_WORDS = {
    name: re.compile(rf"\b(?:{words})\b", re.IGNORECASE) for name, (_, _, words) in FAMILIES.items()
}
_NODULE_WORD = re.compile(r"\bnodul", re.IGNORECASE)


def coded_families(mesh: str) -> set[str]:
    codes = [code.strip() for code in mesh.split(";") if code.strip()]
    found = set()
    for family, (headings, _, _) in FAMILIES.items():
        for code in codes:
            parts = code.split("/")
            for heading in headings:
                wanted = heading.split("/")
                if parts[0] == wanted[0] and all(q in parts[1:] for q in wanted[1:]):
                    found.add(family)
    return found


def extracted_families(text: str) -> set[str]:
    stated = [
        f
        for f in extract_findings(text)
        if f.presence == "present" or (f.presence == "uncertain" and f.hedge == "probable")
    ]
    labels = {f.label for f in stated}
    families = {family for family, (_, scorer, _) in FAMILIES.items() if labels & scorer}
    # The scorer files a "calcified nodule" under Granuloma, what it means clinically (benign,
    # no follow-up); the indexers code the word written, Nodule (with Calcinosis).
    if any(f.label == "Granuloma" and _NODULE_WORD.search(f.text) for f in stated):
        families.add("nodule/mass")
    return families


def extraction_table(records: list[dict[str, Any]], show: str | None) -> dict[str, float]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for record in records:
        extracted = extracted_families(record["text"])
        for family in FAMILIES:
            gold, got = family in record["families"], family in extracted
            outcome = "tp" if gold and got else "fn" if gold else "fp" if got else "tn"
            counts[family][outcome] += 1
            if show == family and outcome in {"fp", "fn"}:
                print(f"[{outcome}] {record['uid']}: {record['MeSH']}\n    {record['text']}\n")
    f1s = {}
    print(f"{'family':<16}{'coded':>7}{'TP':>6}{'FP':>6}{'FN':>6}{'P':>7}{'R':>7}{'F1':>7}")
    for family in FAMILIES:
        c = counts[family]
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s[family] = f1
        print(
            f"{family:<16}{c['tp'] + c['fn']:>7}{c['tp']:>6}{c['fp']:>6}{c['fn']:>6}"
            f"{precision:>7.3f}{recall:>7.3f}{f1:>7.3f}"
        )
    print(f"{'macro F1':<16}{sum(f1s.values()) / len(f1s):>46.3f}")
    return f1s
