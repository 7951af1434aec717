"""The model registry on the tiny MedGemma-architecture models: lazy loading once per process,
batched generation that answers exactly what one-by-one generation answers, bad inputs failing
alone, and the health report."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ml.config import ConfigError, MLConfig
from ml.serving.registry import (
    BatchedChatModel,
    ModelRegistry,
    model_specs,
    registry_for,
    reset_registries,
)
from ml.vlm import ExplainRequest, get_explainer
from ml.vlm.chat import ChatMessage, chat_message, image_part
from ml.vlm.errors import ModelBackendError
from ml.vlm.local_models import LocalVLMChatModel, clear_model_cache

from .test_import_weight import ROOT


@pytest.fixture(autouse=True)
def fresh_process_state() -> Any:
    reset_registries()
    clear_model_cache()
    yield
    reset_registries()
    clear_model_cache()


@pytest.fixture
def config(tiny_vlm_path: Path, tiny_judge_path: Path, media_root: Path) -> MLConfig:
    return MLConfig(
        explainer="transformers",
        judge="transformers",
        vlm_path=tiny_vlm_path,
        judge_path=tiny_judge_path,
        media_root=media_root,
        explain_max_new_tokens=8,
        judge_max_new_tokens=64,
        explain_batch_size=8,
        batch_wait_ms=200,
    )


def conversation(text: str, images: int) -> list[ChatMessage]:
    film = Image.new("RGB", (48, 40), 90)
    return [
        chat_message("system", "You are a radiologist."),
        chat_message("user", *[image_part(film)] * images, text),
    ]


def spy_generate(model: LocalVLMChatModel) -> list[int]:
    """Record the batch size of every generate() call."""
    sizes: list[int] = []
    real: Callable[..., Any] = model.model.generate

    def generate(**kwargs: Any) -> Any:
        sizes.append(int(kwargs["input_ids"].shape[0]))
        return real(**kwargs)

    model.model.generate = generate  # the cache is cleared after each test
    return sizes


def test_specs_say_which_model_serves_which_kind(config: MLConfig) -> None:
    specs = model_specs(config)

    assert specs["explain"].backend == "transformers" and specs["explain"].path == config.vlm_path
    assert specs["explain"].batch_size == 8 and specs["explain"].max_new_tokens == 8
    assert specs["judge"].path == config.judge_path and specs["judge"].batch_size == 4
    knowledge = model_specs(MLConfig())
    assert knowledge["explain"].backend == "knowledge" and not knowledge["explain"].serves_a_model
    assert knowledge["judge"].backend == "none"


def test_nothing_loads_until_the_first_job(config: MLConfig) -> None:
    registry = registry_for(config)

    health = registry.health()
    assert [m["loaded"] for m in health["models"]] == [False, False]

    model = registry.chat_model("explain")
    assert isinstance(model, BatchedChatModel)
    assert registry.is_loaded("explain") and not registry.is_loaded("judge")
    assert registry.chat_model("explain") is model
    assert registry_for(config) is registry
    assert isinstance(get_explainer(config).chat_model, BatchedChatModel)
    assert get_explainer(config).chat_model is model


def test_a_kind_without_a_model_is_refused() -> None:
    with pytest.raises(ConfigError, match="no model serves judge"):
        ModelRegistry(MLConfig()).chat_model("judge")


def test_importing_the_worker_and_reading_health_loads_no_model_library() -> None:
    code = (
        "import json, sys\n"
        "import ml.worker\n"
        "from ml.config import MLConfig\n"
        "from ml.serving.registry import registry_for\n"
        "health = registry_for(MLConfig()).health()\n"
        "print(json.dumps([m for m in ('torch', 'transformers') if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_health_reports_the_loaded_model_device_and_memory(config: MLConfig) -> None:
    registry = registry_for(config)
    registry.chat_model("explain").complete(conversation("Describe.", 1), max_new_tokens=4)

    health = registry.health()

    explain = next(m for m in health["models"] if m["kind"] == "explain")
    assert explain["loaded"] is True
    assert explain["class"] == "Gemma3ForConditionalGeneration"
    assert explain["device"] == "cpu" and explain["dtype"] == "float32"
    assert explain["parameters"] > 1000 and explain["load_seconds"] >= 0
    assert explain["batching"]["4"]["items"] == 1
    assert health["accelerator"]["torch"] and health["accelerator"]["cuda"] is False
    assert health["process_memory_mb"] > 10
    json.dumps(health)  # the health report travels as a job result


def test_one_padded_batch_answers_what_one_by_one_generation_answers(config: MLConfig) -> None:
    batched = registry_for(config).chat_model("explain")
    assert isinstance(batched, BatchedChatModel)
    local = batched.inner
    conversations = [
        conversation("Describe the nodule in the right upper zone in detail please.", 1),
        conversation("Hi.", 2),  # a full image and a crop: two image tensors in one row
        conversation("Compare the two.", 1),
    ]
    alone = [local.complete(c, max_new_tokens=6) for c in conversations]
    sizes = spy_generate(local)

    together = batched.complete_many(conversations, max_new_tokens=6)

    assert sizes == [3]
    assert together == alone


def test_concurrent_jobs_meet_in_one_generate_call(config: MLConfig) -> None:
    explainer = get_explainer(config)
    batched = explainer.chat_model
    assert isinstance(batched, BatchedChatModel)
    sizes = spy_generate(batched.inner)
    barrier = threading.Barrier(4)
    answers: dict[int, str] = {}

    def job(number: int) -> None:
        request = ExplainRequest(
            label="Nodule",
            error="missed",
            box=(0.1 + number * 0.1, 0.2, 0.2 + number * 0.1, 0.3),
            image_path="cases/cxr.png",
        )
        barrier.wait()
        answers[number] = explainer.explain_many([request])[0].backend

    threads = [threading.Thread(target=job, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 4
    assert sum(sizes) == 4 and max(sizes) > 1, sizes


def test_a_prompt_that_cannot_be_encoded_fails_alone(config: MLConfig) -> None:
    batched = registry_for(config).chat_model("explain")
    broken: list[ChatMessage] = [
        {"role": "user", "content": [{"type": "image", "image": "not an image"}]}
    ]

    good, bad = batched.complete_many([conversation("Describe.", 1), broken], max_new_tokens=4)

    assert isinstance(good, str)
    assert isinstance(bad, ModelBackendError) and "cannot encode" in str(bad)


def test_a_batch_that_fails_is_split_until_the_bad_input_is_alone(config: MLConfig) -> None:
    batched = registry_for(config).chat_model("explain")
    assert isinstance(batched, BatchedChatModel)
    local = batched.inner
    poison_length = local.encode(conversation("Poison prompt with many more words.", 1))[
        "input_ids"
    ].shape[-1]
    real: Callable[..., Any] = local.model.generate
    sizes: list[int] = []

    def generate(**kwargs: Any) -> Any:
        sizes.append(int(kwargs["input_ids"].shape[0]))
        lengths = kwargs["attention_mask"].sum(dim=-1).tolist()
        if poison_length in lengths:
            raise RuntimeError("CUDA error: device-side assert triggered")
        return real(**kwargs)

    local.model.generate = generate
    answers = batched.complete_many(
        [
            conversation("One.", 1),
            conversation("Poison prompt with many more words.", 1),
            conversation("Two.", 1),
            conversation("Three.", 1),
        ],
        max_new_tokens=4,
    )

    assert [isinstance(a, str) for a in answers] == [True, False, True, True]
    assert "device-side assert" in str(answers[1])
    assert sizes[0] == 4 and sizes.count(1) >= 1


def test_the_judge_is_served_batched_too(config: MLConfig) -> None:
    from ml.report_metrics.judge import judge_chat_model

    judge = judge_chat_model(config)

    assert isinstance(judge, BatchedChatModel)
    assert judge.inner.describe()["class"] == "Gemma3ForCausalLM"
    texts = judge.complete_many(
        [[chat_message("user", "Compare the reports.")], [chat_message("user", "List errors.")]],
        max_new_tokens=4,
    )
    assert all(isinstance(text, str) for text in texts)


def _child_health(config: MLConfig, out: multiprocessing.Queue) -> None:
    registry = registry_for(config)
    out.put([m["loaded"] for m in registry.health()["models"]])


def test_a_forked_child_does_not_inherit_the_parents_models(config: MLConfig) -> None:
    registry_for(config).chat_model("explain")

    context = multiprocessing.get_context("fork")
    out: multiprocessing.Queue = context.Queue()
    child = context.Process(target=_child_health, args=(config, out))
    child.start()
    child.join(timeout=30)

    assert child.exitcode == 0
    assert out.get(timeout=1) == [False, False]
