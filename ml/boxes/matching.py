"""Optimal one-to-one matching of reference regions to resident marks for one label.

The objective is lexicographic: first the most hits (pairs at IoU >= threshold), then the largest
total IoU over those hits. Maximising the IoU sum alone can trade two hits for one better-fitting
one, which would lower the resident's score for a fairer reading. Pairs below the threshold can
never be hits, so they are left out of the problem, which keeps the real problems tiny: nearly
always each region overlaps at most one mark and the answer is read off directly. Small tangled
problems are solved exactly by enumeration and larger ones with the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``) on weights ``K + IoU`` with ``K`` above any IoU sum.
"""

from __future__ import annotations

from typing import Final

Pair = tuple[int, int, float]  # (region row, mark column, IoU)

# Up to this many candidate pairs, enumerating matchings beats building a scipy problem.
_ENUMERATION_LIMIT: Final = 6


def match(table: list[list[float]], threshold: float) -> list[Pair]:
    """Hits as (row, column, IoU), sorted by row, for an IoU table of regions x marks."""
    return match_candidates(
        [
            (row, column, value)
            for row, values in enumerate(table)
            for column, value in enumerate(values)
            if value >= threshold
        ]
    )


def match_candidates(candidates: list[Pair]) -> list[Pair]:
    """The optimal matching among candidate pairs (all at IoU >= threshold, sorted by row)."""
    if len(candidates) <= 1:
        return candidates
    rows = {pair[0] for pair in candidates}
    columns = {pair[1] for pair in candidates}
    if len(rows) == len(candidates) and len(columns) == len(candidates):
        return candidates  # no region or mark has a rival: the only matching is optimal
    if len(candidates) <= _ENUMERATION_LIMIT:
        return _enumerate(candidates)
    return _hungarian(candidates, sorted(rows), sorted(columns))


def _enumerate(candidates: list[Pair]) -> list[Pair]:
    """Exact search over matchings of the candidate pairs (which are sorted by row)."""
    best: tuple[int, float, list[Pair]] = (0, 0.0, [])
    chosen: list[Pair] = []

    def extend(start: int, used_rows: frozenset[int], used_columns: frozenset[int]) -> None:
        nonlocal best
        total = sum(pair[2] for pair in chosen)
        if (len(chosen), total) > (best[0], best[1]):
            best = (len(chosen), total, list(chosen))
        for index in range(start, len(candidates)):
            row, column, _ = candidates[index]
            if row in used_rows or column in used_columns:
                continue
            chosen.append(candidates[index])
            extend(index + 1, used_rows | {row}, used_columns | {column})
            chosen.pop()

    extend(0, frozenset(), frozenset())
    return best[2]


def _hungarian(candidates: list[Pair], rows: list[int], columns: list[int]) -> list[Pair]:
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    row_at = {row: i for i, row in enumerate(rows)}
    column_at = {column: j for j, column in enumerate(columns)}
    # One more hit must outweigh any IoU total, which is at most min(n, m).
    bonus = float(min(len(rows), len(columns)) + 1)
    weights = np.zeros((len(rows), len(columns)))
    values = {}
    for row, column, value in candidates:
        weights[row_at[row], column_at[column]] = bonus + value
        values[row, column] = value
    chosen_rows, chosen_columns = linear_sum_assignment(weights, maximize=True)
    pairs = []
    for i, j in zip(chosen_rows.tolist(), chosen_columns.tolist(), strict=True):
        key = (rows[i], columns[j])
        if key in values:
            pairs.append((key[0], key[1], values[key]))
    return sorted(pairs)


def greedy(table: list[list[float]], threshold: float) -> list[Pair]:
    """Best-IoU-first greedy matching, the original RadGame rule; a baseline for tests."""
    return greedy_candidates(
        [
            (row, column, value)
            for row, values in enumerate(table)
            for column, value in enumerate(values)
            if value >= threshold
        ]
    )


def greedy_candidates(candidates: list[Pair]) -> list[Pair]:
    """Greedy matching among candidate pairs: highest IoU first, ties by row then column."""
    used_rows: set[int] = set()
    used_columns: set[int] = set()
    pairs = []
    for row, column, value in sorted(candidates, key=lambda pair: (-pair[2], pair[0], pair[1])):
        if row not in used_rows and column not in used_columns:
            used_rows.add(row)
            used_columns.add(column)
            pairs.append((row, column, value))
    return sorted(pairs)
