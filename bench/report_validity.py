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

from report_validity_edits import (
    ADDED_COMPARISONS,
    COMPARISON_WORDS,
    GRADE_RE,
    HEDGE,
    NEGATIVE,
    NORMAL_PARAPHRASES,
    SWAP_GRADE,
    SWAP_SIDE,
    affirm,
    negate,
    positive_sentences,
    sentences_of,
    shuffle_within_sections,
)
from report_validity_families import (
    FAMILIES,
    FAMILY_WORDS,
    coded_families,
    extraction_table,
)

from ml.report_metrics import ReportCase, score_many
from ml.report_metrics.extraction import extract_findings
from ml.report_metrics.sentences import split_sentences

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "../shared/data/iu-reports-dev/reports.jsonl"


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


def build(records: list[dict[str, Any]], rng: random.Random) -> Checks:
    checks = Checks()
    for record in records:
        text = record["text"]
        sentences = sentences_of(text)
        checks.add("identity", text, text, lambda r: not r["errors"])
        spans = split_sentences(text)
        shuffled = shuffle_within_sections(text, sentences, rng)
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
            negated = negate(sentence, family)
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
                    r"\b(left|right|Left|Right)\b", lambda m: SWAP_SIDE[m.group()], sentence
                )
                checks.add(
                    "side swap",
                    text,
                    " ".join([*sentences[:index], swapped, *sentences[index + 1 :]]),
                    lambda r, f=family, at=spans[index]: _error_on(
                        r, f, {"location", "missed_finding", "false_finding"}, ref_range=at
                    ),
                )
            grades = list(GRADE_RE.finditer(sentence))
            # The grade must describe this family's finding ("small effusion with atelectasis"
            # grades the effusion, not the atelectasis).
            graded = len(grades) == 1 and FAMILY_WORDS[family].search(
                sentence, grades[0].end(), grades[0].end() + 40
            )
            if graded and counts[family] == 1:
                swapped = GRADE_RE.sub(lambda m: SWAP_GRADE[m.group().lower()], sentence)
                checks.add(
                    "severity swap",
                    text,
                    " ".join([*sentences[:index], swapped, *sentences[index + 1 :]]),
                    lambda r, f=family, at=spans[index]: _error_on(
                        r, f, {"severity"}, ref_range=at
                    ),
                )
        for index, sentence in enumerate(sentences):
            flipped_sentence = affirm(sentence)
            if flipped_sentence is None or HEDGE.search(sentence):
                continue
            families = [
                f
                for f in FAMILIES
                if FAMILY_WORDS[f].search(sentence) and f not in record["families"]
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
            negatives = {i for i in pair if NEGATIVE.search(sentences[i]) is not None}
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
        if not COMPARISON_WORDS.search(text):
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
            if FAMILY_WORDS[family].search(sentence) or extracted[index] & labels:
                counts[family] += 1
    return counts


def family_words_once(sentences: list[str], families: list[str]) -> bool:
    return all(sum(bool(FAMILY_WORDS[f].search(s)) for s in sentences) == 1 for f in families)


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
