"""The local VLM backend, run for real on a tiny random MedGemma-architecture model.

Random weights write random text, so the tests assert on structure (what reached generate(), which
backend wrote the answer) and script the generated tokens where the text itself matters.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from ml.config import ConfigError, MLConfig
from ml.serving.registry import BatchedChatModel
from ml.vlm import ExplainRequest, get_explainer
from ml.vlm.local_models import LocalVLMChatModel, load_vlm, resolve_device, resolve_dtype
from ml.vlm.model_explainer import ModelExplainer
from ml.vlm.prompts import PROMPT_VERSION

from .conftest import TINY_IMAGE_SIDE, TINY_IMAGE_TOKENS

MISSED_NODULE = ExplainRequest(
    label="Nodule",
    error="missed",
    box=(0.15, 0.2, 0.3, 0.35),
    image_path="cases/cxr.png",
    sentence="Right upper zone nodule.",
    age=61,
    sex="M",
)


@pytest.fixture
def vlm_config(tiny_vlm_path: Path, media_root: Path) -> MLConfig:
    return MLConfig(
        explainer="transformers",
        vlm_path=tiny_vlm_path,
        media_root=media_root,
        explain_max_new_tokens=12,
    )


@pytest.fixture
def explainer(vlm_config: MLConfig) -> ModelExplainer:
    built = get_explainer(vlm_config)
    assert isinstance(built, ModelExplainer)
    return built


def local_model(explainer: ModelExplainer) -> LocalVLMChatModel:
    """The local model behind an explainer's batching front."""
    batched = explainer.chat_model
    assert isinstance(batched, BatchedChatModel)
    assert isinstance(batched.inner, LocalVLMChatModel)
    return batched.inner


def record_generate(
    monkeypatch: pytest.MonkeyPatch, chat_model: LocalVLMChatModel, answer: str | None = None
) -> list[dict[str, Any]]:
    """Record every generate() call; with ``answer``, generate those tokens instead of sampling."""
    calls: list[dict[str, Any]] = []
    real_generate: Callable[..., Any] = chat_model.model.generate

    def generate(**kwargs: Any) -> Any:
        calls.append(kwargs)
        if answer is None:
            return real_generate(**kwargs)
        prompt = kwargs["input_ids"]
        tokens = chat_model.tokenizer(answer, add_special_tokens=False)["input_ids"]
        tokens = [*tokens, chat_model.tokenizer.convert_tokens_to_ids("<end_of_turn>")]
        return torch.cat([prompt, torch.tensor([tokens], device=prompt.device)], dim=-1)

    monkeypatch.setattr(chat_model.model, "generate", generate)
    return calls


def test_the_model_is_loaded_once_per_process(vlm_config: MLConfig) -> None:
    first = load_vlm(vlm_config)
    second = get_explainer(vlm_config)

    assert isinstance(second, ModelExplainer)
    assert local_model(second) is first
    assert type(first.model).__name__ == "Gemma3ForConditionalGeneration"
    assert first.model_id == "tiny-medgemma"


