"""Hint texts (apps.exercises.hint_text): where to look, per finding type, never what is there."""

from __future__ import annotations

import re

import pytest

from apps.exercises.hint_text import (
    AREA_HINTS,
    HINTS_PER_CASE,
    SEARCH_PATTERN_HINTS,
    SYSTEM_HINTS,
    HintFinding,
    HintView,
    hint_ladder,
)
from ml import taxonomy

PA = HintView(image_id=1, projection="PA", name="view 1")
LATERAL = HintView(image_id=2, projection="Lateral", name="view 2")
LEFT_LOWER = [0.62, 0.62, 0.80, 0.78]  # the image's right half is the patient's left
RIGHT_APEX = [0.15, 0.08, 0.35, 0.25]


def _spellings_in(text: str) -> list[str]:
    """Every spelling of every finding in the taxonomy that the text contains, as words."""
    found = []
    for label in taxonomy.LABELS.values():
        for spelling in (label.name, *label.synonyms):
            if re.search(rf"\b{re.escape(spelling.casefold())}\b", text.casefold()):
                found.append(spelling)
    return found


def _boxed(label: str, box: list[float], view: int = 1) -> HintFinding:
    return HintFinding(label=label, regions=[[box]], region_views=[view])


@pytest.mark.parametrize("name", sorted(taxonomy.LABELS))
def test_no_hint_names_any_finding(name: str) -> None:
    """Every label, drawn and diffuse: no hint holds its name, a synonym, or any other
    finding's spelling."""
    for finding in (_boxed(name, LEFT_LOWER), HintFinding(label=name)):
        ladder = hint_ladder(findings=[finding], views=[PA])
        assert len(ladder) == HINTS_PER_CASE
        for text in ladder:
            assert _spellings_in(text) == [], (name, text)


def test_a_drawn_finding_leads_from_its_system_to_its_place_on_the_view() -> None:
    first, second = hint_ladder(findings=[_boxed("Pneumothorax", RIGHT_APEX)], views=[PA])
    assert first == SYSTEM_HINTS["pleura"]
    assert second == "Look at the right upper zone."


def test_the_place_is_in_the_patients_frame_and_names_the_view_of_a_multi_view_study() -> None:
    _, second = hint_ladder(findings=[_boxed("Nodule", LEFT_LOWER)], views=[PA, LATERAL])
    assert second == "Look at the left lower zone on the PA view."
    _, lateral = hint_ladder(findings=[_boxed("Nodule", LEFT_LOWER, view=2)], views=[PA, LATERAL])
    assert lateral == "Look at the lower zone on the lateral view."


def test_a_central_box_reads_as_the_midline_and_two_regions_as_two_places() -> None:
    _, heart = hint_ladder(findings=[_boxed("Cardiomegaly", [0.33, 0.32, 0.78, 0.66])], views=[PA])
    assert heart == "Look centrally, in the middle third of the chest."
    both = HintFinding(
        label="Effusion", regions=[[LEFT_LOWER], [[0.2, 0.62, 0.38, 0.78]]], region_views=[1, 1]
    )
    _, second = hint_ladder(findings=[both], views=[PA])
    assert second == "Look at the left lower zone, and also at the right lower zone."


def test_a_diffuse_finding_gets_an_area_to_examine_not_a_place() -> None:
    first, second = hint_ladder(findings=[HintFinding(label="Edema")], views=[PA])
    assert first == SYSTEM_HINTS["lungs"] and second == AREA_HINTS["Edema"]
    _, spine = hint_ladder(findings=[HintFinding(label="Scoliosis")], views=[PA])
    assert "spine" in spine
    # A drawable label recorded without a box (an NIH image-level label): its system's area.
    _, area = hint_ladder(findings=[HintFinding(label="Hilar enlargement")], views=[PA])
    assert "hila" in area and "zone" not in area


def test_hints_lead_to_the_most_significant_finding() -> None:
    findings = [_boxed("Granuloma", RIGHT_APEX), _boxed("Pneumothorax", LEFT_LOWER)]
    first, second = hint_ladder(findings=findings, views=[PA])
    assert first == SYSTEM_HINTS["pleura"] and "left lower" in second


def test_a_normal_or_report_only_study_gets_the_search_pattern() -> None:
    assert hint_ladder(findings=[], views=[PA]) == SEARCH_PATTERN_HINTS


def test_an_unknown_label_or_projection_still_gets_a_hint() -> None:
    odd = HintView(image_id=1, projection="Oblique", name="view 1")
    first, second = hint_ladder(findings=[_boxed("Something new", LEFT_LOWER)], views=[odd])
    assert first == SYSTEM_HINTS["other"] and second == "Look at the left lower zone."
