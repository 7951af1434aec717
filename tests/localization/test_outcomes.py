"""What a Localize result says finding by finding (the game's input: badges, spaced review)."""

from __future__ import annotations

from apps.localization.models import LocalizationAttempt


def test_hits_found_misses_and_mislabelled_missed_other_false_positives_false() -> None:
    attempt = LocalizationAttempt(
        result={
            "hits": [{"label": "Nodule", "region": 0, "mark": 0, "iou": 0.6}],
            "misses": [{"label": "Effusion", "region": 0}, {"label": "Atelectasis", "region": 0}],
            "false_positives": [{"label": "Mass", "mark": 1}, {"label": "Pneumothorax", "mark": 2}],
            "mislabelled": [
                {"mark": 1, "marked_label": "Mass", "true_label": "Atelectasis", "iou": 0.5}
            ],
        }
    )
    outcomes = attempt.finding_outcomes()
    assert outcomes.found == ("Nodule",)
    assert outcomes.missed == ("Effusion", "Atelectasis")  # once each
    assert outcomes.false == ("Pneumothorax",)  # the mislabelled mark is not also a false find
    assert not outcomes.full_coverage
