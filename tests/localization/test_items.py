"""The explanation item key: written and read by one type only."""

from __future__ import annotations

import pytest

from apps.localization.items import ExplanationItem

ITEMS = [
    ExplanationItem.reference(7),
    ExplanationItem.missed(12),
    ExplanationItem.false_positive(3, "Nodule"),
    ExplanationItem.false_positive(None, "Emphysema: upper zones"),
    ExplanationItem.mislabelled(0),
]


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item.key)
def test_every_item_round_trips_through_its_key(item: ExplanationItem) -> None:
    assert ExplanationItem.parse(item.key) == item


def test_the_keys_are_the_stored_spelling() -> None:
    assert [item.key for item in ITEMS] == [
        "ref:7", "missed:12", "fp:3", "fp:select:Emphysema: upper zones", "mislabelled:0",
    ]  # fmt: skip


@pytest.mark.parametrize("key", ["", "reference", "missed:x", "fp:", "mislabelled:-1", "ref:1:2"])
def test_anything_else_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="not an explanation item"):
        ExplanationItem.parse(key)
