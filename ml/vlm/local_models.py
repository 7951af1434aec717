"""Local models through transformers: loaded once per process from a local directory, never fetched.

torch and transformers are imported inside the functions so that importing this module (or
``ml.vlm``) stays cheap for the web process.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ml.config import ConfigError, MLConfig
from ml.vlm.chat import ChatMessage, message_text
from ml.vlm.errors import ModelBackendError

_CACHE: dict[tuple[str, str, str, str], Any] = {}
_CACHE_LOCK = threading.Lock()


def resolve_device(device: str) -> str:
    """``auto`` becomes cuda when a GPU is visible, else cpu; asking for cuda without one fails."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"RADGAME_DEVICE={device} but no CUDA device is available")
    return device


def resolve_dtype(dtype: str, device: str) -> Any:
    """``auto`` is bfloat16 on GPUs that support it (float16 on older ones), float32 on CPU."""
    import torch

    if dtype != "auto":
        return getattr(torch, dtype)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def _checked_model_dir(path: Path, variable: str) -> Path:
    if not path.is_dir() or not (path / "config.json").is_file():
        raise ConfigError(f"{variable}={path} is not a saved model directory (no config.json)")
    return path.resolve()


class _LocalChatModel:
    """Shared generation loop; subclasses say how to load and how to turn messages into inputs."""

    backend = "transformers"

    def __init__(self, path: Path, *, device: str, dtype: Any, generation_timeout_s: float) -> None:
        self.path = path
        self.model_id = path.name
        self.device = device
        self.dtype = dtype
        self.generation_timeout_s = generation_timeout_s
        # One generation at a time per model: threads sharing a GPU would only contend for memory.
        self._generate_lock = threading.Lock()
        self.model: Any = None
        self.tokenizer: Any = None

    def load(self) -> _LocalChatModel:
        raise NotImplementedError

    def encode(self, messages: Sequence[ChatMessage]) -> Any:
        raise NotImplementedError

    def render_prompt(self, messages: Sequence[ChatMessage]) -> str:
        """The prompt text exactly as the chat template renders it (for audits and tests)."""
        raise NotImplementedError

    def complete(self, messages: Sequence[ChatMessage], *, max_new_tokens: int) -> str:
        import torch

        inputs = self.encode(messages)
        prompt_length = inputs["input_ids"].shape[-1]
        with self._generate_lock, torch.inference_mode():
            try:
                output = self.model.generate(
                    **inputs,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    max_time=self.generation_timeout_s,
                )
            except torch.cuda.OutOfMemoryError as exc:
                torch.cuda.empty_cache()
                raise ModelBackendError(f"{self.model_id}: out of GPU memory") from exc
        return self.tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True)


class LocalVLMChatModel(_LocalChatModel):
    """An image-text-to-text model (MedGemma: Gemma3ForConditionalGeneration) and its processor."""

    def load(self) -> LocalVLMChatModel:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.processor = AutoProcessor.from_pretrained(self.path, local_files_only=True)
        self.tokenizer = self.processor.tokenizer
        model = AutoModelForImageTextToText.from_pretrained(
            self.path, dtype=self.dtype, local_files_only=True
        )
        self.model = model.to(self.device).eval()
        return self

    def render_prompt(self, messages: Sequence[ChatMessage]) -> str:
        return self.processor.apply_chat_template(
            list(messages), add_generation_prompt=True, tokenize=False
        )

    def encode(self, messages: Sequence[ChatMessage]) -> Any:
        inputs = self.processor.apply_chat_template(
            list(messages),
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
        )
        # BatchFeature.to casts only floating tensors (pixel values) to the model's dtype.
        return inputs.to(self.model.device, dtype=self.model.dtype)


class LocalCausalLMChatModel(_LocalChatModel):
    """A text-only chat model (the judge) and its tokenizer."""

    def load(self) -> LocalCausalLMChatModel:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(
            self.path, dtype=self.dtype, local_files_only=True
        )
        self.model = model.to(self.device).eval()
        return self

    @staticmethod
    def _as_text_messages(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
        # Plain string content is what every chat template accepts; parts lists are not universal.
        return [{"role": message["role"], "content": message_text(message)} for message in messages]

    def render_prompt(self, messages: Sequence[ChatMessage]) -> str:
        return self.tokenizer.apply_chat_template(
            self._as_text_messages(messages), add_generation_prompt=True, tokenize=False
        )

    def encode(self, messages: Sequence[ChatMessage]) -> Any:
        inputs = self.tokenizer.apply_chat_template(
            self._as_text_messages(messages),
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
        )
        return inputs.to(self.model.device)


def _cached(kind: type[_LocalChatModel], path: Path, config: MLConfig) -> Any:
    device = resolve_device(config.device)
    dtype = resolve_dtype(config.dtype, device)
    key = (kind.__name__, str(path), device, str(dtype))
    with _CACHE_LOCK:
        if key not in _CACHE:
            chat_model = kind(
                path, device=device, dtype=dtype, generation_timeout_s=config.generation_timeout_s
            )
            _CACHE[key] = chat_model.load()
        return _CACHE[key]


def load_vlm(config: MLConfig) -> LocalVLMChatModel:
    """The explanation VLM from RADGAME_VLM_PATH, loaded on first use and kept for the process."""
    if config.vlm_path is None:
        raise ConfigError("RADGAME_VLM_PATH is not set")
    path = _checked_model_dir(config.vlm_path, "RADGAME_VLM_PATH")
    return _cached(LocalVLMChatModel, path, config)


def load_judge_lm(config: MLConfig) -> LocalCausalLMChatModel:
    """The judge model from RADGAME_JUDGE_PATH, loaded on first use and kept for the process."""
    if config.judge_path is None:
        raise ConfigError("RADGAME_JUDGE_PATH is not set")
    path = _checked_model_dir(config.judge_path, "RADGAME_JUDGE_PATH")
    return _cached(LocalCausalLMChatModel, path, config)


def clear_model_cache() -> None:
    """Forget loaded models (tests; a worker that must free GPU memory)."""
    with _CACHE_LOCK:
        _CACHE.clear()
