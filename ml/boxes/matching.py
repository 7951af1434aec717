"""Optimal one-to-one matching of reference regions to resident marks for one label.

The objective is lexicographic: first the most hits (pairs at IoU >= threshold), then the largest
total IoU over those hits. Maximising the IoU sum alone can trade two hits for one better-fitting
one, which would lower the resident's score for a fairer reading. Pairs below the threshold can
never be hits, so they are left out of the problem, which keeps the real problems tiny: nearly
always each region overlaps at most one mark and the answer is read off directly, and the
common small tangles (one region or mark with several rivals, two regions sharing two marks) are
solved in closed form. The rest go to the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``) on weights ``K + IoU`` with ``K`` above any IoU sum.
"""

from __future__ import annotations

Pair = tuple[int, int, float]  # (region row, mark column, IoU)


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
    if len(rows) == 1 or len(columns) == 1:
        # One region with several marks on it, or one mark on several regions: one hit at most,
        # so the best pair wins (the first of equals, for a stable answer).
        return [max(candidates, key=lambda pair: pair[2])]
    if len(rows) == 2 and len(columns) == 2:
        return _two_by_two(candidates)
    return _hungarian(candidates, sorted(rows), sorted(columns))


def _two_by_two(candidates: list[Pair]) -> list[Pair]:
    """Two regions and two marks with three or four candidate pairs (sorted by row).

    Three of the four cells always leave one way to match both regions, so the answer is the
    better of the (at most two) perfect matchings; the first wins a tie, for a stable answer.
    """
    first_row = candidates[0][0]
    by_cell = {
        (row == first_row, column): (row, column, value) for row, column, value in candidates
    }
    left, right = sorted({pair[1] for pair in candidates})
    best: list[Pair] = []
    for top_column, bottom_column in ((left, right), (right, left)):
        top, bottom = by_cell.get((True, top_column)), by_cell.get((False, bottom_column))
        if (
            top is not None
            and bottom is not None
            and (not best or top[2] + bottom[2] > best[0][2] + best[1][2])
        ):
            best = [top, bottom]
    return best


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
