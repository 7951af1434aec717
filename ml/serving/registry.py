"""Which model serves which job kind, loaded once per worker process on that kind's first job.

The configuration (``ml.config.MLConfig``) names a backend per job kind; :func:`model_specs` turns
it into one :class:`ModelSpec` per kind, and :class:`ModelRegistry` holds the live models. Nothing
loads when a registry is built, when this module is imported, or in a parent process before it
forks its pool: a model loads on the first job that needs it, in the process that runs the job. A
registry built before a fork is dropped in the child (its models belong to the parent's device
context).

Local (``transformers``) models are served through :class:`BatchedChatModel`: concurrent jobs of
one kind meet in a :class:`~ml.serving.batching.BatchCollector` and share one padded
``generate()`` call. ``openai`` endpoints batch on the server (vLLM and TGI batch continuously), so
their calls go straight out, concurrently from the worker's threads.
"""

from __future__ import annotations

import os
import platform
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from ml.config import ConfigError, MLConfig
from ml.serving.batching import BatchCollector
from ml.vlm.chat import ChatMessage, ChatModel
from ml.vlm.errors import BackendUnavailableError, ModelBackendError

JobKind = Literal["explain", "judge"]
JOB_KINDS: tuple[JobKind, ...] = ("explain", "judge")
# The task names (ml.contracts.TASKS) whose handlers use each kind's model.
TASK_KINDS: dict[str, JobKind] = {"ml.vlm.explain": "explain", "ml.report.judge": "judge"}


@dataclass(frozen=True)
class ModelSpec:
    """One job kind's model as configured: enough to load it and to describe it."""

    kind: JobKind
    backend: str  # knowledge | none | transformers | openai
    path: Path | None
    endpoint_model: str | None
    device: str
    dtype: str
    max_new_tokens: int
    batch_size: int
    batch_wait_ms: float
    timeout_s: float

    @property
    def serves_a_model(self) -> bool:
        return self.backend in ("transformers", "openai")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path) if self.path else None
        return data


def model_specs(config: MLConfig) -> dict[JobKind, ModelSpec]:
    """The model of each job kind that ``config`` names."""
    return {
        "explain": _spec(
            config,
            kind="explain",
            backend=config.explainer,
            path=config.vlm_path,
            endpoint_model=config.openai_model,
            max_new_tokens=config.explain_max_new_tokens,
            batch_size=config.explain_batch_size,
        ),
        "judge": _spec(
            config,
            kind="judge",
            backend=config.judge,
            path=config.judge_path,
            endpoint_model=config.judge_openai_model,
            max_new_tokens=config.judge_max_new_tokens,
            batch_size=config.judge_batch_size,
        ),
    }


def _spec(
    config: MLConfig,
    *,
    kind: JobKind,
    backend: str,
    path: Path | None,
    endpoint_model: str | None,
    max_new_tokens: int,
    batch_size: int,
) -> ModelSpec:
    """One rule for both kinds: device, dtype, path and batching only for a local model; the
    endpoint's model name only for the openai backend."""
    local = backend == "transformers"
    return ModelSpec(
        kind=kind,
        backend=backend,
        path=path if local else None,
        endpoint_model=endpoint_model if backend == "openai" else None,
        device=config.device if local else "none",
        dtype=config.dtype if local else "none",
        max_new_tokens=max_new_tokens,
        batch_size=batch_size if local else 1,
        batch_wait_ms=config.batch_wait_ms if local else 0.0,
        timeout_s=config.generation_timeout_s if local else config.openai_timeout_s,
    )


class BatchedChatModel:
    """A local chat model behind batch collectors (one per ``max_new_tokens`` value, so a batch
    never generates longer than any of its prompts asked for)."""

    def __init__(self, inner: Any, *, max_batch: int, max_wait_s: float, timeout_s: float) -> None:
        self.inner = inner
        self.backend: str = inner.backend
        self.model_id: str = inner.model_id
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        # A prompt may wait behind one running batch before its own runs.
        self.timeout_s = 2 * timeout_s + max_wait_s + 5
        self._collectors: dict[int, BatchCollector[Any, str]] = {}
        self._lock = threading.Lock()

    def _collector(self, max_new_tokens: int) -> BatchCollector[Any, str]:
        with self._lock:
            collector = self._collectors.get(max_new_tokens)
            if collector is None:

                def run(conversations: list[Any]) -> list[str | ModelBackendError]:
                    return self.inner.complete_many(conversations, max_new_tokens=max_new_tokens)

                collector = BatchCollector(
                    run,
                    max_batch=self.max_batch,
                    max_wait_s=self.max_wait_s,
                    name=f"{self.model_id}/{max_new_tokens}",
                )
                self._collectors[max_new_tokens] = collector
            return collector

    def complete(self, messages: Sequence[ChatMessage], *, max_new_tokens: int) -> str:
        (answer,) = self.complete_many([messages], max_new_tokens=max_new_tokens)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def complete_many(
        self, conversations: Sequence[Sequence[ChatMessage]], *, max_new_tokens: int
    ) -> list[str | ModelBackendError]:
        futures = self._collector(max_new_tokens).submit_many(list(conversations))
        deadline = time.monotonic() + self.timeout_s
        answers: list[str | ModelBackendError] = []
        for future in futures:
            try:
                answers.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
            except FutureTimeout:
                future.cancel()
                answers.append(
                    BackendUnavailableError(f"{self.model_id}: no answer in {self.timeout_s:g}s")
                )
            except ModelBackendError as exc:
                answers.append(exc)
        return answers

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {str(tokens): c.stats() for tokens, c in sorted(self._collectors.items())}


