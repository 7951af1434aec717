"""Localize benchmarks. Each section prints its figures with the machine and the inputs.

    python bench/localize.py                      # every section
    python bench/localize.py --section scoring    # score_localize vs a greedy baseline, bulk IoU

Sections are registered in SECTIONS; add one as ``def section_<name>(args) -> None`` and an
entry there (the HTTP load section will live beside the scoring one).
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml.boxes import (
    Marks,
    Reference,
    iou,
    iou_matrix,
    iou_paired,
    parse_marks,
    parse_reference,
    score_localize,
    scoring,
)
from ml.boxes.matching import greedy_candidates, match_candidates

DRAW_LABELS = (
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
)
SELECT_LABELS = ("Emphysema", "Edema", "Fibrosis", "Hyperinflation")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.platform()} | {cpu} | Python {platform.python_version()} "
        f"({platform.python_implementation()}) | one process, one core"
    )


# ---------------------------------------------------------------------------- case generation


def _random_box(rng: random.Random) -> list[float]:
    width, height = rng.uniform(0.04, 0.35), rng.uniform(0.04, 0.35)
    x1, y1 = rng.uniform(0.0, 1.0 - width), rng.uniform(0.0, 1.0 - height)
    return [x1, y1, x1 + width, y1 + height]


def _jitter(rng: random.Random, box: list[float], amount: float) -> list[float]:
    x1, y1, x2, y2 = box
    width, height = x2 - x1, y2 - y1
    moved = [
        x1 + rng.uniform(-amount, amount) * width,
        y1 + rng.uniform(-amount, amount) * height,
        x2 + rng.uniform(-amount, amount) * width,
        y2 + rng.uniform(-amount, amount) * height,
    ]
    moved = [min(max(v, 0.0), 1.0) for v in moved]
    if moved[0] >= moved[2] or moved[1] >= moved[3]:
        return box
    return moved


def make_case(rng: random.Random, max_findings: int, max_marks: int) -> dict[str, Any]:
    """A reference and a resident's marks that resemble real play: mostly near-misses and hits."""
    findings: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    selected: list[str] = []
    for _ in range(rng.randint(1, max_findings)):
        if rng.random() < 0.15:
            label = rng.choice(SELECT_LABELS)
            findings.append({"label": label, "localizable": False})
            if rng.random() < 0.6:
                selected.append(label)
            continue
        label = rng.choice(DRAW_LABELS)
        regions = []
        for _ in range(rng.choice((1, 1, 1, 2))):
            box = _random_box(rng)
            readers = [box] + [_jitter(rng, box, 0.15) for _ in range(rng.choice((0, 0, 1, 2)))]
            regions.append(readers)
            if len(marks) < max_marks and rng.random() < 0.7:
                marked = label if rng.random() < 0.85 else rng.choice(DRAW_LABELS)
                marks.append({"label": marked, "box": _jitter(rng, box, 0.3)})
        findings.append({"label": label, "regions": regions})
    while len(marks) < max_marks and rng.random() < 0.3:
        marks.append({"label": rng.choice(DRAW_LABELS), "box": _random_box(rng)})
    if rng.random() < 0.1:
        selected.append(rng.choice(SELECT_LABELS))
    rng.shuffle(marks)
    return {
        "reference": {"findings": findings},
        "marks": {"boxes": marks[:max_marks], "selected": selected},
    }


def describe(cases: Sequence[dict[str, Any]]) -> str:
    findings = Counter(len(c["reference"]["findings"]) for c in cases)
    marks = Counter(len(c["marks"]["boxes"]) for c in cases)
    regions = [len(f.get("regions", ())) for c in cases for f in c["reference"]["findings"]]
    readers = [
        len(region)
        for c in cases
        for f in c["reference"]["findings"]
        for region in f.get("regions", ())
    ]

    def histogram(counter: Counter[int]) -> str:
        return " ".join(f"{k}:{counter[k]}" for k in sorted(counter))

    return (
        f"    findings per case: {histogram(findings)}\n"
        f"    marks per case:    {histogram(marks)}\n"
        f"    mean regions per drawn finding {statistics.fmean(x for x in regions if x):.2f}, "
        f"mean reader boxes per region {statistics.fmean(readers):.2f}"
    )


# ---------------------------------------------------------------------------- greedy baseline


