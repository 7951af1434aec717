"""All mentions of one label in one report, merged into a single state for comparison.

Presence is the strongest mention (present > uncertain > absent); side, zones and severity
come from the positive mentions when there are any: sides are united (left + right =
bilateral), zones pooled in order of mention, severity keeps its full range.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ml.report_metrics.findings import Finding, Presence, Span


@dataclass
class LabelState:
    """Every mention of one label in one report, merged."""

    label: str
    presence: Presence
    laterality: str | None
    zones: tuple[str, ...]
    severity: str | None
    severity_range: tuple[int, int] | None
    span: Span
    mentions: list[Finding] = field(default_factory=list)


def merge_by_label(findings: Iterable[Finding]) -> dict[str, LabelState]:
    """One state per label; attributes come from the positive mentions when there are any."""
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.label, []).append(finding)
    states: dict[str, LabelState] = {}
    for label, mentions in grouped.items():
        positive = [m for m in mentions if m.is_positive]
        used = positive or mentions
        presence: Presence = (
            "present"
            if any(m.presence == "present" for m in mentions)
            else "uncertain"
            if positive
            else "absent"
        )
        sides = {m.laterality for m in used if m.laterality}
        laterality = (
            "bilateral"
            if "bilateral" in sides or {"left", "right"} <= sides
            else next(iter(sides), None)
        )
        zones = tuple(dict.fromkeys(zone for m in used for zone in m.zones))
        ranges = [m.severity_range for m in used if m.severity_range]
        severity_range = (min(r[0] for r in ranges), max(r[1] for r in ranges)) if ranges else None
        # The word of the gravest mention, so messages quote what the reader wrote.
        severity = next(
            (
                m.severity
                for m in used
                if m.severity_range and severity_range and m.severity_range[1] == severity_range[1]
            ),
            None,
        )
        first = used[0]
        states[label] = LabelState(
            label, presence, laterality, zones, severity, severity_range, first.span, mentions
        )
    return states
