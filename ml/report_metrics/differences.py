"""How a matched pair of instances differs, attribute by attribute, and what each difference costs.

Costs are fractions of the finding's weight, so every attribute error costs less than missing
the finding: a wrong side 0.5 (0.25 for one side of a bilateral finding), a wrong zone group
0.25, location at most 0.5 in all; a grade off by one 0.25 and by more 0.5, a size off by more
than a quarter 0.25 and by more than a half 0.5, severity at most 0.5 in all; with a prior, a
change stated differently 0.25 (without one, change is not compared).
"""

from __future__ import annotations

from ml.report_metrics.instances import Instance
from ml.report_metrics.modifiers import ZONE_GROUPS

CHANGE_COST = 0.25


def attribute_cost(
    ref: Instance, cand: Instance, has_prior: bool
) -> tuple[float, list[tuple[str, str, float, str]]]:
    """Total cost in [0, 1] and the errors: (category, attribute, cost, what differs)."""
    problems: list[tuple[str, str, float, str]] = []
    location = 0.0
    if ref.laterality and cand.laterality and ref.laterality != cand.laterality:
        cost = 0.25 if "bilateral" in (ref.laterality, cand.laterality) else 0.5
        location += cost
        problems.append(
            (
                "location",
                "side",
                cost,
                f"the reference places it {ref.laterality}, you placed it {cand.laterality}",
            )
        )
    ref_groups = {ZONE_GROUPS[z] for z in ref.zones}
    cand_groups = {ZONE_GROUPS[z] for z in cand.zones}
    if ref_groups and cand_groups and not ref_groups & cand_groups:
        location += 0.25
        problems.append(
            (
                "location",
                "zone",
                0.25,
                f"the reference zone is {', '.join(ref.zones)}, yours is {', '.join(cand.zones)}",
            )
        )
    severity = 0.0
    grade = grade_cost(ref.severity_range, cand.severity_range)
    if grade:
        severity += grade
        problems.append(
            (
                "severity",
                "grade",
                grade,
                f"the reference grades it {ref.severity}, you graded it {cand.severity}",
            )
        )
    size = size_cost(ref.size_mm, cand.size_mm)
    if size:
        severity += size
        problems.append(
            (
                "severity",
                "size",
                size,
                f"the reference measures it {ref.size_mm:g} mm, you measured {cand.size_mm:g} mm",
            )
        )
    change = 0.0
    if has_prior and ref.change and cand.change and ref.change != cand.change:
        change = CHANGE_COST
        problems.append(
            (
                "change",
                "change",
                change,
                f"the reference calls it {ref.change}, you called it {cand.change}",
            )
        )
    total = min(1.0, min(0.5, location) + min(0.5, severity) + change)
    return total, problems


def grade_cost(ref: tuple[int, int] | None, cand: tuple[int, int] | None) -> float:
    if ref is None or cand is None:
        return 0.0
    if cand[1] < ref[0]:
        gap = ref[0] - cand[1]
    elif cand[0] > ref[1]:
        gap = cand[0] - ref[1]
    else:
        return 0.0
    return 0.25 if gap == 1 else 0.5


def size_cost(ref: float | None, cand: float | None) -> float:
    if not ref or not cand:
        return 0.0
    ratio = max(ref, cand) / min(ref, cand)
    return 0.0 if ratio <= 1.25 else 0.25 if ratio <= 1.5 else 0.5