class ModelRegistry:
    """The models of one configuration in one process; see the module docstring."""

    def __init__(self, config: MLConfig) -> None:
        self.config = config
        self.specs = model_specs(config)
        self._models: dict[JobKind, ChatModel] = {}
        self._lock = threading.Lock()

    def spec(self, kind: JobKind) -> ModelSpec:
        return self.specs[kind]

    def is_loaded(self, kind: JobKind) -> bool:
        return kind in self._models

    def chat_model(self, kind: JobKind) -> ChatModel:
        """The model serving ``kind``, loaded now if this is its first job in this process."""
        model = self._models.get(kind)
        if model is not None:
            return model
        with self._lock:
            if kind not in self._models:
                self._models[kind] = self._load(self.specs[kind])
            return self._models[kind]

    def _load(self, spec: ModelSpec) -> ChatModel:
        if spec.backend == "openai":
            from ml.vlm.openai_client import OpenAIChatModel

            if spec.kind == "explain":
                return OpenAIChatModel.for_explainer(self.config)
            return OpenAIChatModel.for_judge(self.config)
        if spec.backend != "transformers":
            raise ConfigError(f"no model serves {spec.kind} jobs (backend {spec.backend})")
        from ml.vlm.local_models import load_judge_lm, load_vlm

        inner = load_vlm(self.config) if spec.kind == "explain" else load_judge_lm(self.config)
        return BatchedChatModel(
            inner,
            max_batch=spec.batch_size,
            max_wait_s=spec.batch_wait_ms / 1000,
            timeout_s=spec.timeout_s,
        )

    def health(self) -> dict[str, Any]:
        """What this process serves: per job kind the configured model, whether it is loaded, its
        device, size and batching so far; the device's memory; the process's memory."""
        models = []
        for kind, spec in self.specs.items():
            entry: dict[str, Any] = {**spec.to_dict(), "loaded": kind in self._models}
            model = self._models.get(kind)
            if isinstance(model, BatchedChatModel):
                entry.update(model.inner.describe())
                entry["batching"] = model.stats()
            elif model is not None:
                entry["model_id"] = model.model_id
            models.append(entry)
        return {
            "host": platform.node(),
            "pid": os.getpid(),
            "models": models,
            "accelerator": accelerator_status(),
            "process_memory_mb": process_memory_mb(),
        }


def accelerator_status() -> dict[str, Any]:
    """The CUDA device and its memory, when this process has torch loaded (a worker that serves
    no local model never imports it, and a health check should not start it)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return {"torch": None}
    status: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.cuda.is_available()}
    if status["cuda"]:
        index = torch.cuda.current_device()
        free, total = torch.cuda.mem_get_info(index)
        status.update(
            name=torch.cuda.get_device_name(index),
            memory_allocated_mb=round(torch.cuda.memory_allocated(index) / 2**20, 1),
            memory_reserved_mb=round(torch.cuda.memory_reserved(index) / 2**20, 1),
            memory_free_mb=round(free / 2**20, 1),
            memory_total_mb=round(total / 2**20, 1),
        )
    return status


def process_memory_mb() -> float | None:
    try:
        with Path("/proc/self/statm").open() as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return round(resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


_REGISTRIES: dict[MLConfig, ModelRegistry] = {}
_REGISTRIES_PID = os.getpid()
_REGISTRIES_LOCK = threading.Lock()


def registry_for(config: MLConfig) -> ModelRegistry:
    """The process's registry for ``config`` (built on first use, dropped after a fork)."""
    global _REGISTRIES_PID
    with _REGISTRIES_LOCK:
        if os.getpid() != _REGISTRIES_PID:
            _REGISTRIES.clear()
            _REGISTRIES_PID = os.getpid()
        registry = _REGISTRIES.get(config)
        if registry is None:
            registry = _REGISTRIES[config] = ModelRegistry(config)
        return registry


def reset_registries() -> None:
    """Forget every registry of this process (tests; a worker that must free its models)."""
    with _REGISTRIES_LOCK:
        _REGISTRIES.clear()
