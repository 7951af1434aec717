"""Small server-side SVG charts for the educators' dashboards.

Readable without colour: every series has its own marker shape and dash pattern and is labelled
in place at its last point; every chart has a ``<title>`` and a ``<desc>`` that states the data in
words, so a screen reader reads the numbers a sighted reader sees. No JavaScript, no library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 120, 36, 48
# Shapes and dashes cycle together: series n differs from series n-1 in both.
MARKERS = ("circle", "square", "triangle", "diamond", "cross")
DASHES = ("", "6 4", "2 3", "10 3 2 3", "1 5")
INKS = ("#1f4e8c", "#b5462b", "#2e7d32", "#6a3d9a", "#444444")


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]  # (x, y), x ascending


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _marker(kind: str, x: float, y: float, ink: str) -> str:
    size = 4.0
    if kind == "circle":
        return f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{size}" fill="{ink}"/>'
    if kind == "square":
        return (
            f'<rect x="{_fmt(x - size)}" y="{_fmt(y - size)}" width="{2 * size}" '
            f'height="{2 * size}" fill="{ink}"/>'
        )
    if kind == "triangle":
        points = f"{_fmt(x)},{_fmt(y - size - 1)} {_fmt(x - size - 1)},{_fmt(y + size)} "
        points += f"{_fmt(x + size + 1)},{_fmt(y + size)}"
        return f'<polygon points="{points}" fill="{ink}"/>'
    if kind == "diamond":
        s = size + 1
        points = f"{_fmt(x)},{_fmt(y - s)} {_fmt(x + s)},{_fmt(y)} {_fmt(x)},{_fmt(y + s)} "
        points += f"{_fmt(x - s)},{_fmt(y)}"
        return f'<polygon points="{points}" fill="{ink}"/>'
    return (
        f'<path d="M{_fmt(x - size)} {_fmt(y - size)}L{_fmt(x + size)} {_fmt(y + size)}'
        f'M{_fmt(x - size)} {_fmt(y + size)}L{_fmt(x + size)} {_fmt(y - size)}" '
        f'stroke="{ink}" stroke-width="2"/>'
    )


def _svg(chart_id: str, title: str, desc: str, body: list[str], height: int = HEIGHT) -> SafeString:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'class="chart" role="img" id="{escape(chart_id)}" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        'font-family="system-ui, sans-serif" font-size="12">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
    )
    # Every fragment was built here from escaped text and formatted numbers.
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308  # nosec B308 B703


def line_chart(
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] = (0.0, 1.0),
    x_ticks: Sequence[tuple[float, str]] = (),
    y_percent: bool = True,
    step: bool = False,
) -> SafeString:
    """Lines with markers; ``step`` draws them as steps (an empirical curve such as FROC)."""
    xs = [x for s in series for x, _ in s.points]
    x0, x1 = x_range or ((min(xs), max(xs)) if xs else (0.0, 1.0))
    if x1 <= x0:
        x1 = x0 + 1
    y0, y1 = y_range
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - (min(max(y, y0), y1) - y0) / (y1 - y0) * plot_h

    def y_text(y: float) -> str:
        return f"{100 * y:.0f}%" if y_percent else _fmt(y)

    body = [_axes(x_label, y_label)]
    for i in range(5):
        value = y0 + (y1 - y0) * i / 4
        y = py(value)
        body.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{_fmt(y)}" y2="{_fmt(y)}" '
            'stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{_fmt(y + 4)}" text-anchor="end">{y_text(value)}</text>'
        )
    ticks = list(x_ticks) or [
        (x0 + (x1 - x0) * i / 4, _fmt(x0 + (x1 - x0) * i / 4)) for i in range(5)
    ]
    for value, label in ticks:
        body.append(
            f'<text x="{_fmt(px(value))}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    words = []
    for n, s in enumerate(series):
        ink, dash, marker = INKS[n % 5], DASHES[n % 5], MARKERS[n % 5]
        coords = [(px(x), py(y)) for x, y in s.points]
        if not coords:
            continue
        path = f"M{_fmt(coords[0][0])} {_fmt(coords[0][1])}"
        for bx, by in coords[1:]:
            path += f"H{_fmt(bx)}V{_fmt(by)}" if step else f"L{_fmt(bx)} {_fmt(by)}"
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<g class="series" data-series="{escape(s.name)}">'
            f'<path d="{path}" fill="none" stroke="{ink}" stroke-width="2"{dash_attr}/>'
        )
        body.extend(_marker(marker, x, y, ink) for x, y in coords)
        last_x, last_y = coords[-1]
        body.append(
            f'<text x="{_fmt(last_x + 8)}" y="{_fmt(last_y + 4)}" fill="{ink}">'
            f"{escape(s.name)} ({marker})</text></g>"
        )
        points = ", ".join(f"{_fmt(x)}: {y_text(y)}" for x, y in s.points)
        words.append(f"{s.name} ({marker} markers): {points}.")
    desc = " ".join(words) if words else "No data yet."
    return _svg(chart_id, title, f"{x_label} against {y_label}. {desc}", body)


def _axes(x_label: str, y_label: str) -> str:
    bottom = HEIGHT - BOTTOM
    return (
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#333"/>'
        f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#333"/>'
        f'<text x="{(LEFT + WIDTH - RIGHT) // 2}" y="{HEIGHT - 8}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
        f'<text transform="translate(14 {(TOP + bottom) // 2}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    chart_id: str,
    title: str,
    value_label: str,
    maximum: float | None = None,
    percent: bool = True,
) -> SafeString:
    """Horizontal bars, each with its label on the left and its value written at its end."""
    row = 22
    height = TOP + row * max(len(bars), 1) + 24
    top = max((value for _, value in bars), default=0.0)
    scale = maximum if maximum is not None else (top or 1.0)
    left, width = 170, WIDTH - 170 - 70
    body = [
        f'<text x="{left}" y="{TOP - 12}">{escape(value_label)}</text>',
        f'<line x1="{left}" y1="{TOP - 4}" x2="{left}" y2="{height - 20}" stroke="#333"/>',
    ]
    words = []
    for i, (label, value) in enumerate(bars):
        y = TOP + i * row
        w = max(0.0, min(value / scale, 1.0)) * width if scale else 0.0
        text = f"{100 * value:.0f}%" if percent else _fmt(value)
        body.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(label[:28])}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{_fmt(w)}" height="{row - 8}" fill="{INKS[0]}"/>'
            f'<text x="{_fmt(left + w + 6)}" y="{y + 14}">{text}</text>'
        )
        words.append(f"{label}: {text}")
    desc = "; ".join(words) + "." if words else "No data yet."
    return _svg(chart_id, title, f"{value_label}. {desc}", body, height=height)
