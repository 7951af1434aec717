"""Sentence alignment with the bundled MiniLM (offline; loads once per process, a few seconds)."""

from __future__ import annotations

import os

import pytest

from ml.report_metrics import alignment as alignment_module
from ml.report_metrics import score_many, score_report, validate

REFERENCE = "The heart is normal in size. Small left pleural effusion. No pneumothorax."
CANDIDATE = "There is no pneumothorax. A small effusion on the left. Normal heart size."


@pytest.fixture(scope="module")
def alignment() -> list[dict[str, object]]:
    return score_report(REFERENCE, CANDIDATE, align=True)["alignment"]


def test_each_candidate_sentence_finds_its_counterpart(alignment: list[dict[str, object]]) -> None:
    assert [a["reference_sentence"] for a in alignment] == [2, 1, 0]
    assert [a["candidate_sentence"] for a in alignment] == [0, 1, 2]
    for entry in alignment:
        assert 0.5 < float(entry["cosine"]) <= 1.0  # type: ignore[arg-type]
        start, end = entry["reference_span"]  # type: ignore[misc]
        assert REFERENCE[start:end].endswith(".")


def test_identical_sentences_align_with_cosine_one() -> None:
    (entry,) = score_report("Small left effusion.", "Small left effusion.", align=True)["alignment"]

    assert entry["cosine"] == pytest.approx(1.0, abs=1e-3)


def test_loading_the_model_forces_the_hub_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # conftest sets these for every test, so remove them to see the loader set them itself.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    alignment_module._model.cache_clear()

    alignment_module._model()

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_batch_alignment_matches_single_alignment(alignment: list[dict[str, object]]) -> None:
    (batch,) = score_many([validate(REFERENCE, CANDIDATE)], align=True)

    assert [a["reference_sentence"] for a in batch["alignment"]] == [
        a["reference_sentence"] for a in alignment
    ]
    for single, batched in zip(alignment, batch["alignment"], strict=True):
        assert batched["cosine"] == pytest.approx(single["cosine"], abs=1e-3)
