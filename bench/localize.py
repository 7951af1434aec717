"""Localize benchmarks. Each section prints its figures with the machine and the inputs.

    python bench/localize.py                      # every section
    python bench/localize.py --section scoring    # score_localize vs a greedy baseline, bulk IoU
    python bench/localize.py --section load       # HTTP submits on Postgres (wrk when installed)
    python bench/localize.py --section load --pool on --compare-root /tmp/base
                                                  # ... against an older checkout, interleaved
    python bench/localize.py --section profile    # one submit's SQL, CPU and cProfile buckets

Sections are registered in SECTIONS; add one as ``def section_<name>(args) -> None`` and an
entry there.
"""

from __future__ import annotations

import argparse
import gc
import os
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
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"{platform.platform()} | {cpu} ({os.cpu_count()} logical CPUs, load average {load}) | "
        f"Python {platform.python_version()} ({platform.python_implementation()}) | "
        "one process, one core"
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


def greedy_score(
    reference: Reference, marks: Marks, threshold: float = 0.3, *, with_mislabelled: bool = True
) -> dict[str, Any]:
    """The original RadGame rule: each region in turn takes its best unused same-label mark.

    Drawn findings only, as plain as it gets: the result is DESIGN.md's floor (score, hits,
    misses, false positives, mislabelled), or without mislabelled when asked.
    """
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
    result = {
        "score": len(hits) / total if total else 1.0,
        "hits": hits,
        "misses": misses,
        "false_positives": false_positives,
    }
    if with_mislabelled:
        # The contract's floor also names false positives that sit on another label's region.
        mislabelled = []
        for fp in false_positives:
            box = mark_list[fp["mark"]].box
            best_value, best_region = threshold, -1
            for r, region in enumerate(reference.regions):
                if region.label != fp["label"]:
                    value = max(iou(other, box) for other in region.boxes)
                    if value >= best_value:
                        best_value, best_region = value, r
            if best_region >= 0:
                true_label = reference.regions[best_region].label
                mislabelled.append(
                    {"mark": fp["mark"], "marked_label": fp["label"], "true_label": true_label}
                )
        result["mislabelled"] = mislabelled
    return result


# ---------------------------------------------------------------------------- timing


def rates(
    functions: dict[str, Callable[[Any], Any]], inputs: Sequence[Any], rounds: int = 7
) -> dict[str, tuple[float, float]]:
    """Items per CPU second and per wall second of each function over ``inputs``, best rounds.

    CPU time (``time.process_time``) is the primary figure: on a shared machine the wall clock
    also counts the time other processes held the core. The functions take turns within each
    round, so a burst of load slows them alike instead of skewing one against another.
    """
    best_cpu = dict.fromkeys(functions, float("inf"))
    best_wall = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, function in functions.items():
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            for item in inputs:
                function(item)
            best_cpu[name] = min(best_cpu[name], time.process_time() - cpu)
            best_wall[name] = min(best_wall[name], time.perf_counter() - wall)
    return {
        name: (len(inputs) / best_cpu[name], len(inputs) / best_wall[name]) for name in functions
    }


def _greedy_same_result(pair: tuple[Reference, Marks]) -> dict[str, Any]:
    # The same scorer and result, with the greedy rule where the optimal matcher would run.
    scoring.match_candidates = greedy_candidates
    try:
        return score_localize(pair[0], pair[1])
    finally:
        scoring.match_candidates = match_candidates


