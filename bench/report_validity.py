"""Validity of the rule-based report scorer on real radiologists' wording.

    python bench/report_validity.py [--corpus PATH] [--limit N] [--seed S] [--show FAMILY]

The corpus is JSON lines with ``findings``, ``impression``, ``comparison`` and NLM ``MeSH`` codes
(default: ``../shared/data/iu-reports-dev/reports.jsonl``, the IU X-ray collection; its text is
never copied into the repository). The report is the findings and impression together. Printed:

1. Extraction against MeSH, per finding family: a family is *coded* when a MeSH heading of it is
   present, and *extracted* when a label of it is stated present or probable ("likely",
   "suspicious for"; the indexers do not code what a report only calls possible: "may represent",
   "cannot exclude"). MeSH codes are evidence, not gold ("absent" means "not coded"), so F1 well
   below 1 is worth reading (``--show``).
2. Perturbations of each report, scored against the original:
   identity, sentence shuffle and a negative + positive sentence merged with "but" (no error);
   a normal paraphrase of a MeSH-normal report (no weighted error); a dropped positive sentence
   (a missed finding of its family); a negation flip either way (a false or missed finding);
   a side swap (left <-> right) and a severity swap (two grades or more) of a positive sentence
   (an error on that finding); an added comparison without a prior (an unsupported_comparison,
   no other error, score >= 80%).
3. Cross-pairs of different reports: normal vs normal (no weighted error), normal vs abnormal
   and back (the abnormal report's families each get their missed / false finding).

Positive sentences are chosen by family words in the text, with no negation or hedge word, in
families the MeSH codes confirm; the scorer's own extraction never picks what it is tested on.
All pairs but the added comparison are scored with a prior (change words are then allowed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml.report_metrics import ReportCase, score_many
from ml.report_metrics.extraction import extract_findings
from ml.report_metrics.sections import heading_region
from ml.report_metrics.sentences import split_sentences

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "../shared/data/iu-reports-dev/reports.jsonl"
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
_FAMILY_WORDS = {
    name: re.compile(rf"\b(?:{words})\b", re.IGNORECASE) for name, (_, _, words) in FAMILIES.items()
}
_NODULE_WORD = re.compile(r"\bnodul", re.IGNORECASE)
_NEGATIVE = re.compile(
    r"\b(?:no|not|without|negative|clear|normal|resolved|free|exclude\w*|removed|absent)\b",
    re.IGNORECASE,
)
_HEDGE = re.compile(
    r"\b(?:possible|possibly|may|might|could|likely|probabl\w+|question\w*|suspicious|concern\w*"
    r"|versus|vs|or|suggest\w*|borderline|cannot|if|history|evaluat\w+|rule|consider\w*)\b",
    re.IGNORECASE,
)
_COMPARISON_WORDS = re.compile(
    r"\b(?:stable|unchanged|change|prior|previous|again|interval|new|compar\w+|redemonstrat\w*"
    r"|persist\w*|improv\w*|worse\w*|increas\w*|decreas\w*|resolv\w*|since)\b",
    re.IGNORECASE,
)
_SWAP_SIDE = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}
_SWAP_GRADE = {
    "trace": "large",
    "tiny": "large",
    "minimal": "severe",
    "small": "large",
    "mild": "severe",
    "mildly": "severely",
    "large": "small",
    "severe": "mild",
    "marked": "mild",
    "markedly": "mildly",
    "moderate": "trace",
    "moderately": "minimally",
}
_GRADE_RE = re.compile(rf"\b({'|'.join(_SWAP_GRADE)})\b", re.IGNORECASE)
NORMAL_PARAPHRASES = (
    "The lungs are clear. The heart is normal in size. No pleural effusion or pneumothorax.",
    "Heart size and mediastinal contours are normal. Lungs are clear bilaterally. "
    "No effusion or pneumothorax. No acute bony abnormality.",
    "No acute cardiopulmonary abnormality. Normal cardiomediastinal silhouette.",
    "Clear lungs without focal consolidation, effusion or pneumothorax. Normal heart size.",
    "normal heart size. lungs clear. no pneumothorax or pleural effusion",
)
ADDED_COMPARISONS = (
    "Unchanged from the prior study.",
    "No significant change since the previous radiograph.",
    "Stable appearance compared with the prior examination.",
)


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


def load(path: Path, limit: int | None) -> list[dict[str, Any]]:
    records = []
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            text = " ".join(
                part.strip()
                for part in (record.get("findings") or "", record.get("impression") or "")
                if part and part.strip()
            )
            if not text:
                continue
            record["text"] = text
            record["families"] = coded_families(record.get("MeSH", ""))
            record["normal"] = record.get("MeSH", "").strip().lower() == "normal"
            records.append(record)
    return records[:limit] if limit else records


def sentences_of(text: str) -> list[str]:
    """Sentences, each closed by a period where the writer left none (so moving one does not
    run it into the next)."""
    sentences = [text[start:end] for start, end in split_sentences(text)]
    return [s if s[-1] in ".?!" else f"{s}." for s in sentences]


def positive_sentences(record: dict[str, Any]) -> list[tuple[int, str]]:
    """(index, family) of sentences naming a coded family with no negation or hedge word."""
    sentences = sentences_of(record["text"])
    found = []
    for index, sentence in enumerate(sentences):
        if _NEGATIVE.search(sentence) or _HEDGE.search(sentence):
            continue
        for family in sorted(record["families"]):
            if _FAMILY_WORDS[family].search(sentence):
                found.append((index, family))
    return found


def _error_on(
    result: dict[str, Any],
    family: str,
    categories: set[str],
    *,
    ref_range: tuple[int, int] | None = None,
    cand_range: tuple[int, int] | None = None,
) -> bool:
    """An error of ``categories`` on the family's labels, or pointing into the changed
    sentence (the finding may carry another label there: "calcified nodules" is a granuloma)."""
    labels = FAMILIES[family][1]

    def inside(span: list[int] | None, bounds: tuple[int, int] | None) -> bool:
        return bool(span and bounds and bounds[0] <= span[0] < bounds[1])

    return any(
        e["category"] in categories
        and (
            e["label"] in labels
            or e["label"] is None
            or inside(e["reference_span"], ref_range)
            or inside(e["candidate_span"], cand_range)
        )
        for e in result["errors"]
    )


def _weighted_errors(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in result["errors"] if e["weight"] > 0]


class Checks:
    """Pairs to score with their pass test, grouped by check name."""

    def __init__(self) -> None:
        self.items: list[tuple[str, ReportCase, Any, str]] = []

    def add(self, name: str, reference: str, candidate: str, test: Any, *, prior: bool = True):
        case = ReportCase(reference=reference, candidate=candidate, has_prior=prior)
        self.items.append((name, case, test, f"{reference}\n  ->  {candidate}"))


def _negate(sentence: str, family: str) -> str | None:
    """The sentence stating the finding absent, or None where plain words cannot."""
    if re.search(r"(?i)\b(?:but|however|although|there (?:has|have) been)\b", sentence):
        return None
    there = re.match(r"(?i)there (is|are) (?:an? )?", sentence)
    if there:
        return f"There {there.group(1)} no {sentence[there.end() :]}"
    verb = re.search(r"\b(is|are)\b(?! not)", sentence)
    if verb:
        named = _FAMILY_WORDS[family].search(sentence)
        if verb.start() == 0 or (named and named.start() < verb.start()):
            return None  # "Cardiomegaly is unchanged": "not unchanged" would say it changed
        return f"{sentence[: verb.end()]} not{sentence[verb.end() :]}"
    return "No " + sentence[:1].lower() + sentence[1:]


_AFFIRM = re.compile(
    r"(?i)\b(?:there (?:is|are) )?no (?:evidence of |signs? of )?|\bwithout\b|\bnegative for\b"
)


def _affirm(sentence: str) -> str | None:
    match = _AFFIRM.search(sentence)
    if match is None:
        return None
    replacement = {"without": "with", "negative for": "positive for"}.get(
        match.group().lower().strip(), "there is "
    )
    flipped = sentence[: match.start()] + replacement + sentence[match.end() :]
    return flipped[:1].upper() + flipped[1:]


def build(records: list[dict[str, Any]], rng: random.Random) -> Checks:
    checks = Checks()
    for record in records:
        text = record["text"]
        sentences = sentences_of(text)
        checks.add("identity", text, text, lambda r: not r["errors"])
        spans = split_sentences(text)
        shuffled = _shuffled(text, sentences, rng)
        if shuffled is not None:
            checks.add("shuffle", text, " ".join(shuffled), lambda r: not r["errors"])
        positives = positive_sentences(record)
        counts = _mentions_by_family(text, sentences, record["families"])
        for index, family in positives:
            sentence = sentences[index]
            rest = sentences[:index] + sentences[index + 1 :]
            if counts[family] == 1 and rest:
                checks.add(
                    "drop",
                    text,
                    " ".join(rest),
                    lambda r, f=family, at=spans[index]: _error_on(
                        r, f, {"missed_finding"}, ref_range=at
                    ),
                )
            negated = _negate(sentence, family)
            if counts[family] == 1 and negated is not None:
                flipped = [*sentences[:index], negated, *sentences[index + 1 :]]
                checks.add(
                    "negation flip",
                    text,
                    " ".join(flipped),
                    lambda r, f=family, at=spans[index]: _error_on(
                        r, f, {"missed_finding"}, ref_range=at
                    ),
                )
            sides = re.findall(r"\b(?:left|right)\b", sentence, re.IGNORECASE)
            if (
                family not in {"cardiomegaly", "edema", "emphysema", "hyperinflation", "scoliosis"}
                and len({s.lower() for s in sides}) == 1
                and counts[family] == 1
            ):
                swapped = re.sub(
                    r"\b(left|right|Left|Right)\b", lambda m: _SWAP_SIDE[m.group()], sentence
                )
                checks.add(
                    "side swap",
                    text,
                    " ".join([*sentences[:index], swapped, *sentences[index + 1 :]]),
                    lambda r, f=family, at=spans[index]: _error_on(
                        r, f, {"location", "missed_finding", "false_finding"}, ref_range=at
                    ),
                )
            grades = list(_GRADE_RE.finditer(sentence))
            # The grade must describe this family's finding ("small effusion with atelectasis"
            # grades the effusion, not the atelectasis).
            graded = len(grades) == 1 and _FAMILY_WORDS[family].search(
                sentence, grades[0].end(), grades[0].end() + 40
            )
            if graded and counts[family] == 1:
                swapped = _GRADE_RE.sub(lambda m: _SWAP_GRADE[m.group().lower()], sentence)
                checks.add(
                    "severity swap",
                    text,
                    " ".join([*sentences[:index], swapped, *sentences[index + 1 :]]),
                    lambda r, f=family, at=spans[index]: _error_on(
                        r, f, {"severity"}, ref_range=at
                    ),
                )
        for index, sentence in enumerate(sentences):
            flipped_sentence = _affirm(sentence)
            if flipped_sentence is None or _HEDGE.search(sentence):
                continue
            families = [
                f
                for f in FAMILIES
                if _FAMILY_WORDS[f].search(sentence) and f not in record["families"]
            ]
            if families and family_words_once(sentences, families):
                flipped = [*sentences[:index], flipped_sentence, *sentences[index + 1 :]]
                start = len(" ".join(sentences[:index])) + (1 if index else 0)
                at = (start, start + len(flipped_sentence))
                checks.add(
                    "negation flip",
                    text,
                    " ".join(flipped),
                    lambda r, fs=tuple(families), at=at: any(
                        _error_on(r, f, {"false_finding"}, cand_range=at) for f in fs
                    ),
                )
        positive_indexes = {index for index, _ in positives}
        for index in range(len(sentences) - 1):
            first, second = sentences[index], sentences[index + 1]
            pair = {index, index + 1}
            negatives = {i for i in pair if _NEGATIVE.search(sentences[i]) is not None}
            if (
                len(negatives) == 1
                and len(pair & positive_indexes) == 1
                and not negatives & (positive_indexes)
            ):
                merged = f"{first.rstrip('.')}, but {second[:1].lower()}{second[1:]}"
                checks.add(
                    "but-merge",
                    text,
                    " ".join([*sentences[:index], merged, *sentences[index + 2 :]]),
                    lambda r: not r["errors"],
                )
                break
        if record["normal"]:
            checks.add(
                "normal paraphrase",
                text,
                rng.choice(NORMAL_PARAPHRASES),
                lambda r: not _weighted_errors(r),
            )
        if not _COMPARISON_WORDS.search(text):
            checks.add(
                "added comparison",
                text,
                f"{text} {rng.choice(ADDED_COMPARISONS)}",
                lambda r: (
                    {e["category"] for e in r["errors"]} == {"unsupported_comparison"}
                    and r["clinical_percent"] >= 80
                ),
                prior=False,
            )
    _cross_pairs(records, rng, checks)
    return checks


def _shuffled(text: str, sentences: list[str], rng: random.Random) -> list[str] | None:
    """The sentences in another order, each exam's within its own section ("Chest.",
    "Left knee.": a heading decides what the sentences after it describe); None when no other
    order exists (one repeated sentence)."""
    sections: list[list[str]] = [[]]
    for span, sentence in zip(split_sentences(text), sentences, strict=True):
        if heading_region(text, span) is not None:
            sections.append([sentence])
        else:
            sections[-1].append(sentence)
    movable = [
        (section[:1], section[1:]) if section and section is not sections[0] else ([], section)
        for section in sections
    ]
    if all(len(set(body)) < 2 for _, body in movable):
        return None
    while True:
        shuffled: list[str] = []
        for head, body in movable:
            body = body[:]
            rng.shuffle(body)
            shuffled.extend([*head, *body])
        if shuffled != sentences:
            return shuffled


def _mentions_by_family(text: str, sentences: list[str], families: set[str]) -> Counter[str]:
    """Sentences naming each family, in its words or as the scorer reads them (so a finding
    stated again in other words elsewhere is not taken for the only mention)."""
    spans = split_sentences(text)
    extracted: dict[int, set[str]] = defaultdict(set)
    for finding in extract_findings(text):
        index = spans.index(finding.sentence_span) if finding.sentence_span in spans else -1
        extracted[index].add(finding.label)
    counts: Counter[str] = Counter()
    for family in families:
        labels = FAMILIES[family][1]
        for index, sentence in enumerate(sentences):
            if _FAMILY_WORDS[family].search(sentence) or extracted[index] & labels:
                counts[family] += 1
    return counts


def family_words_once(sentences: list[str], families: list[str]) -> bool:
    return all(sum(bool(_FAMILY_WORDS[f].search(s)) for s in sentences) == 1 for f in families)


def _cross_pairs(records: list[dict[str, Any]], rng: random.Random, checks: Checks) -> None:
    normal = [r for r in records if r["normal"]]
    abnormal = [r for r in records if r["families"]]
    if len(normal) < 2:
        return
    for _ in range(min(600, len(normal))):
        first, second = rng.sample(normal, 2)
        checks.add(
            "normal vs normal", first["text"], second["text"], lambda r: not _weighted_errors(r)
        )
    for record in abnormal[:600]:
        other = rng.choice(normal)
        for family in sorted(record["families"]):
            checks.add(
                "abnormal ref, normal candidate",
                record["text"],
                other["text"],
                lambda r, f=family: _error_on(r, f, {"missed_finding"}),
            )
            checks.add(
                "normal ref, abnormal candidate",
                other["text"],
                record["text"],
                lambda r, f=family: _error_on(r, f, {"false_finding"}),
            )


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, help="use the first N reports only")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show", choices=sorted(FAMILIES), help="print a family's disagreements")
    parser.add_argument("--show-check", help="print the failing pairs of one check")
    parser.add_argument(
        "--extraction-only", action="store_true", help="print the MeSH table and stop"
    )
    args = parser.parse_args(argv)
    records = load(args.corpus.resolve(), args.limit)
    print(f"corpus: {args.corpus.resolve()} ({len(records)} reports with text)")
    print(
        f"machine: {platform.platform()} | Python {platform.python_version()} | pid {os.getpid()}"
    )
    started = time.perf_counter()
    print("\n# Extraction against MeSH (present, or probable: 'likely', 'suspicious for')")
    extraction_table(records, args.show)
    if args.extraction_only:
        return 0
    checks = build(records, random.Random(args.seed))
    results = score_many([case for _, case, _, _ in checks.items])
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for (name, _, test, shown), result in zip(checks.items, results, strict=True):
        total[name] += 1
        if test(result):
            passed[name] += 1
        elif args.show_check == name:
            errors = [(e["category"], e["label"]) for e in result["errors"]]
            print(f"[fail {name}] {shown}\n    {result['clinical_percent']}% {errors}\n")
    print("\n# Perturbations and cross-pairs (rate of pairs scored as expected)")
    print(f"{'check':<34}{'pairs':>7}{'rate':>8}")
    for name in dict.fromkeys(name for name, _, _, _ in checks.items):
        print(f"{name:<34}{total[name]:>7}{passed[name] / total[name]:>8.3f}")
    elapsed = time.perf_counter() - started
    print(f"\n{len(results)} pairs scored in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
