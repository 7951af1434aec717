"""Box locations are named in the patient's frame: image left is the patient's right."""

from __future__ import annotations

import pytest

from ml.anatomy import LUNG_BOTTOM, LUNG_TOP, Location, box_location


def test_it_puts_the_image_left_half_on_the_patients_right() -> None:
    location = box_location([0.15, 0.65, 0.30, 0.75])
    assert location == Location("right", "lower", "right lower zone", ("lower",))


def test_it_puts_the_image_right_half_on_the_patients_left() -> None:
    location = box_location([0.70, 0.40, 0.80, 0.50], view="AP")
    assert (location.side, location.zone, location.phrase) == ("left", "mid", "left mid zone")


def test_it_splits_the_lung_fields_into_thirds() -> None:
    third = (LUNG_BOTTOM - LUNG_TOP) / 3
    for index, zone in enumerate(("upper", "mid", "lower")):
        centre = LUNG_TOP + (index + 0.5) * third
        assert box_location([0.2, centre - 0.01, 0.3, centre + 0.01]).zone == zone


def test_it_counts_boxes_outside_the_lung_fields_in_the_nearest_zone() -> None:
    assert box_location([0.2, 0.0, 0.3, 0.05]).zone == "upper"  # the neck
    assert box_location([0.2, 0.9, 0.3, 0.99]).zone == "lower"  # the upper abdomen


def test_it_calls_central_boxes_midline() -> None:
    location = box_location([0.33, 0.32, 0.78, 0.66])  # an NIH cardiomegaly box
    assert location.side == "midline"
    assert location.phrase == "central / mediastinal"


def test_it_calls_boxes_reaching_into_both_lungs_bilateral() -> None:
    location = box_location([0.15, 0.62, 0.85, 0.80])
    assert location.side == "bilateral"
    assert location.phrase == "both lower zones"


def test_it_names_every_zone_a_tall_box_covers() -> None:
    assert box_location([0.02, 0.41, 0.18, 0.79]).phrase == "right mid and lower zones"
    assert box_location([0.73, 0.15, 0.97, 0.79]).phrase == "throughout the left lung"
    assert box_location([0.1, 0.1, 0.9, 0.8]).phrase == "throughout both lungs"


def test_it_gives_lateral_views_no_side() -> None:
    location = box_location([0.1, 0.65, 0.2, 0.75], view="LL")
    assert location.side is None
    assert location.zone == "lower"
    assert location.phrase == "lower zone on the lateral view"
    assert box_location([0.1, 0.65, 0.2, 0.75], view="Lateral").side is None


def test_it_treats_an_unknown_view_of_none_as_frontal() -> None:
    assert box_location([0.1, 0.2, 0.2, 0.3], view=None).side == "right"


def test_it_rejects_unknown_views_and_bad_boxes() -> None:
    with pytest.raises(ValueError, match="Unknown view 'oblique'"):
        box_location([0.1, 0.2, 0.2, 0.3], view="oblique")
    with pytest.raises(ValueError, match="normalised"):
        box_location([0.3, 0.2, 0.2, 0.3])
    with pytest.raises(ValueError, match="four coordinates"):
        box_location([0.1, 0.2, 0.3])
