"""The dashboard's plots: the data of ``dashboard`` / ``drilldown`` drawn with ``svg``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.safestring import SafeString

from .dashboard import CurvePoint
from .froc import FrocSummary
from .outcomes import FindingStats
from .svg import Series, bar_chart, line_chart

NAMES = {"localize": "Localize", "report": "Report"}


def learning_curves(
    curves: Mapping[str, Sequence[CurvePoint]], *, chart_id: str, title: str
) -> SafeString:
    """Weekly first-reading accuracy per exercise; x is the week, labelled by its Monday."""
    weeks = sorted({p.week for points in curves.values() for p in points})
    index = {week: i for i, week in enumerate(weeks)}
    series = [
        Series(
            NAMES.get(kind, kind),
            [(float(index[p.week]), p.accuracy) for p in points if p.accuracy is not None],
        )
        for kind, points in curves.items()
    ]
    step = max(1, len(weeks) // 6)
    ticks = [(float(i), week.strftime("%d %b")) for i, week in enumerate(weeks) if i % step == 0]
    return line_chart(
        series,
        chart_id=chart_id,
        title=title,
        x_label="Week starting",
        y_label="Accuracy (first readings)",
        x_range=(0.0, float(max(len(weeks) - 1, 1))),
        x_ticks=ticks,
    )


def froc_curves(summaries: Mapping[str, FrocSummary], *, chart_id: str, title: str) -> SafeString:
    """FROC: lesion localization fraction against non-lesion localizations per image."""
    series = [
        Series(name, [(0.0, 0.0)] + [(p.nlf, p.llf) for p in summary.points])
        for name, summary in summaries.items()
    ]
    top = max((p.nlf for s in summaries.values() for p in s.points), default=0.0)
    return line_chart(
        series,
        chart_id=chart_id,
        title=title,
        x_label="Non-lesion localizations per image",
        y_label="Lesion localization fraction",
        x_range=(0.0, max(top, 0.5)),
        step=True,
    )


def sensitivity_bars(findings: Sequence[FindingStats], *, chart_id: str, title: str) -> SafeString:
    bars = [(f.label, f.sensitivity) for f in findings if f.sensitivity is not None]
    return bar_chart(
        [(label, value) for label, value in bars if value is not None][:20],
        chart_id=chart_id,
        title=title,
        value_label="Sensitivity (found / present), hardest first",
        maximum=1.0,
    )
