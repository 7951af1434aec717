"""Local models through transformers: loaded once per process from a local directory, never fetched.

torch and transformers are imported inside the functions so that importing this module (or
``ml.vlm``) stays cheap for the web process.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ml.config import ConfigError, MLConfig
from ml.vlm.chat import ChatMessage, message_text
from ml.vlm.errors import BackendResponseError, ModelBackendError

_CACHE: dict[tuple[str, str, str, str], Any] = {}
_CACHE_LOCK = threading.Lock()
# Models belong to the process that loaded them: a forked child (a prefork pool) must load its own,
# since a CUDA context does not survive fork.
_CACHE_PID = os.getpid()


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
        self.load_seconds = 0.0

    def load(self) -> _LocalChatModel:
        raise NotImplementedError

    def encode(self, messages: Sequence[ChatMessage]) -> Any:
        raise NotImplementedError

    def render_prompt(self, messages: Sequence[ChatMessage]) -> str:
        """The prompt text exactly as the chat template renders it (for audits and tests)."""
        raise NotImplementedError

    def complete(self, messages: Sequence[ChatMessage], *, max_new_tokens: int) -> str:
        (answer,) = self.complete_many([messages], max_new_tokens=max_new_tokens)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def complete_many(
        self, conversations: Sequence[Sequence[ChatMessage]], *, max_new_tokens: int
    ) -> list[str | ModelBackendError]:
        """Answer several conversations with one left-padded ``generate()`` call.

        A conversation that cannot be encoded, or that makes generation fail even on its own,
        gets a ModelBackendError in its place; the others are answered.
        """
        answers: list[str | ModelBackendError] = []
        encoded: list[Any] = []
        for messages in conversations:
            try:
                encoded.append(self.encode(messages))
                answers.append("")
            except Exception as exc:
                answers.append(BackendResponseError(f"{self.model_id}: cannot encode: {exc}"))
        texts = iter(self._generate_split(encoded, max_new_tokens))
        return [answer if isinstance(answer, BaseException) else next(texts) for answer in answers]

    def _generate_split(
        self, encoded: list[Any], max_new_tokens: int
    ) -> list[str | ModelBackendError]:
        """Generate for a batch; when the batch fails, halve it until the failing input is alone."""
        if not encoded:
            return []
        try:
            return list(self._generate(encoded, max_new_tokens))
        except Exception as exc:
            if len(encoded) == 1:
                if isinstance(exc, ModelBackendError):
                    return [exc]
                return [ModelBackendError(f"{self.model_id}: {type(exc).__name__}: {exc}")]
            half = len(encoded) // 2
            return self._generate_split(encoded[:half], max_new_tokens) + self._generate_split(
                encoded[half:], max_new_tokens
            )

    def _generate(self, encoded: list[Any], max_new_tokens: int) -> list[str]:
        import torch

        pad_id = self.tokenizer.pad_token_id
        if pad_id is None:
            pad_id = self.tokenizer.eos_token_id
        inputs = encoded[0] if len(encoded) == 1 else left_pad(encoded, pad_id)
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
                raise ModelBackendError(
                    f"{self.model_id}: out of GPU memory (batch of {len(encoded)})"
                ) from exc
        return [
            self.tokenizer.decode(row[prompt_length:], skip_special_tokens=True) for row in output
        ]

    def describe(self) -> dict[str, Any]:
        """What is loaded, where, and how big (for the health task)."""
        parameters = sum(p.numel() for p in self.model.parameters()) if self.model else 0
        return {
            "model_id": self.model_id,
            "path": str(self.path),
            "class": type(self.model).__name__,
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "parameters": parameters,
            "load_seconds": round(self.load_seconds, 3),
        }


def left_pad(encoded: Sequence[Any], pad_token_id: int) -> dict[str, Any]:
    """One batch from separately encoded prompts: sequences padded on the left (generation
    continues every row from its last real token), image tensors concatenated in row order (the
    model scatters image features into the image tokens in that order)."""
    import torch

    length = max(item["input_ids"].shape[-1] for item in encoded)
    batch: dict[str, Any] = {}
    for key in encoded[0]:
        values = [item[key] for item in encoded if key in item and item[key] is not None]
        first = values[0]
        if first.dim() == 2 and first.shape[-1] == encoded[0]["input_ids"].shape[-1]:
            fill = pad_token_id if key == "input_ids" else 0
            padded = torch.full(
                (len(encoded), length), fill, dtype=first.dtype, device=first.device
            )
            for row, item in enumerate(encoded):
                sequence = item[key][0]
                padded[row, length - sequence.shape[-1] :] = sequence
            batch[key] = padded
        else:
            batch[key] = torch.cat(values, dim=0)
    return batch


class LocalVLMChatModel(_LocalChatModel):
    """An image-text-to-text model (MedGemma: Gemma3ForConditionalGeneration) and its processor."""

    def load(self) -> LocalVLMChatModel:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        # B615 (unpinned hub download) does not apply: a local directory, local_files_only=True.
        self.processor = AutoProcessor.from_pretrained(self.path, local_files_only=True)  # nosec B615
        self.tokenizer = self.processor.tokenizer
        model = AutoModelForImageTextToText.from_pretrained(  # nosec B615
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

        # B615 does not apply: a local directory, local_files_only=True.
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)  # nosec B615
        model = AutoModelForCausalLM.from_pretrained(  # nosec B615
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
    global _CACHE_PID
    with _CACHE_LOCK:
        if os.getpid() != _CACHE_PID:
            _CACHE.clear()
            _CACHE_PID = os.getpid()
        if key not in _CACHE:
            chat_model = kind(
                path, device=device, dtype=dtype, generation_timeout_s=config.generation_timeout_s
            )
            started = time.perf_counter()
            _CACHE[key] = chat_model.load()
            chat_model.load_seconds = time.perf_counter() - started
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


def loaded_models() -> list[_LocalChatModel]:
    """The local models this process holds (for the health task)."""
    with _CACHE_LOCK:
        return list(_CACHE.values())


def clear_model_cache() -> None:
    """Forget loaded models (tests; a worker that must free GPU memory)."""
    with _CACHE_LOCK:
        _CACHE.clear()
