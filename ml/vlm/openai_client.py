"""A small client for OpenAI-compatible chat completions (vLLM, TGI, Ollama, hosted APIs).

Only ``POST {base}/chat/completions`` is used. Timeouts, a bounded number of retries with
exponential backoff, and a cap on the response size keep a misbehaving endpoint from stalling or
flooding a worker.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Sequence
from typing import Any

import httpx

from ml.config import ConfigError, MLConfig
from ml.vlm.chat import ChatMessage, has_images, message_text
from ml.vlm.errors import BackendResponseError, BackendUnavailableError
from ml.vlm.images import image_data_url

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
MAX_BACKOFF_S = 10.0


class OpenAIChatModel:
    """Chat completions against one endpoint and model; safe to share within a process."""

    backend = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        backoff_s: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.model_id = model
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s), headers=headers, transport=transport
        )

    @classmethod
    def for_explainer(cls, config: MLConfig) -> OpenAIChatModel:
        return _shared_client(**_endpoint(config, config.openai_model))

    @classmethod
    def for_judge(cls, config: MLConfig) -> OpenAIChatModel:
        return _shared_client(**_endpoint(config, config.judge_openai_model))

    def close(self) -> None:
        self._client.close()

    def complete(self, messages: Sequence[ChatMessage], *, max_new_tokens: int) -> str:
        payload = {
            "model": self.model_id,
            "messages": [_wire_message(message) for message in messages],
            "max_tokens": max_new_tokens,
            "temperature": 0,
            "stream": False,
        }
        return _completion_text(self._post_with_retries(payload))

    def _post_with_retries(self, payload: dict[str, Any]) -> Any:
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                status, body, retry_after = self._post(payload)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if status == 200:
                    return _json_body(body)
                if status not in RETRYABLE_STATUS:
                    raise BackendResponseError(
                        f"{self.model_id}: endpoint answered HTTP {status}: {_snippet(body)}"
                    )
                problem = f"HTTP {status}"
            if attempt >= self.max_retries:
                raise BackendUnavailableError(
                    f"{self.model_id}: {problem} after {attempt + 1} attempt(s)"
                )
            time.sleep(min(MAX_BACKOFF_S, retry_after or self.backoff_s * 2**attempt))
            attempt += 1

    def _post(self, payload: dict[str, Any]) -> tuple[int, bytes, float | None]:
        with self._client.stream("POST", self.url, json=payload) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise BackendResponseError(
                        f"{self.model_id}: response larger than {MAX_RESPONSE_BYTES} bytes"
                    )
                chunks.append(chunk)
            return response.status_code, b"".join(chunks), _retry_after(response)


@functools.lru_cache(maxsize=8)
def _shared_client(**endpoint: Any) -> OpenAIChatModel:
    # Workers build an explainer per job; sharing the client per endpoint reuses its connections.
    return OpenAIChatModel(**endpoint)


def _endpoint(config: MLConfig, model: str | None) -> dict[str, Any]:
    if not config.openai_base_url or not model:
        raise ConfigError("RADGAME_OPENAI_BASE_URL and RADGAME_OPENAI_MODEL must be set")
    return {
        "base_url": config.openai_base_url,
        "model": model,
        "api_key": config.openai_api_key,
        "timeout_s": config.openai_timeout_s,
        "max_retries": config.openai_max_retries,
    }


def _wire_message(message: ChatMessage) -> dict[str, Any]:
    # Plain strings where there are no images: the widest-supported form across servers.
    if not has_images(message):
        return {"role": message["role"], "content": message_text(message)}
    parts: list[dict[str, Any]] = []
    for part in message["content"]:
        if part.get("type") == "image":
            parts.append({"type": "image_url", "image_url": {"url": image_data_url(part["image"])}})
        elif part.get("type") == "text":
            parts.append({"type": "text", "text": part["text"]})
    return {"role": message["role"], "content": parts}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date; the exponential backoff is close enough


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackendResponseError(f"endpoint answered non-JSON: {_snippet(body)}") from exc


def _completion_text(data: Any) -> str:
    """The assistant text of the first choice; string or list-of-parts content are both accepted."""
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise BackendResponseError("endpoint answer has no choices[0].message.content") from exc
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") for part in content if isinstance(part, dict) and "text" in part
        )
    raise BackendResponseError(f"unexpected message content type {type(content).__name__}")


def _snippet(body: bytes) -> str:
    return body[:200].decode("utf-8", errors="replace")
