"""Configuration of the model backends (explanations and the LLM judge), read from the environment.

Every variable is optional; with none set, explanations come from the knowledge base and the judge
is off, so the embedded deployment needs no model at all. Any variable may instead be given as
``NAME_FILE`` holding the path of a file whose content is the value (Docker/Kubernetes secrets);
setting both ``NAME`` and ``NAME_FILE`` is an error.

Variables
---------
``RADGAME_EXPLAINER``
    Who writes Localize explanations: ``knowledge`` (default; built from the taxonomy and the
    anatomy, no model), ``transformers`` (a local vision-language model such as MedGemma, loaded
    from ``RADGAME_VLM_PATH``) or ``openai`` (an OpenAI-compatible chat completions endpoint such as
    vLLM, TGI or Ollama).
``RADGAME_JUDGE``
    The optional LLM judge of written reports: ``none`` (default), ``transformers`` (a local
    causal LM loaded from ``RADGAME_JUDGE_PATH``) or ``openai``.
``RADGAME_VLM_PATH``
    Directory of the local VLM (``save_pretrained`` layout: config, weights, processor). Required
    when ``RADGAME_EXPLAINER=transformers``. Nothing is ever downloaded.
``RADGAME_JUDGE_PATH``
    Directory of the local judge model (tokenizer with a chat template and weights). Required when
    ``RADGAME_JUDGE=transformers``.
``RADGAME_DEVICE``
    ``auto`` (default: CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
``RADGAME_DTYPE``
    ``auto`` (default: bfloat16 on CUDA, float32 on CPU), ``float32``, ``bfloat16`` or ``float16``.
``RADGAME_OPENAI_BASE_URL``
    Base URL of the OpenAI-compatible API including its version prefix, e.g.
    ``http://vllm:8000/v1``; ``/chat/completions`` is appended. Required by the ``openai`` backends.
``RADGAME_OPENAI_MODEL``
    Model name sent to the endpoint. Required by the ``openai`` backends.
``RADGAME_OPENAI_JUDGE_MODEL``
    Model name for the judge when it differs from ``RADGAME_OPENAI_MODEL`` (default: the same).
``RADGAME_OPENAI_API_KEY``
    Bearer token for the endpoint (optional; local servers often need none). Prefer
    ``RADGAME_OPENAI_API_KEY_FILE``.
``RADGAME_OPENAI_TIMEOUT``
    Seconds to wait for one HTTP request (default 60, between 1 and 600).
``RADGAME_OPENAI_MAX_RETRIES``
    Extra attempts after a timeout, a connection error, a 429 or a 5xx (default 2, at most 5).
``RADGAME_GENERATION_TIMEOUT``
    Upper bound in seconds on one local ``generate()`` call (default 120, between 1 and 3600).
``RADGAME_EXPLAIN_MAX_NEW_TOKENS``
    Tokens an explanation may generate (default 96, between 8 and 1024).
``RADGAME_JUDGE_MAX_NEW_TOKENS``
    Tokens a judge answer may generate (default 1024, between 64 and 8192).
``RADGAME_EXPLAIN_BATCH_SIZE`` / ``RADGAME_JUDGE_BATCH_SIZE``
    Most prompts a gpu worker puts in one ``generate()`` call for a local model (default 8 and 4,
    between 1 and 256). Run the gpu worker with ``--pool threads`` and at least this many threads
    (``--concurrency``) so that enough jobs are in flight to fill a batch.
``RADGAME_BATCH_WAIT_MS``
    How long the first prompt of a batch waits for others to join it (default 20, between 0 and
    5000): small beside a generation that takes seconds, long enough for concurrent jobs to meet.
``RADGAME_VLM_CROP``
    ``true`` (default) sends a magnified crop of the region beside the full image; ``false`` sends
    only the full image, for endpoints that accept a single image per prompt.
``RADGAME_MEDIA_ROOT``
    Directory that image paths in explanation requests are relative to. Required by the
    ``transformers`` and ``openai`` explainers (they look at the image).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast
from urllib.parse import urlsplit

ExplainerBackend = Literal["knowledge", "transformers", "openai"]
JudgeBackend = Literal["none", "transformers", "openai"]
DtypeName = Literal["auto", "float32", "bfloat16", "float16"]

EXPLAINER_BACKENDS: tuple[ExplainerBackend, ...] = ("knowledge", "transformers", "openai")
JUDGE_BACKENDS: tuple[JudgeBackend, ...] = ("none", "transformers", "openai")
DTYPES: tuple[DtypeName, ...] = ("auto", "float32", "bfloat16", "float16")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class MLConfig:
    """Settings of the model backends: :meth:`from_env` in processes, built directly in tests."""

    explainer: ExplainerBackend = "knowledge"
    judge: JudgeBackend = "none"
    vlm_path: Path | None = None
    judge_path: Path | None = None
    device: str = "auto"
    dtype: DtypeName = "auto"
    openai_base_url: str | None = None
    openai_model: str | None = None
    openai_judge_model: str | None = None
    # Kept out of repr so a logged config never carries the secret.
    openai_api_key: str | None = field(default=None, repr=False)
    openai_timeout_s: float = 60.0
    openai_max_retries: int = 2
    generation_timeout_s: float = 120.0
    explain_max_new_tokens: int = 96
    judge_max_new_tokens: int = 1024
    vlm_crop: bool = True
    media_root: Path | None = None
    explain_batch_size: int = 8
    judge_batch_size: int = 4
    batch_wait_ms: float = 20.0

    def __post_init__(self) -> None:
        # Validation lives here so configs built in code get the same checks as from_env.
        _check_choice("RADGAME_EXPLAINER", self.explainer, EXPLAINER_BACKENDS)
        _check_choice("RADGAME_JUDGE", self.judge, JUDGE_BACKENDS)
        _check_choice("RADGAME_DTYPE", self.dtype, DTYPES)
        _check_device(self.device)
        if self.openai_base_url is not None:
            _check_url("RADGAME_OPENAI_BASE_URL", self.openai_base_url)
        _check_range("RADGAME_OPENAI_TIMEOUT", self.openai_timeout_s, 1, 600)
        _check_range("RADGAME_OPENAI_MAX_RETRIES", self.openai_max_retries, 0, 5)
        _check_range("RADGAME_GENERATION_TIMEOUT", self.generation_timeout_s, 1, 3600)
        _check_range("RADGAME_EXPLAIN_MAX_NEW_TOKENS", self.explain_max_new_tokens, 8, 1024)
        _check_range("RADGAME_JUDGE_MAX_NEW_TOKENS", self.judge_max_new_tokens, 64, 8192)
        _check_range("RADGAME_EXPLAIN_BATCH_SIZE", self.explain_batch_size, 1, 256)
        _check_range("RADGAME_JUDGE_BATCH_SIZE", self.judge_batch_size, 1, 256)
        _check_range("RADGAME_BATCH_WAIT_MS", self.batch_wait_ms, 0, 5000)
        if self.explainer == "transformers" and self.vlm_path is None:
            raise ConfigError("RADGAME_VLM_PATH is required when RADGAME_EXPLAINER=transformers")
        if self.judge == "transformers" and self.judge_path is None:
            raise ConfigError("RADGAME_JUDGE_PATH is required when RADGAME_JUDGE=transformers")
        if "openai" in (self.explainer, self.judge):
            if not self.openai_base_url:
                raise ConfigError("RADGAME_OPENAI_BASE_URL is required by the openai backend")
            if not self.openai_model:
                raise ConfigError("RADGAME_OPENAI_MODEL is required by the openai backend")
        if self.explainer in ("transformers", "openai") and self.media_root is None:
            raise ConfigError(
                f"RADGAME_MEDIA_ROOT is required when RADGAME_EXPLAINER={self.explainer} "
                "(the model looks at the image)"
            )

    @property
    def judge_openai_model(self) -> str | None:
        return self.openai_judge_model or self.openai_model

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MLConfig:
        """Read the ``RADGAME_*`` variables listed in the module docstring."""
        env = _Env(os.environ if environ is None else environ)
        return cls(
            explainer=cast(
                ExplainerBackend,
                env.choice("RADGAME_EXPLAINER", EXPLAINER_BACKENDS, "knowledge"),
            ),
            judge=cast(JudgeBackend, env.choice("RADGAME_JUDGE", JUDGE_BACKENDS, "none")),
            vlm_path=env.path("RADGAME_VLM_PATH"),
            judge_path=env.path("RADGAME_JUDGE_PATH"),
            device=env.text("RADGAME_DEVICE") or "auto",
            dtype=cast(DtypeName, env.choice("RADGAME_DTYPE", DTYPES, "auto")),
            openai_base_url=env.text("RADGAME_OPENAI_BASE_URL"),
            openai_model=env.text("RADGAME_OPENAI_MODEL"),
            openai_judge_model=env.text("RADGAME_OPENAI_JUDGE_MODEL"),
            openai_api_key=env.text("RADGAME_OPENAI_API_KEY"),
            openai_timeout_s=env.number("RADGAME_OPENAI_TIMEOUT", 60.0),
            openai_max_retries=env.integer("RADGAME_OPENAI_MAX_RETRIES", 2),
            generation_timeout_s=env.number("RADGAME_GENERATION_TIMEOUT", 120.0),
            explain_max_new_tokens=env.integer("RADGAME_EXPLAIN_MAX_NEW_TOKENS", 96),
            judge_max_new_tokens=env.integer("RADGAME_JUDGE_MAX_NEW_TOKENS", 1024),
            vlm_crop=env.boolean("RADGAME_VLM_CROP", True),
            media_root=env.path("RADGAME_MEDIA_ROOT"),
            explain_batch_size=env.integer("RADGAME_EXPLAIN_BATCH_SIZE", 8),
            judge_batch_size=env.integer("RADGAME_JUDGE_BATCH_SIZE", 4),
            batch_wait_ms=env.number("RADGAME_BATCH_WAIT_MS", 20.0),
        )


class _Env:
    """Typed reads of environment variables with ``*_FILE`` indirection."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, name: str) -> str | None:
        direct = self._environ.get(name)
        file_name = self._environ.get(f"{name}_FILE")
        if direct is not None and file_name is not None:
            raise ConfigError(f"set {name} or {name}_FILE, not both")
        if file_name is not None:
            try:
                value = Path(file_name).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"{name}_FILE: cannot read {file_name!r}: {exc}") from exc
        else:
            value = direct
        if value is None:
            return None
        # Secret files usually end with a newline; an empty value means "not set".
        value = value.strip()
        return value or None

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = (self.text(name) or default).lower()
        _check_choice(name, value, allowed)
        return value

    def path(self, name: str) -> Path | None:
        value = self.text(name)
        return Path(value).expanduser() if value else None

    def number(self, name: str, default: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {value!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ConfigError(f"{name} must be a finite number, got {value!r}")
        return number

    def integer(self, name: str, default: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {value!r}") from None

    def boolean(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false, got {value!r}")


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _check_device(device: str) -> None:
    if device in ("auto", "cpu", "cuda"):
        return
    prefix, _, index = device.partition(":")
    if prefix == "cuda" and index.isdigit():
        return
    raise ConfigError(f"RADGAME_DEVICE must be auto, cpu, cuda or cuda:N; got {device!r}")


def _check_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) URL such as http://host:8000/v1; got {url!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"{name} must not carry a query string or fragment; got {url!r}")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}; got {value!r}")
