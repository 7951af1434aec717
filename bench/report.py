"""Report benchmarks. Each section prints its figures with the machine and the inputs.

    python bench/report.py                      # every section
    python bench/report.py --section scoring    # extraction and score_report throughput, 1 core

Sections are registered in SECTIONS; add one as ``def section_<name>(args) -> None`` and an
entry there (the end-to-end latency section will live beside the scoring one).

The scoring corpus is generated (seeded): references of 0-4 findings in varied clinical wording
(differentials, clinical equivalents, devices) with normal statements for the other regions,
and candidates made from them the way residents err: a finding dropped, a side swapped, a grade
changed, a false finding added, a finding hedged or denied, a comparison with a prior that does
not exist, sentences reordered or reworded. Every reference is distinct, and the extraction
caches (findings, sentences, ROUGE tokens) are cleared before each timing, so no figure
benefits from repeated texts.
"""

from __future__ import annotations

import argparse
import os

# One core and one BLAS/torch thread, set before numpy or torch load.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import gc
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml.report_metrics import ReportCase, score_many, score_report, validate
from ml.report_metrics.extraction import extract_findings, warm_up
from ml.report_metrics.lexical import rouge_tokens
from ml.report_metrics.sentences import split_sentences

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report_e2e

SIDES = ("left", "right")
GRADES = ("trace", "small", "moderate", "large")
LOBE_ZONES = ("upper", "lower")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.platform()} | {cpu} | Python {platform.python_version()} "
        f"({platform.python_implementation()}) | pinned to one core | load average {load:.1f}"
    )


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


# ---------------------------------------------------------------------------- corpus generation


def _finding_sentence(rng: random.Random, kind: str, side: str, grade: str, zone: str) -> str:
    adverb = {
        "trace": "minimally",
        "small": "mildly",
        "moderate": "moderately",
        "large": "markedly",
    }
    templates = {
        "effusion": [
            f"There is a {grade} {side} pleural effusion.",
            f"{grade.capitalize()} {side} effusion.",
            f"Blunting of the {side} costophrenic angle.",
        ],
        "pneumothorax": [
            f"{grade.capitalize()} {side} apical pneumothorax.",
            f"There is a {grade} {side} pneumothorax without mediastinal shift.",
        ],
        "consolidation": [
            f"Consolidation in the {side} {zone} lobe.",
            f"{side.capitalize()} {zone} lobe airspace consolidation with air bronchograms.",
            f"{side.capitalize()} {zone} zone opacity, likely pneumonia.",
        ],
        "atelectasis": [
            f"{side.capitalize()} basilar atelectasis.",
            f"Plate-like atelectasis at the {side} base.",
            f"{side.capitalize()} basal opacity, likely atelectasis or pneumonia.",
        ],
        "cardiomegaly": [
            f"The heart is {adverb[grade]} enlarged.",
            f"{grade.capitalize()} cardiomegaly.",
            "Enlarged cardiac silhouette.",
        ],
        "edema": [
            f"{grade.capitalize()} pulmonary edema with vascular congestion.",
            "Interstitial edema with Kerley B lines.",
        ],
        "nodule": [
            f"A {rng.choice(('8 mm', '1.2 cm', 'approx. 2 cm'))} nodule in the {side} {zone} lobe.",
            f"{side.capitalize()} {zone} lobe nodule, e.g. granuloma vs. neoplasm.",
        ],
        "hyperinflation": ["The lungs are hyperexpanded.", "Hyperinflated lungs."],
        "line": [
            f"{side.capitalize()} IJ central venous catheter terminates in the SVC.",
            "Endotracheal tube tip 4 cm above the carina.",
            "Enteric tube courses below the diaphragm.",
        ],
        "fracture": [f"Healing fracture of the {side} 6th rib.", f"Acute {side} rib fractures."],
    }
    return rng.choice(templates[kind])


