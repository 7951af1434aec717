"""FROC and JAFROC against a small example worked by hand (docs/educators.md)."""

from __future__ import annotations

import pytest

from apps.analytics.froc import (
    UNRATED,
    Reading,
    froc_points,
    froc_summary,
    jafroc1_fom,
    jafroc_fom,
    reading_of,
)

# N1: normal, one NL rated 3. N2: normal, unmarked. A1: two lesions, one found at 4, one missed,
# one NL rated 2. A2: one lesion found at 2.
READINGS = [
    Reading(lesions=(), noise=(3.0,)),
    Reading(lesions=(), noise=()),
    Reading(lesions=(4.0, UNRATED), noise=(2.0,)),
    Reading(lesions=(2.0,), noise=()),
]


def test_jafroc_by_hand() -> None:
    # X (normals' highest NL) = {3, -inf}; Y (lesions) = {4, -inf, 2}.
    # X=3: 4 beats it (1), -inf and 2 do not (0, 0) -> 1.
    # X=-inf: 4 (1), -inf tie (0.5), 2 (1) -> 2.5.   (1 + 2.5) / (2 * 3) = 7/12.
    assert jafroc_fom(READINGS) == pytest.approx(7 / 12)


def test_jafroc1_by_hand() -> None:
    # X over all four images = {3, -inf, 2, -inf}: 1 + 2.5 + (1 + 0 + 0.5) + 2.5 = 7.5; / (4 * 3).
    assert jafroc1_fom(READINGS) == pytest.approx(7.5 / 12)


def test_froc_points_by_hand() -> None:
    points = [(p.threshold, p.nlf, p.llf) for p in froc_points(READINGS)]
    # 3 lesions, 4 images. t=4: 1 LL, 0 NL. t=3: 1 LL, 1 NL. t=2: 2 LL, 2 NL.
    assert points == [
        (4.0, 0.0, pytest.approx(1 / 3)),
        (3.0, 0.25, pytest.approx(1 / 3)),
        (2.0, 0.5, pytest.approx(2 / 3)),
    ]


def test_a_perfect_reader_scores_one_and_a_blind_one_half() -> None:
    perfect = [Reading(lesions=(5.0,), noise=()), Reading(lesions=(), noise=())]
    assert jafroc_fom(perfect) == 1.0
    blind = [Reading(lesions=(UNRATED,), noise=()), Reading(lesions=(), noise=())]
    assert jafroc_fom(blind) == 0.5


def test_no_normal_image_has_no_jafroc_but_a_jafroc1() -> None:
    only_abnormal = [Reading(lesions=(3.0,), noise=(4.0,))]
    assert jafroc_fom(only_abnormal) is None
    assert jafroc1_fom(only_abnormal) == 0.0


def _result(hits: list, fps: list, regions: int) -> dict:
    return {
        "regions": [{"region": r} for r in range(regions)],
        "hits": [{"kind": "draw", "region": r, "confidence": c} for r, c in hits]
        + [{"kind": "select", "region": None, "confidence": None}],
        "false_positives": [{"kind": "draw", "confidence": c} for c in fps]
        + [{"kind": "select", "confidence": None}],
    }


def test_reading_of_a_stored_result() -> None:
    reading = reading_of(_result(hits=[(1, 4)], fps=[2, 5], regions=2))
    assert reading == Reading(lesions=(UNRATED, 4.0), noise=(5.0, 2.0))


def test_a_box_without_confidence_leaves_the_reading_out() -> None:
    unrated = _result(hits=[(0, None)], fps=[], regions=1)
    summary = froc_summary([unrated, _result(hits=[(0, 3)], fps=[], regions=1)])
    assert summary.unrated == 1 and summary.images == 1 and summary.lesions == 1


def test_counting_matches_the_pairwise_definition() -> None:
    import random
    from collections import Counter

    from apps.analytics.froc import _wilcoxon

    rng = random.Random(3)
    for _ in range(200):
        xs = [rng.choice([UNRATED, 1.0, 2.0, 3.0, 4.0, 5.0]) for _ in range(rng.randint(1, 12))]
        ys = [rng.choice([UNRATED, 1.0, 2.0, 3.0, 4.0, 5.0]) for _ in range(rng.randint(1, 12))]
        pairs = sum(1.0 if y > x else 0.5 if y == x else 0.0 for x in xs for y in ys)
        assert _wilcoxon(Counter(xs), Counter(ys)) == pytest.approx(pairs / (len(xs) * len(ys)))