def greedy_score(reference: Reference, marks: Marks, threshold: float = 0.3) -> dict[str, Any]:
    """The original RadGame rule: each region in turn takes its best unused same-label mark."""
    used: set[int] = set()
    hits, misses = [], []
    mark_list = marks.boxes
    for r, region in enumerate(reference.regions):
        best_j, best_value = -1, threshold
        for j, mark in enumerate(mark_list):
            if j in used or mark.label != region.label:
                continue
            value = max(iou(box, mark.box) for box in region.boxes)
            if value >= best_value:
                best_j, best_value = j, value
        if best_j < 0:
            misses.append({"label": region.label, "region": r})
        else:
            used.add(best_j)
            hits.append({"label": region.label, "region": r, "mark": best_j, "iou": best_value})
    false_positives = [
        {"label": mark.label, "mark": j} for j, mark in enumerate(mark_list) if j not in used
    ]
    total = len(hits) + len(misses) + len(false_positives)
    return {
        "score": len(hits) / total if total else 1.0,
        "hits": hits,
        "misses": misses,
        "false_positives": false_positives,
    }


# ---------------------------------------------------------------------------- timing


def rate(function: Callable[[Any], Any], inputs: Sequence[Any], repeats: int = 5) -> float:
    """Best-of-``repeats`` items per second of ``function`` over ``inputs``."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        for item in inputs:
            function(item)
        best = min(best, time.perf_counter() - start)
    return len(inputs) / best


def section_scoring(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    print("== scoring ==")
    print(f"machine: {machine()}")
    print(f"seed {args.seed}, {args.cases} cases per workload, best of 5 runs, IoU threshold 0.3")
    workloads = {
        "small (1-2 findings, 0-3 marks)": (2, 3),
        "mixed (1-10 findings, 0-20 marks)": (10, 20),
    }
    for name, (max_findings, max_marks) in workloads.items():
        cases = [make_case(rng, max_findings, max_marks) for _ in range(args.cases)]
        parsed = [(parse_reference(c["reference"]), parse_marks(c["marks"])) for c in cases]
        raw = [(c["reference"], c["marks"]) for c in cases]
        optimal = rate(lambda pair: score_localize(pair[0], pair[1]), parsed)
        from_json = rate(lambda pair: score_localize(pair[0], pair[1]), raw)
        baseline = rate(lambda pair: greedy_score(pair[0], pair[1]), parsed)
        optimal_hits = [score_localize(r, m)["counts"]["hits"] for r, m in parsed]
        # The same scorer and result, with the greedy rule where the optimal matcher would run.
        scoring.match_candidates = greedy_candidates
        try:
            same_shape = rate(lambda pair: score_localize(pair[0], pair[1]), parsed)
            greedy_hits = [score_localize(r, m)["counts"]["hits"] for r, m in parsed]
        finally:
            scoring.match_candidates = match_candidates
        better = sum(o > g for o, g in zip(optimal_hits, greedy_hits, strict=True))
        worse = sum(o < g for o, g in zip(optimal_hits, greedy_hits, strict=True))
        print(f"\nworkload {name}")
        print(describe(cases))
        print(f"    score_localize, pre-parsed inputs: {optimal:>12,.0f} cases/s")
        print(f"    score_localize, raw JSON dicts:    {from_json:>12,.0f} cases/s (parse + score)")
        print(f"    greedy, same full result:          {same_shape:>12,.0f} cases/s")
        print(
            f"    plain greedy, floor result:        {baseline:>12,.0f} cases/s "
            "(score, hits, misses, false positives only)"
        )
        print(f"    optimal / greedy-same-result:      {optimal / same_shape:>12.2f}x")
        print(f"    optimal / plain greedy:            {optimal / baseline:>12.2f}x")
        print(f"    cases with more hits than greedy:  {better:>12} (fewer: {worse})")

    import numpy as np

    print("\nbulk IoU (numpy, float64)")
    generator = np.random.default_rng(args.seed)

    def random_boxes(n: int) -> np.ndarray:
        corners = generator.random((n, 2, 2))
        low, high = corners.min(axis=1), corners.max(axis=1) + 1e-6
        return np.concatenate([low, np.minimum(high, 1.0)], axis=1)[:, [0, 1, 2, 3]]

    for n, m in ((1000, 1000), (2000, 2000), (20, 50_000)):
        a, b = random_boxes(n), random_boxes(m)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            iou_matrix(a, b)
            times.append(time.perf_counter() - start)
        print(f"    iou_matrix {n}x{m}: {n * m / min(times):>16,.0f} box pairs/s")
    a, b = random_boxes(1_000_000), random_boxes(1_000_000)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        iou_paired(a, b)
        times.append(time.perf_counter() - start)
    print(f"    iou_paired 1,000,000 pairs: {1_000_000 / min(times):>16,.0f} box pairs/s")


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {"scoring": section_scoring}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--section", action="append", choices=sorted(SECTIONS), help="run only these sections"
    )
    parser.add_argument("--cases", type=int, default=20_000, help="cases per scoring workload")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    for name in args.section or list(SECTIONS):
        SECTIONS[name](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