_KINDS = (
    "effusion",
    "pneumothorax",
    "consolidation",
    "atelectasis",
    "cardiomegaly",
    "edema",
    "nodule",
    "hyperinflation",
    "line",
    "fracture",
)
_NORMALS = {
    "lungs": (
        "The lungs are clear.",
        "No focal consolidation.",
        "Lungs are well expanded and clear.",
    ),
    "pleura": ("No pleural effusion or pneumothorax.", "No effusion, no pneumothorax."),
    "heart": (
        "Heart size is normal.",
        "Normal cardiomediastinal silhouette.",
        "The cardiomediastinal silhouette is within normal limits.",
    ),
    "hila": ("The hila are unremarkable.", "Hilar contours are normal."),
    "bones": ("Osseous structures are intact.", "No acute osseous abnormality."),
    "soft": ("Soft tissues are unremarkable.",),
}
_REGION_OF = {
    "effusion": "pleura",
    "pneumothorax": "pleura",
    "consolidation": "lungs",
    "atelectasis": "lungs",
    "edema": "lungs",
    "nodule": "lungs",
    "hyperinflation": "lungs",
    "cardiomegaly": "heart",
    "fracture": "bones",
    "line": "soft",
}


def _reference(
    rng: random.Random, serial: int
) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    chosen = rng.sample(_KINDS, rng.choice((0, 1, 1, 2, 2, 3, 4)))
    findings = [
        (kind, rng.choice(SIDES), rng.choice(GRADES), rng.choice(LOBE_ZONES)) for kind in chosen
    ]
    busy = {_REGION_OF[kind] for kind in chosen}
    sentences = [_finding_sentence(rng, *finding) for finding in findings]
    sentences += [rng.choice(options) for region, options in _NORMALS.items() if region not in busy]
    rng.shuffle(sentences)
    technique = rng.choice(("PA and lateral views of the chest.", "Portable AP.", ""))
    # A distinct closing note keeps every reference text unique, as real reports are.
    sentences = [s for s in (technique, *sentences) if s] + [f"Exam number {serial}."]
    return sentences, findings


def _candidate(
    rng: random.Random, sentences: list[str], findings: list[tuple[str, str, str, str]]
) -> str:
    out = list(sentences[:-1])
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        operation = rng.choice(
            ("drop", "swap", "grade", "false", "hedge", "deny", "prior", "reorder", "reword")
        )
        if operation in {"drop", "swap", "grade", "hedge", "deny"} and findings:
            index = rng.randrange(len(findings))
            kind, side, grade, zone = findings[index]
            original = _finding_sentence(random.Random(0), kind, side, grade, zone)
            if operation == "swap":
                side = "right" if side == "left" else "left"
            elif operation == "grade":
                grade = rng.choice([g for g in GRADES if g != grade])
            replacement = {
                "drop": "",
                "hedge": f"Possible {_finding_sentence(rng, kind, side, grade, zone).lower()}",
                "deny": f"No {kind}.",
            }.get(operation, _finding_sentence(rng, kind, side, grade, zone))
            out = [s for s in out if s != original] + ([replacement] if replacement else [])
        elif operation == "false":
            out.append(
                _finding_sentence(
                    rng, rng.choice(_KINDS), rng.choice(SIDES), rng.choice(GRADES), "upper"
                )
            )
        elif operation == "prior":
            out.append(rng.choice(("Unchanged from prior.", "Stable compared with the prior.")))
        elif operation == "reorder":
            rng.shuffle(out)
        else:
            out = [s.replace("There is a", "A").replace("The lungs", "Lungs") for s in out]
    return " ".join(out) or "No acute cardiopulmonary process."


def corpus(pairs: int, seed: int = 7) -> list[ReportCase]:
    rng = random.Random(seed)
    cases: list[ReportCase] = []
    for serial in range(pairs):
        sentences, findings = _reference(rng, serial)
        cases.append(
            validate(
                " ".join(sentences),
                _candidate(rng, sentences, findings),
                age=rng.choice((None, 8, 35, 54, 71)),
                indication=rng.choice((None, "Fever and cough", "Fall", "Dyspnea", "Line check")),
                has_prior=rng.random() < 0.3,
            )
        )
    return cases


