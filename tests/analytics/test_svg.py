"""The SVG charts: accessible titles, data in words, shapes and dashes that differ per series."""

from __future__ import annotations

import re

from defusedxml import ElementTree

from apps.analytics.svg import Series, bar_chart, line_chart

NS = "{http://www.w3.org/2000/svg}"


def test_line_chart_is_valid_svg_with_title_description_and_distinct_series() -> None:
    svg = line_chart(
        [Series("Localize", [(0, 0.5), (1, 0.75)]), Series("Report <b>", [(0, 0.2), (1, 0.4)])],
        chart_id="c",
        title="Curve & more",
        x_label="Week",
        y_label="Accuracy",
    )
    root = ElementTree.fromstring(str(svg))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{NS}title").text == "Curve & more"
    desc = root.find(f"{NS}desc").text
    assert "Localize (circle markers): 0: 50%, 1: 75%." in desc
    assert "Report <b> (square markers)" in desc  # escaped in the markup, read back as text
    paths = [p for p in root.iter(f"{NS}path") if p.get("fill") == "none"]
    assert len(paths) == 2 and paths[0].get("stroke-dasharray") is None
    assert paths[1].get("stroke-dasharray") == "6 4"
    assert len(root.findall(f".//{NS}circle")) == 2 and len(root.findall(f".//{NS}rect")) == 2
    labels = [t.text for t in root.iter(f"{NS}text")]
    assert "Localize (circle)" in labels and "Report <b> (square)" in labels


def test_step_line_goes_across_then_up() -> None:
    svg = str(
        line_chart(
            [Series("s", [(0, 0), (1, 1)])],
            chart_id="f",
            title="t",
            x_label="x",
            y_label="y",
            step=True,
        )
    )
    assert re.search(r'd="M[\d.]+ [\d.]+H[\d.]+V[\d.]+"', svg)


def test_empty_chart_says_so() -> None:
    svg = line_chart([], chart_id="e", title="t", x_label="x", y_label="y")
    assert "No data yet." in str(svg)


def test_bar_chart_writes_each_value() -> None:
    root = ElementTree.fromstring(
        str(
            bar_chart(
                [("Nodule", 0.5), ("Mass", 1.0)],
                chart_id="b",
                title="t",
                value_label="Sensitivity",
                maximum=1.0,
            )
        )
    )
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert {"Nodule", "50%", "Mass", "100%"} <= set(texts)
    assert "Nodule: 50%; Mass: 100%." in root.find(f"{NS}desc").text