def test_real_generation_sees_both_images_and_the_prompt(
    explainer: ModelExplainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat_model = local_model(explainer)
    calls = record_generate(monkeypatch, chat_model)

    explanation = explainer.explain(MISSED_NODULE)

    (call,) = calls
    image_token = chat_model.model.config.image_token_id
    assert call["pixel_values"].shape == (2, 3, TINY_IMAGE_SIDE, TINY_IMAGE_SIDE)
    assert int((call["input_ids"] == image_token).sum()) == 2 * TINY_IMAGE_TOKENS
    assert call["max_new_tokens"] == 12
    assert call["do_sample"] is False
    assert call["max_time"] == pytest.approx(120.0)
    # Random weights: either the text passed the readability guard or the knowledge base wrote it.
    if explanation.backend == "transformers":
        assert explanation.model_id == "tiny-medgemma"
        assert explanation.prompt_version == PROMPT_VERSION
        assert explanation.fallback_reason is None
    else:
        assert explanation.backend == "knowledge"
        assert explanation.text.startswith(
            "You missed a nodule in the right upper zone (the patient's right, on the left of the image)."
        )
        assert explanation.fallback_reason is not None
        assert explanation.fallback_reason.startswith("transformers:tiny-medgemma")


def test_the_prompt_carries_the_finding_location_and_error(
    explainer: ModelExplainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat_model = local_model(explainer)
    calls = record_generate(monkeypatch, chat_model, answer="A clear sentence about it.")

    explainer.explain(MISSED_NODULE)
    prompt = chat_model.tokenizer.decode(calls[0]["input_ids"][0])

    assert prompt.startswith("<bos><start_of_turn>user\nYou are a consultant radiologist")
    assert prompt.count("<start_of_image>") == 2
    assert "Finding: Nodule (" in prompt
    assert "Where: in the right upper zone" in prompt
    assert "Patient: 61-year-old male." in prompt
    assert 'Reference report sentence: "Right upper zone nodule."' in prompt
    assert "The resident missed this Nodule." in prompt
    assert prompt.rstrip().endswith("<start_of_turn>model")


def test_a_readable_answer_is_cleaned_and_cut_to_two_sentences(
    explainer: ModelExplainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat_model = local_model(explainer)
    answer = (
        "**Look at the right upper zone.** A round opacity sits above the hilum "
        "(see https://example.org). It is about two centimetres across."
    )
    record_generate(monkeypatch, chat_model, answer=answer)

    explanation = explainer.explain(MISSED_NODULE)

    assert explanation.text == "Look at the right upper zone. A round opacity sits above the hilum."
    assert explanation.backend == "transformers"
    assert explanation.model_id == "tiny-medgemma"
    assert explanation.prompt_version == PROMPT_VERSION


@pytest.mark.parametrize("answer", ["", "<<<<<<<<", "zonzonzonzonzon neuneu"])
def test_empty_or_garbage_answers_fall_back_to_the_knowledge_base(
    explainer: ModelExplainer, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    chat_model = local_model(explainer)
    record_generate(monkeypatch, chat_model, answer=answer)

    explanation = explainer.explain(MISSED_NODULE)

    assert explanation.backend == "knowledge"
    assert explanation.model_id == "knowledge-base"
    assert explanation.text.startswith(
        "You missed a nodule in the right upper zone (the patient's right, on the left of the image)."
    )
    assert explanation.fallback_reason == (
        "transformers:tiny-medgemma: the model's answer was empty or unreadable"
    )


def test_requests_without_an_image_are_asked_as_text(
    explainer: ModelExplainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat_model = local_model(explainer)
    calls = record_generate(monkeypatch, chat_model)
    request = ExplainRequest(label="Emphysema", error="false_positive", marked_label="Emphysema")

    explainer.explain(request)

    assert "pixel_values" not in calls[0]


def test_a_missing_image_falls_back_without_calling_the_model(
    explainer: ModelExplainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat_model = local_model(explainer)
    calls = record_generate(monkeypatch, chat_model)
    request = ExplainRequest(label="Nodule", error="missed", image_path="cases/gone.png")

    explanation = explainer.explain(request)

    assert calls == []
    assert explanation.backend == "knowledge"
    assert explanation.fallback_reason is not None
    assert "image unavailable" in explanation.fallback_reason


def test_explain_many_answers_each_request_in_order(explainer: ModelExplainer) -> None:
    requests = [MISSED_NODULE, ExplainRequest(label="Emphysema", error="missed")]

    explanations = explainer.explain_many(requests)

    assert len(explanations) == 2
    assert all(explanation.text for explanation in explanations)


def test_model_directories_are_checked_before_loading(tmp_path: Path, media_root: Path) -> None:
    (tmp_path / "empty").mkdir()
    for path in (tmp_path / "missing", tmp_path / "empty"):
        config = MLConfig(explainer="transformers", vlm_path=path, media_root=media_root)
        with pytest.raises(ConfigError, match="RADGAME_VLM_PATH"):
            get_explainer(config)


def test_device_auto_prefers_cuda_with_bfloat16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)

    assert resolve_device("auto") == "cuda"
    assert resolve_dtype("auto", "cuda") == torch.bfloat16
    assert resolve_dtype("float16", "cuda") == torch.float16


def test_device_auto_falls_back_to_cpu_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    assert resolve_device("auto") == "cpu"
    assert resolve_dtype("auto", "cpu") == torch.float32
    with pytest.raises(ConfigError, match="RADGAME_DEVICE=cuda"):
        resolve_device("cuda")


def test_half_precision_casts_the_pixels_to_the_model_dtype(
    vlm_config: MLConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The GPU default is bfloat16; on CPU the same cast path runs with an explicit dtype.
    config = MLConfig(**{**vlm_config.__dict__, "device": "cpu", "dtype": "bfloat16"})
    chat_model = load_vlm(config)
    calls = record_generate(monkeypatch, chat_model)
    assert config.media_root is not None

    ModelExplainer(
        chat_model, media_root=config.media_root, with_crop=True, max_new_tokens=4
    ).explain(MISSED_NODULE)

    assert chat_model.model.dtype == torch.bfloat16
    assert calls[0]["pixel_values"].dtype == torch.bfloat16
    assert calls[0]["input_ids"].dtype == torch.long
