"""Per-finding outcomes read from stored results: one rule for the dashboard and the exports.

Localize: every hit, miss and false positive of a scored result, by canonical label (drawn,
select and presence-only findings alike). Report: the itemised clinical errors by category.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

HIT, MISS, FALSE_POSITIVE = "hit", "miss", "false_positive"
REPORT_CATEGORIES = (
    "missed_finding",
    "false_finding",
    "location",
    "severity",
    "unsupported_comparison",
)


@dataclass(frozen=True)
class Outcome:
    label: str
    outcome: str  # hit | miss | false_positive
    kind: str  # draw | select | presence
    confidence: int | None
    iou: float | None


def localize_outcomes(result: Mapping[str, Any]) -> Iterator[Outcome]:
    for outcome, key in ((HIT, "hits"), (MISS, "misses"), (FALSE_POSITIVE, "false_positives")):
        for item in result.get(key) or []:
            yield Outcome(
                label=str(item.get("label", "")),
                outcome=outcome,
                kind=str(item.get("kind", "draw")),
                confidence=item.get("confidence"),
                iou=item.get("iou"),
            )


@dataclass
class FindingStats:
    label: str
    hits: int = 0
    misses: int = 0
    false_positives: int = 0
    images: int = 0  # the readings these counts are over

    @property
    def false_positives_per_image(self) -> float | None:
        return self.false_positives / self.images if self.images else None

    @property
    def present(self) -> int:
        return self.hits + self.misses

    @property
    def sensitivity(self) -> float | None:
        return self.hits / self.present if self.present else None


def finding_stats(results: Iterable[Mapping[str, Any]]) -> tuple[list[FindingStats], int]:
    """Per-label hits, misses and false positives over these results, and how many images (one
    per result) they cover: false positives per image = false_positives / images."""
    by_label: dict[str, FindingStats] = {}
    images = 0
    for result in results:
        images += 1
        for item in localize_outcomes(result):
            stats = by_label.setdefault(item.label, FindingStats(item.label))
            if item.outcome == HIT:
                stats.hits += 1
            elif item.outcome == MISS:
                stats.misses += 1
            else:
                stats.false_positives += 1
    for stats in by_label.values():
        stats.images = images
    return sort_findings(by_label.values()), images


def sort_findings(findings: Iterable[FindingStats]) -> list[FindingStats]:
    """Hardest first: lowest sensitivity, then the label; findings never present last."""
    return sorted(findings, key=lambda s: (s.sensitivity is None, s.sensitivity, s.label))


def report_error_counts(error_lists: Iterable[list[Mapping[str, Any]] | None]) -> Counter[str]:
    """Clinical errors by category over many scored reports (a missing list counts nothing)."""
    counts: Counter[str] = Counter()
    for errors in error_lists:
        for error in errors or []:
            counts[str(error.get("category", ""))] += 1
    return counts