# ---------------------------------------------------------------------------- timing helpers


def _clear_caches() -> None:
    """Forget every per-text result, so no timing benefits from an earlier one."""
    for cached in (extract_findings, split_sentences, rouge_tokens):
        cached.cache_clear()
    gc.collect()


def _per_item(
    function: Callable[[ReportCase], object], cases: list[ReportCase]
) -> tuple[list[float], float]:
    """CPU seconds per call (robust to other processes sharing the core) and the wall total."""
    _clear_caches()
    timings = []
    wall_started = time.perf_counter()
    for case in cases:
        started = time.process_time()
        function(case)
        timings.append(time.process_time() - started)
    return timings, time.perf_counter() - wall_started


def _report(name: str, measured: tuple[list[float], float]) -> None:
    timings, wall = measured
    total = sum(timings)
    quantiles = statistics.quantiles(timings, n=100)
    print(
        f"{name:<40} {len(timings) / total:7.0f} /s CPU   p50 {quantiles[49] * 1e3:6.2f} ms   "
        f"p95 {quantiles[94] * 1e3:6.2f} ms   ({len(timings)} in {total:.2f} s CPU, "
        f"{wall:.2f} s wall)"
    )


def _batch(name: str, cases: list[ReportCase], *, align: bool) -> list[dict[str, object]]:
    _clear_caches()
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    results = score_many(cases, align=align)
    cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
    print(
        f"{name:<40} {len(cases) / cpu:7.0f} /s CPU   ({len(cases)} in {cpu:.2f} s CPU, "
        f"{wall:.2f} s wall)"
    )
    return results


def section_scoring(args: argparse.Namespace) -> None:
    pin_to_one_core()
    cases = corpus(args.pairs)
    texts = [text for case in cases for text in (case.reference, case.candidate)]
    print(f"machine: {machine()}")
    print("timing: CPU time of this process (time.process_time), torch and BLAS on one thread")
    print(
        f"inputs: {len(cases)} generated pairs (seed 7), {len(set(texts))} distinct texts, "
        f"mean {statistics.mean(len(t) for t in texts):.0f} characters per text; "
        f"per-text caches cleared before each timing"
    )
    warm_up()
    score_report(cases[0].reference, cases[0].candidate)

    _report("extraction (per report)", _per_item(lambda c: extract_findings(c.candidate), cases))
    _report(
        "score_report, no alignment (per pair)",
        _per_item(
            lambda c: score_report(
                c.reference,
                c.candidate,
                age=c.age,
                indication=c.indication,
                has_prior=c.has_prior,
            ),
            cases,
        ),
    )
    results = _batch("score_many batch, no alignment", cases, align=False)

    aligned = cases[: args.align_pairs]
    score_report(aligned[0].reference, aligned[0].candidate, align=True)  # load MiniLM first
    _report(
        "score_report, with alignment (per pair)",
        _per_item(lambda c: score_report(c.reference, c.candidate, align=True), aligned),
    )
    _batch("score_many batch, with alignment", aligned, align=True)
    print("  (batch alignment embeds each distinct sentence of the batch once)")

    categories = Counter(e["category"] for r in results for e in r["errors"])
    scores = [r["clinical_score"] for r in results]
    print(
        f"sanity: errors by category {dict(sorted(categories.items()))}; clinical score "
        f"mean {statistics.mean(scores):.3f}, {sum(s == 1.0 for s in scores)} perfect"
    )


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "scoring": section_scoring,
    # End-to-end latency with real services (Postgres, Redis, uvicorn, workers): report_e2e.py.
    "e2e": lambda args: report_e2e.section_e2e(args, corpus),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=sorted(SECTIONS), action="append")
    parser.add_argument("--pairs", type=int, default=2000, help="pairs in the scoring corpus")
    parser.add_argument(
        "--align-pairs", type=int, default=200, help="pairs timed with MiniLM alignment"
    )
    report_e2e.add_arguments(parser)
    args = parser.parse_args(argv)
    for name in args.section or list(SECTIONS):
        print(f"== {name}")
        SECTIONS[name](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
