"""Sentence splitting on radiology text: abbreviations, decimals, lists, headings, line breaks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ml.report_metrics.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Nodule measures approx. 2.5 cm. No effusion.",
            ["Nodule measures approx. 2.5 cm.", "No effusion."],
        ),
        (
            "Atelectasis vs. Pneumonia at the base. Heart normal.",
            ["Atelectasis vs. Pneumonia at the base.", "Heart normal."],
        ),
        (
            "Opacity, e.g. Atelectasis, at the left base. Heart normal.",
            ["Opacity, e.g. Atelectasis, at the left base.", "Heart normal."],
        ),
        ("A 2 cm. nodule is seen. No effusion.", ["A 2 cm. nodule is seen.", "No effusion."]),
        ("Portable AP. The heart is normal.", ["Portable AP.", "The heart is normal."]),
        (
            "1. Small left effusion. 2. No pneumothorax.\n3) Stable heart",
            ["Small left effusion.", "No pneumothorax.", "Stable heart"],
        ),
        (
            "Findings: 1. Small left effusion 2. No pneumothorax.",
            ["Small left effusion", "No pneumothorax."],
        ),
        (
            "FINDINGS:\nLungs clear\nHeart normal\n\n- no effusion\n- no pneumothorax",
            ["Lungs clear", "Heart normal", "no effusion", "no pneumothorax"],
        ),
        ("Is there a fracture? No. Really!", ["Is there a fracture?", "No.", "Really!"]),
        (
            "Fracture of ribs 4 and 5. No pneumothorax.",
            ["Fracture of ribs 4 and 5.", "No pneumothorax."],
        ),
        (
            "Heart is normal. 9 mm nodule at the left apex. No effusion. 2.5 x 2 cm mass.",
            [
                "Heart is normal.",
                "9 mm nodule at the left apex.",
                "No effusion.",
                "2.5 x 2 cm mass.",
            ],
        ),
        (
            "Lungs clear. 10 - 12 mm rounded density in the lingula.",
            ["Lungs clear.", "10 - 12 mm rounded density in the lingula."],
        ),
        ("The nodule measures 1. 5 cm today.", ["The nodule measures 1. 5 cm today."]),
    ],
)
def test_splits_where_a_radiologist_would(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_blank_text_has_no_sentences() -> None:
    assert split_sentences("  \n\t ") == ()


@given(st.text(alphabet=st.sampled_from("ab. \n1)-:;ACE?"), max_size=80))
def test_spans_are_ordered_trimmed_and_inside_the_text(text: str) -> None:
    spans = split_sentences(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
        previous_end = end
