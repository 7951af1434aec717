"""Style criteria: coverage of the regions, concision, hedging, redundancy, contradictions."""

from __future__ import annotations

import pytest

from ml.report_metrics import score_report

SYSTEMATIC = (
    "The lungs are clear. No pleural effusion or pneumothorax. Heart size is normal and the "
    "mediastinum is unremarkable. The hila are normal. Osseous structures are intact. Soft "
    "tissues are unremarkable."
)


def style(candidate: str, reference: str = SYSTEMATIC) -> dict[str, dict[str, object]]:
    return score_report(reference, candidate)["style"]


def test_a_systematic_report_covers_every_region() -> None:
    criteria = style(SYSTEMATIC)

    assert criteria["coverage"]["score"] == 1.0
    assert criteria["coverage"]["missing"] == []
    assert score_report(SYSTEMATIC, SYSTEMATIC)["style_score"] == 1.0


def test_missing_regions_are_named() -> None:
    criteria = style("The lungs are clear. No pneumothorax.")

    assert criteria["coverage"]["missing"] == [
        "heart and mediastinum",
        "hila",
        "bones",
        "soft tissues",
    ]
    assert criteria["coverage"]["score"] == pytest.approx(2 / 6, abs=1e-4)
    assert "hila" in str(criteria["coverage"]["reason"])


def test_devices_are_required_only_when_the_reference_has_them() -> None:
    with_line = SYSTEMATIC + " Right IJ central venous catheter tip in the SVC."

    assert "lines and devices" in style(SYSTEMATIC, reference=with_line)["coverage"]["missing"]
    assert style(with_line, reference=with_line)["coverage"]["score"] == 1.0
    assert "lines and devices" not in style(SYSTEMATIC)["coverage"]["missing"]


def test_hedging_density_is_penalised() -> None:
    hedged = (
        "Possible opacity may represent atelectasis. Heart could be enlarged, cannot exclude "
        "effusion. Questionable nodule, possibly a nipple shadow."
    )

    assert style(hedged)["hedging"]["score"] < 0.5
    assert style(SYSTEMATIC)["hedging"]["score"] == 1.0


def test_a_rambling_report_loses_concision() -> None:
    rambling = " ".join(
        ["It is noted that there is evidence of clear lungs bilaterally in this study."] * 12
    )
    criteria = style(rambling)

    assert criteria["concision"]["score"] < 0.5
    assert "filler" in str(criteria["concision"]["reason"])


def test_repeated_statements_are_redundant() -> None:
    repeated = "Small left effusion. No pneumothorax. Small left effusion is present."

    assert style(repeated)["redundancy"]["score"] < 1.0
    assert style(SYSTEMATIC)["redundancy"]["score"] == 1.0


def test_contradictions_between_sentences_are_found() -> None:
    both_ways = style("No pleural effusion. There is a small pleural effusion.")
    clear_but_not = style("The lungs are clear. Left lower lobe consolidation.")
    different_sides = style("No right effusion. Small left effusion.")
    with_exception = style("Left lower lobe consolidation. The lungs are otherwise clear.")

    assert both_ways["contradictions"]["score"] == 0.5
    assert "Effusion" in str(both_ways["contradictions"]["reason"])
    assert clear_but_not["contradictions"]["score"] == 0.5
    assert different_sides["contradictions"]["score"] == 1.0
    assert with_exception["contradictions"]["score"] == 1.0


def test_every_criterion_has_a_score_weight_and_reason() -> None:
    criteria = style("Small left effusion.")

    assert set(criteria) == {"coverage", "concision", "hedging", "redundancy", "contradictions"}
    for criterion in criteria.values():
        assert 0.0 <= float(criterion["score"]) <= 1.0  # type: ignore[arg-type]
        assert float(criterion["weight"]) > 0  # type: ignore[arg-type]
        assert isinstance(criterion["reason"], str) and criterion["reason"]