def _workload(name: str, cases: list[dict[str, Any]], rounds: int) -> None:
    parsed = [(parse_reference(c["reference"]), parse_marks(c["marks"])) for c in cases]
    raw = [(c["reference"], c["marks"]) for c in cases]
    # Every function gets the case index, so the raw-JSON run takes turns with the others.
    measured = rates(
        {
            "optimal": lambda i: score_localize(*parsed[i]),
            "from_json": lambda i: score_localize(*raw[i]),
            "same_shape": lambda i: _greedy_same_result(parsed[i]),
            "plain": lambda i: greedy_score(*parsed[i]),
            "bare": lambda i: greedy_score(*parsed[i], with_mislabelled=False),
        },
        range(len(cases)),
        rounds,
    )
    optimal = measured["optimal"][0]
    optimal_hits = [score_localize(r, m)["counts"]["hits"] for r, m in parsed]
    greedy_hits = [_greedy_same_result(pair)["counts"]["hits"] for pair in parsed]
    better = sum(o > g for o, g in zip(optimal_hits, greedy_hits, strict=True))
    worse = sum(o < g for o, g in zip(optimal_hits, greedy_hits, strict=True))
    rows = (
        ("score_localize, pre-parsed inputs", "optimal", ""),
        ("score_localize, raw JSON dicts", "from_json", "parse + score"),
        ("greedy matcher, same full result", "same_shape", "score_localize with greedy"),
        ("plain greedy, contract floor", "plain", "score, hits, misses, FPs, mislabelled"),
        ("bare greedy", "bare", "score, hits, misses, FPs"),
    )
    print(f"\nworkload {name}")
    print(describe(cases))
    print("    cases per CPU second (wall-clock figure in brackets):")
    for label, key, note in rows:
        cpu, wall = measured[key]
        baseline = key not in ("optimal", "from_json")
        ratio = f"  score_localize/this {optimal / cpu:.2f}" if baseline else ""
        suffix = f" ({note})" if note else ""
        print(f"    {label + ':':<36}{cpu:>10,.0f} [{wall:>9,.0f}]{ratio}{suffix}")
    print(f"    cases where optimal found more hits than greedy: {better} (fewer: {worse})")


def _bulk(seed: int) -> None:
    import numpy as np

    print("\nbulk IoU (numpy, float64; best of 5)")
    generator = np.random.default_rng(seed)

    def random_boxes(n: int) -> np.ndarray:
        corners = generator.random((n, 2, 2))
        return np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)

    def best_seconds(function: Callable[[], Any]) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        return min(times)

    for n, m in ((1_000, 1_000), (2_000, 2_000), (20, 50_000)):
        a, b = random_boxes(n), random_boxes(m)
        seconds = best_seconds(lambda a=a, b=b: iou_matrix(a, b))
        print(f"    iou_matrix {n:,} x {m:,}:{n * m / seconds:>18,.0f} box pairs/s")
    a, b = random_boxes(1_000_000), random_boxes(1_000_000)
    seconds = best_seconds(lambda: iou_paired(a, b))
    print(f"    iou_paired 1,000,000 pairs:{1_000_000 / seconds:>16,.0f} box pairs/s")


def section_scoring(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    print("== scoring ==")
    print(f"machine: {machine()}")
    print(
        f"inputs: seed {args.seed}, {args.cases:,} generated cases per workload (NIH box labels, "
        "15% checklist findings, 1-3 readers per region, marks jittered off the truth, some "
        f"mislabelled, some stray), IoU threshold 0.3; best of {args.rounds} interleaved rounds"
    )
    workloads = {
        "small (1-2 findings, 0-3 marks)": (2, 3),
        "mixed (1-10 findings, 0-20 marks)": (10, 20),
    }
    for name, (max_findings, max_marks) in workloads.items():
        cases = [make_case(rng, max_findings, max_marks) for _ in range(args.cases)]
        _workload(name, cases, args.rounds)
    _bulk(args.seed)


# The HTTP load section (a real ASGI server on Postgres) lives in its own module.
from localize_load import section_load  # noqa: E402
from localize_profile import section_profile  # noqa: E402
from localize_server import add_arguments as add_load_arguments  # noqa: E402

SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "scoring": section_scoring,
    "load": section_load,
    "profile": section_profile,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--section", action="append", choices=sorted(SECTIONS), help="run only these sections"
    )
    parser.add_argument("--cases", type=int, default=20_000, help="cases per scoring workload")
    parser.add_argument("--rounds", type=int, default=7, help="timing rounds, best one counts")
    parser.add_argument("--seed", type=int, default=7)
    add_load_arguments(parser)
    args = parser.parse_args(argv)
    for name in args.section or list(SECTIONS):
        SECTIONS[name](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
