"""The Localize JSON shapes parse into canonical, validated objects or fail naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from ml.boxes import (
    BoxError,
    InputError,
    Mark,
    Marks,
    Reference,
    ReferenceFinding,
    Region,
    model,
    parse_marks,
    parse_reference,
)


def test_it_parses_a_reference_with_canonical_labels_and_reader_alternatives() -> None:
    reference = parse_reference(
        {
            "findings": [
                {
                    "label": "Pleural Effusion",
                    "localizable": True,
                    "regions": [[[0.1, 0.5, 0.3, 0.8], [0.12, 0.5, 0.3, 0.82]]],
                },
                {"label": "Infiltrate", "regions": [[0.6, 0.2, 0.8, 0.4]]},
                {"label": "emphysema", "localizable": False},
            ],
            "iou_threshold": 0.4,
        }
    )
    assert reference.findings == (
        ReferenceFinding(
            "Effusion", True, (Region(((0.1, 0.5, 0.3, 0.8), (0.12, 0.5, 0.3, 0.82))),)
        ),
        ReferenceFinding("Infiltration", True, (Region(((0.6, 0.2, 0.8, 0.4),)),)),
        ReferenceFinding("Emphysema", False, ()),
    )
    assert reference.iou_threshold == 0.4
    assert [(r.label, r.finding, r.index) for r in reference.regions] == [
        ("Effusion", 0, 0),
        ("Infiltration", 1, 0),
    ]
    assert reference.select_labels == ("Emphysema",)


def test_it_treats_findings_without_regions_as_select_findings() -> None:
    reference = parse_reference({"findings": [{"label": "Cardiomegaly"}]})
    assert reference.findings == (ReferenceFinding("Cardiomegaly", False, ()),)


def test_it_skips_no_finding_entries_and_reads_an_empty_reference_as_normal() -> None:
    assert parse_reference({"findings": [{"label": "No Finding"}]}).is_normal
    assert parse_reference({}).is_normal
    assert parse_reference({"findings": []}) == Reference()


def test_it_parses_marks_with_confidence_selected_and_normal() -> None:
    marks = parse_marks(
        {
            "boxes": [
                {"label": "nodule", "box": [0.1, 0.1, 0.2, 0.2], "confidence": 4},
                {"label": "Mass", "x": 0.5, "y": 0.5, "w": 0.2, "h": 0.1},
            ],
            "selected": ["Emphysema", "emphysema", "No finding", "Hyperinflation"],
        }
    )
    assert marks == Marks(
        (
            Mark("Nodule", (0.1, 0.1, 0.2, 0.2), 4),
            Mark("Mass", (0.5, 0.5, 0.7, 0.6), None),
        ),
        ("Emphysema", "Hyperinflation"),
        True,
    )


def test_it_clamps_only_rounding_past_the_image_edge_in_viewer_boxes() -> None:
    marks = parse_marks({"boxes": [{"label": "Mass", "x": 0.7, "y": 0.1, "w": 0.3, "h": 0.9}]})
    assert marks.boxes[0].box[2] <= 1.0 and marks.boxes[0].box[3] <= 1.0
    with pytest.raises(BoxError, match=r"boxes\[0\]\.box"):
        parse_marks({"boxes": [{"label": "Mass", "x": 0.8, "y": 0.1, "w": 0.3, "h": 0.2}]})


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        ([], "reference", "expected an object"),
        ({"findings": {}}, "findings", "expected a list"),
        ({"findings": ["Effusion"]}, "findings[0]", "expected an object"),
        ({"findings": [{"label": "Efusion"}]}, "findings[0].label", "Did you mean: Effusion"),
        ({"findings": [{"label": 3}]}, "findings[0].label", "expected a label name"),
        (
            {"findings": [{"label": "Mass", "regions": [[0.1, 0.2, 0.3]]}]},
            "findings[0].regions[0]",
            "expected 4 numbers",
        ),
        (
            {
                "findings": [
                    {"label": "Mass", "regions": [[[0.1, 0.2, 0.3, 0.4], [0.5, 0, 0.4, 1]]]}
                ]
            },
            "findings[0].regions[0][1]",
            "x1 < x2",
        ),
        ({"findings": [{"label": "Mass", "regions": [[]]}]}, "findings[0].regions[0]", "at least"),
        (
            {"findings": [{"label": "Mass", "localizable": True}]},
            "findings[0].regions",
            "needs at least one region",
        ),
        (
            {"findings": [{"label": "Mass", "localizable": False, "regions": [[0, 0, 1, 1]]}]},
            "findings[0].regions",
            "has no regions",
        ),
        (
            {"findings": [{"label": "Mass", "localizable": "yes", "regions": [[0, 0, 1, 1]]}]},
            "findings[0].localizable",
            "true or false",
        ),
        (
            {
                "findings": [
                    {"label": "Effusion", "regions": [[0, 0, 1, 1]]},
                    {"label": "Pleural effusion", "localizable": False},
                ]
            },
            "findings[1].localizable",
            "both as a drawn and as a selected",
        ),
        ({"iou_threshold": 0}, "iou_threshold", "(0, 1]"),
        ({"iou_threshold": 1.5}, "iou_threshold", "(0, 1]"),
        ({"iou_threshold": True}, "iou_threshold", "(0, 1]"),
    ],
)
def test_it_rejects_malformed_references_naming_the_field(
    data: Any, field: str, problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_reference(data)
    assert caught.value.field == field
    assert problem in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        ("boxes", "marks", "expected an object"),
        ({"boxes": {}}, "boxes", "expected a list"),
        ({"boxes": [{"label": "Nodule"}]}, "boxes[0].box", "expected a box"),
        ({"boxes": [{"box": [0, 0, 1, 1]}]}, "boxes[0].label", "expected a label name"),
        (
            {"boxes": [{"label": "Nodle", "box": [0, 0, 1, 1]}]},
            "boxes[0].label",
            "Unknown finding label 'Nodle'",
        ),
        (
            {
                "boxes": [
                    {"label": "Nodule", "box": [0, 0, 1, 1]},
                    {"label": "Nodule", "box": [1, 1, 0, 0]},
                ]
            },
            "boxes[1].box",
            "x1 < x2",
        ),
        (
            {"boxes": [{"label": "Nodule", "box": [0, 0, 1, 1], "confidence": 6}]},
            "boxes[0].confidence",
            "1 to 5",
        ),
        (
            {"boxes": [{"label": "Nodule", "box": [0, 0, 1, 1], "confidence": 2.5}]},
            "boxes[0].confidence",
            "1 to 5",
        ),
        (
            {"boxes": [{"label": "Nodule", "x": 0, "y": "0", "w": 1, "h": 1}]},
            "boxes[0].y",
            "expected a number",
        ),
        ({"selected": "Emphysema"}, "selected", "expected a list"),
        ({"selected": ["Emphysema", "Emfysema"]}, "selected[1]", "Unknown finding label"),
    ],
)
def test_it_rejects_malformed_marks_naming_the_field(data: Any, field: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_marks(data)
    assert caught.value.field == field
    assert problem in str(caught.value)


def test_it_takes_the_fast_path_for_plain_input_and_hands_the_rest_over() -> None:
    # The properties check the two paths agree; this checks the fast one is really used.
    assert model._fast_finding({"label": "Nodule", "regions": [[0.1, 0.2, 0.3, 0.4]]}) is not None
    assert model._fast_finding({"label": "Emphysema", "localizable": False}) is not None
    assert model._fast_mark({"label": "Mass", "box": [0.1, 0.2, 0.3, 0.4], "confidence": 3})
    assert model._fast_finding({"label": "Nodule", "regions": [[0, 0, 1, 1]]}) is None  # ints
    assert model._fast_finding({"label": "No Finding"}) is None
    assert model._fast_mark({"label": "Mass", "box": [0.1, 0.2, 0.3, 0.4], "confidence": 9}) is None


def test_it_carries_finding_ids_on_both_paths_and_refuses_odd_ones() -> None:
    reference = parse_reference(
        {
            "findings": [
                {"label": "Nodule", "regions": [[0.1, 0.2, 0.3, 0.4]], "id": 7},
                {"label": "Pleural effusion", "localizable": False, "id": "f-8"},  # careful path
            ]
        }
    )
    assert [f.id for f in reference.findings] == [7, "f-8"]
    with pytest.raises(InputError, match=r"findings\[0\]\.id"):
        parse_reference({"findings": [{"label": "Nodule", "localizable": False, "id": [1]}]})
    with pytest.raises(InputError, match=r"findings\[0\]\.id"):
        parse_reference({"findings": [{"label": "Nodule", "localizable": False, "id": True}]})


def test_presence_only_means_a_drawn_label_recorded_without_a_place() -> None:
    reference = parse_reference(
        {
            "findings": [
                {"label": "Infiltration", "localizable": False},  # NIH image-level label
                {"label": "Emphysema", "localizable": False},  # a checklist finding
                {"label": "Nodule", "regions": [[0.1, 0.2, 0.3, 0.4]]},
            ]
        }
    )
    assert [f.presence_only for f in reference.findings] == [True, False, False]
    assert reference.presence_labels == {"Infiltration"}


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        ({"boxes": [], "selcted": ["Edema"]}, "selcted", "unknown field"),
        ({"boxes": [], "selected": "Edema"}, "selected", "expected a list"),
        ({"selected": ["Edema", 3]}, "selected[1]", "expected a label name"),
        (
            {"boxes": [{"label": "Nodule", "box": [0.1, 0.1, 0.2, 0.2], "colour": "red"}]},
            "boxes[0].colour",
            "unknown field",
        ),
        ({"boxes": [{"label": "Nodule", "box": "0.1,0.1,0.2,0.2"}]}, "boxes[0].box", "list"),
        ({"boxes": [{"label": 5, "box": [0.1, 0.1, 0.2, 0.2]}]}, "boxes[0].label", "label name"),
        (
            {"boxes": [{"label": "No finding", "box": [0.1, 0.1, 0.2, 0.2]}]},
            "boxes[0].label",
            "normal study",
        ),
        (
            {"boxes": [{"label": "Nodule", "box": [0.1, 0.1, 0.2, 0.2], "confidence": "4"}]},
            "boxes[0].confidence",
            "integer",
        ),
    ],
)
def test_a_strict_parse_refuses_unknown_and_mistyped_fields_naming_them(
    data: Any, field: str, problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_marks(data, strict=True)
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_a_lenient_parse_keeps_extra_fields_welcome() -> None:
    data = {"boxes": [{"label": "Nodule", "box": [0.1, 0.1, 0.2, 0.2], "note": "x"}], "v": 2}
    assert parse_marks(data).boxes[0].label == "Nodule"
    with pytest.raises(InputError):
        parse_marks(data, strict=True)
