"""FROC curves and the JAFROC figure of merit from per-mark confidences (docs/educators.md).

Each Localize attempt is one image reading. A drawn mark that hit a lesion (a region of a drawn
finding) is a lesion localization (LL) rated by its confidence; an unmatched drawn mark is a
non-lesion localization (NL). A lesion nobody marked has no rating (−∞ below every rating).
An image is *normal* here when it has no drawn region (select-only findings are not localizable).

- FROC: for each rating threshold t, from the highest down, LLF(t) = LLs rated >= t / lesions and
  NLF(t) = NLs rated >= t / images.
- JAFROC figure of merit (the AFROC area, Chakraborty & Berbaum 2004): the Wilcoxon statistic
  comparing every lesion's rating with the highest NL rating on every normal image:
  θ = Σ_normal i Σ_lesion j ψ(X_i, Y_j) / (N_normal · N_lesions), ψ = 1 if Y > X, ½ if equal
  (two unrated ones included), 0 otherwise. Needs a normal image and a lesion.
- JAFROC1 uses the highest NL of every image (normal and abnormal) as X_i instead.

A reading with a drawn mark that carries no confidence cannot be placed on a rating scale and is
left out (``unrated`` counts them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

UNRATED = float("-inf")


@dataclass(frozen=True)
class Reading:
    lesions: tuple[float, ...]  # each lesion's LL rating, or UNRATED when it was missed
    noise: tuple[float, ...]  # the NL ratings

    @property
    def normal(self) -> bool:
        return not self.lesions

    @property
    def highest_noise(self) -> float:
        return max(self.noise, default=UNRATED)


def reading_of(result: Mapping[str, Any]) -> Reading | None:
    """The reading a scored Localize result records; None when a drawn mark has no confidence."""
    regions = result.get("regions") or []
    rating: dict[int, float] = {}
    for hit in result.get("hits") or []:
        if hit.get("kind") != "draw":
            continue
        if hit.get("confidence") is None:
            return None
        rating[int(hit["region"])] = float(hit["confidence"])
    noise = []
    for fp in result.get("false_positives") or []:
        if fp.get("kind") != "draw":
            continue
        if fp.get("confidence") is None:
            return None
        noise.append(float(fp["confidence"]))
    lesions = tuple(rating.get(int(row["region"]), UNRATED) for row in regions)
    return Reading(lesions=lesions, noise=tuple(sorted(noise, reverse=True)))


@dataclass(frozen=True)
class FrocPoint:
    threshold: float
    nlf: float  # non-lesion localizations per image
    llf: float  # fraction of lesions localized


def froc_points(readings: Sequence[Reading]) -> list[FrocPoint]:
    """The empirical FROC operating points, strictest threshold first (origin not included)."""
    return froc_curve(ratings_of(readings), len(readings))


@dataclass(frozen=True)
class Ratings:
    """What FROC and JAFROC need of many readings, as counts per rating (UNRATED: a lesion nobody
    marked; an image without NL has UNRATED as its highest NL). The database can count these."""

    lesions: Counter[float]  # every lesion's LL rating
    noise: Counter[float]  # every NL rating
    normal_highest: Counter[float]  # each normal image's highest NL
    highest: Counter[float]  # each image's highest NL


def ratings_of(readings: Sequence[Reading]) -> Ratings:
    return Ratings(
        lesions=Counter(y for r in readings for y in r.lesions),
        noise=Counter(x for r in readings for x in r.noise),
        normal_highest=Counter(r.highest_noise for r in readings if r.normal),
        highest=Counter(r.highest_noise for r in readings),
    )


def froc_curve(ratings: Ratings, images: int) -> list[FrocPoint]:
    lesion_total = sum(ratings.lesions.values())
    if not images:
        return []
    ll = {y: n for y, n in ratings.lesions.items() if y != UNRATED}
    nl = ratings.noise
    points = []
    for t in sorted(set(ll) | set(nl), reverse=True):
        points.append(
            FrocPoint(
                threshold=t,
                nlf=sum(n for x, n in nl.items() if x >= t) / images,
                llf=(sum(n for y, n in ll.items() if y >= t) / lesion_total)
                if lesion_total
                else 0.0,
            )
        )
    return points


def _wilcoxon(x_counts: Counter[float], y_counts: Counter[float]) -> float | None:
    """Σ_x Σ_y ψ(x, y) / (|x| |y|) with ψ = 1 if y > x, ½ if equal, 0 otherwise; counted per
    distinct rating (a handful), not per pair, so a cohort's thousands of images stay cheap."""
    n_x, n_y = sum(x_counts.values()), sum(y_counts.values())
    if not n_x or not n_y:
        return None
    below = 0  # xs rated strictly below the current y
    total = 0.0
    for value in sorted(set(x_counts) | set(y_counts)):
        total += y_counts[value] * (below + 0.5 * x_counts[value])
        below += x_counts[value]
    return total / (n_x * n_y)


def jafroc_fom(readings: Sequence[Reading]) -> float | None:
    """The JAFROC (AFROC) figure of merit: lesions against normal images' highest NL."""
    ratings = ratings_of(readings)
    return _wilcoxon(ratings.normal_highest, ratings.lesions)


def jafroc1_fom(readings: Sequence[Reading]) -> float | None:
    """JAFROC1: lesions against every image's highest NL (usable without normal images)."""
    ratings = ratings_of(readings)
    return _wilcoxon(ratings.highest, ratings.lesions)


@dataclass(frozen=True)
class FrocSummary:
    points: list[FrocPoint]
    jafroc: float | None
    jafroc1: float | None
    images: int
    normal_images: int
    lesions: int
    unrated: int  # readings left out: a drawn mark without a confidence


def froc_summary(results: Iterable[Mapping[str, Any]]) -> FrocSummary:
    readings, unrated = [], 0
    for result in results:
        reading = reading_of(result)
        if reading is None:
            unrated += 1
        else:
            readings.append(reading)
    return summary_of(ratings_of(readings), images=len(readings), unrated=unrated)


def summary_of(ratings: Ratings, *, images: int, unrated: int) -> FrocSummary:
    return FrocSummary(
        points=froc_curve(ratings, images),
        jafroc=_wilcoxon(ratings.normal_highest, ratings.lesions),
        jafroc1=_wilcoxon(ratings.highest, ratings.lesions),
        images=images,
        normal_images=sum(ratings.normal_highest.values()),
        lesions=sum(ratings.lesions.values()),
        unrated=unrated,
    )
