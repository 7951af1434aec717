"""The OpenAI-compatible backend against a fake chat completions server on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import json
import socket
from pathlib import Path

import pytest
from PIL import Image

from ml.config import MLConfig
from ml.vlm import (
    BackendResponseError,
    BackendUnavailableError,
    ExplainRequest,
    get_explainer,
)
from ml.vlm.chat import chat_message
from ml.vlm.model_explainer import ModelExplainer
from ml.vlm.openai_client import MAX_RESPONSE_BYTES, OpenAIChatModel
from ml.vlm.prompts import PROMPT_VERSION, SYSTEM_PROMPT

from .conftest import CannedReply, FakeOpenAIServer

MISLABELLED = ExplainRequest(
    label="Mass",
    error="mislabelled",
    box=(0.6, 0.55, 0.85, 0.8),
    marked_label="Nodule",
    marked_box=(0.62, 0.55, 0.85, 0.78),
    image_path="cases/cxr.png",
)
GOOD_ANSWER = (
    "The opacity in the left lower zone is larger than three centimetres. That makes it a mass."
)


def chat_model_for(server: FakeOpenAIServer, **overrides: object) -> OpenAIChatModel:
    options: dict[str, object] = {
        "base_url": server.base_url,
        "model": "medgemma-test",
        "api_key": "sk-test",
        "timeout_s": 5.0,
        "max_retries": 2,
        "backoff_s": 0.0,
    }
    options.update(overrides)
    return OpenAIChatModel(**options)  # type: ignore[arg-type]


def explainer_for(
    server: FakeOpenAIServer, media_root: Path, **overrides: object
) -> ModelExplainer:
    return ModelExplainer(
        chat_model_for(server, **overrides),
        media_root=media_root,
        with_crop=True,
        max_new_tokens=80,
    )


def test_request_carries_model_prompt_and_images(
    fake_openai: FakeOpenAIServer, media_root: Path
) -> None:
    fake_openai.reply_with(GOOD_ANSWER)
    config = MLConfig(
        explainer="openai",
        openai_base_url=fake_openai.base_url,
        openai_model="medgemma-test",
        openai_api_key="sk-secret",
        media_root=media_root,
        explain_max_new_tokens=64,
    )

    explanation = get_explainer(config).explain(MISLABELLED)

    (request,) = fake_openai.requests
    assert fake_openai.headers[0]["authorization"] == "Bearer sk-secret"
    assert request["model"] == "medgemma-test"
    assert request["max_tokens"] == 64
    assert request["temperature"] == 0
    system, user = request["messages"]
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    assert user["role"] == "user"
    kinds = [part["type"] for part in user["content"]]
    assert kinds == ["image_url", "image_url", "text"]
    for part in user["content"][:2]:
        header, _, data = part["image_url"]["url"].partition(",")
        assert header == "data:image/jpeg;base64"
        assert Image.open(io.BytesIO(base64.b64decode(data))).format == "JPEG"
    text = user["content"][2]["text"]
    assert "resident's box outlined in yellow" in text
    assert "called it Nodule; it is Mass" in text
    assert explanation.text == GOOD_ANSWER
    assert explanation.backend == "openai"
    assert explanation.model_id == "medgemma-test"
    assert explanation.prompt_version == PROMPT_VERSION


def test_without_crop_only_the_full_image_is_sent(
    fake_openai: FakeOpenAIServer, media_root: Path
) -> None:
    fake_openai.reply_with(GOOD_ANSWER)
    explainer = ModelExplainer(
        chat_model_for(fake_openai), media_root=media_root, with_crop=False, max_new_tokens=80
    )

    explainer.explain(MISLABELLED)

    parts = fake_openai.requests[0]["messages"][1]["content"]
    assert [part["type"] for part in parts] == ["image_url", "text"]


def test_text_only_requests_send_plain_string_content(
    fake_openai: FakeOpenAIServer, media_root: Path
) -> None:
    fake_openai.reply_with(GOOD_ANSWER)

    explainer_for(fake_openai, media_root).explain(
        ExplainRequest(label="Emphysema", error="missed")
    )

    user = fake_openai.requests[0]["messages"][1]
    assert isinstance(user["content"], str)
    assert "Image 1" not in user["content"]


def test_garbage_completions_fall_back_to_the_knowledge_base(
    fake_openai: FakeOpenAIServer, media_root: Path
) -> None:
    fake_openai.reply_with("<img src=x onerror=alert(1)> ![](https://evil.example/b.png)")

    explanation = explainer_for(fake_openai, media_root).explain(MISLABELLED)

    assert explanation.backend == "knowledge"
    assert explanation.text.startswith("You marked the right place in the left lower zone")
    assert explanation.fallback_reason == (
        "openai:medgemma-test: the model's answer was empty or unreadable"
    )


def test_list_content_in_the_answer_is_joined(fake_openai: FakeOpenAIServer) -> None:
    body = {
        "choices": [{"message": {"content": [{"type": "text", "text": "Two "}, {"text": "parts"}]}}]
    }
    fake_openai.reply_with(CannedReply(body=json.dumps(body).encode()))

    answer = chat_model_for(fake_openai).complete([chat_message("user", "hi")], max_new_tokens=8)

    assert answer == "Two parts"


def test_server_errors_are_retried(fake_openai: FakeOpenAIServer, media_root: Path) -> None:
    fake_openai.reply_with(
        CannedReply(status=503, body=b'{"error": "loading"}'),
        CannedReply(status=429, body=b'{"error": "busy"}', headers={"Retry-After": "0"}),
        GOOD_ANSWER,
    )

    explanation = explainer_for(fake_openai, media_root).explain(MISLABELLED)

    assert len(fake_openai.requests) == 3
    assert explanation.backend == "openai"


def test_retries_are_bounded(fake_openai: FakeOpenAIServer, media_root: Path) -> None:
    fake_openai.reply_with(*[CannedReply(status=502, body=b"{}") for _ in range(5)])

    with pytest.raises(BackendUnavailableError, match="HTTP 502 after 3 attempt"):
        explainer_for(fake_openai, media_root).explain(MISLABELLED)
    assert len(fake_openai.requests) == 3


def test_client_errors_are_not_retried(fake_openai: FakeOpenAIServer, media_root: Path) -> None:
    fake_openai.reply_with(CannedReply(status=400, body=b'{"error": "too many images"}'))

    with pytest.raises(BackendResponseError, match=r"HTTP 400.*too many images"):
        explainer_for(fake_openai, media_root).explain(MISLABELLED)
    assert len(fake_openai.requests) == 1


def test_timeouts_are_retried_then_reported(
    fake_openai: FakeOpenAIServer, media_root: Path
) -> None:
    fake_openai.reply_with(*[CannedReply(GOOD_ANSWER, delay_s=1.0) for _ in range(2)])
    explainer = explainer_for(fake_openai, media_root, timeout_s=0.2, max_retries=1)

    with pytest.raises(BackendUnavailableError, match="Timeout"):
        explainer.explain(MISLABELLED)
    assert len(fake_openai.requests) == 2


def test_a_timeout_then_an_answer_succeeds(fake_openai: FakeOpenAIServer, media_root: Path) -> None:
    fake_openai.reply_with(CannedReply(GOOD_ANSWER, delay_s=1.0), GOOD_ANSWER)

    explanation = explainer_for(fake_openai, media_root, timeout_s=0.2).explain(MISLABELLED)

    assert explanation.text == GOOD_ANSWER


def test_an_unreachable_endpoint_is_unavailable(media_root: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    chat_model = OpenAIChatModel(
        base_url=f"http://127.0.0.1:{closed_port}/v1", model="m", max_retries=1, backoff_s=0
    )

    with pytest.raises(BackendUnavailableError, match="ConnectError"):
        chat_model.complete([chat_message("user", "hi")], max_new_tokens=8)


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"choices": []}', b'{"choices": [{"message": {"content": 7}}]}'],
)
def test_malformed_completions_are_response_errors(
    fake_openai: FakeOpenAIServer, body: bytes
) -> None:
    fake_openai.reply_with(CannedReply(body=body))

    with pytest.raises(BackendResponseError):
        chat_model_for(fake_openai).complete([chat_message("user", "hi")], max_new_tokens=8)


def test_oversized_responses_are_refused(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.reply_with(CannedReply(body=b" " * (MAX_RESPONSE_BYTES + 1)))

    with pytest.raises(BackendResponseError, match="larger than"):
        chat_model_for(fake_openai).complete([chat_message("user", "hi")], max_new_tokens=8)


def test_no_authorization_header_without_a_key(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.reply_with("fine")

    chat_model_for(fake_openai, api_key=None).complete(
        [chat_message("user", "hi")], max_new_tokens=8
    )

    assert "authorization" not in fake_openai.headers[0]


def test_one_client_is_shared_per_endpoint(fake_openai: FakeOpenAIServer, media_root: Path) -> None:
    config = MLConfig(
        explainer="openai",
        openai_base_url=fake_openai.base_url,
        openai_model="medgemma-test",
        media_root=media_root,
    )
    first, second = get_explainer(config), get_explainer(config)
    other = get_explainer(MLConfig(**{**config.__dict__, "openai_model": "other-model"}))

    assert isinstance(first, ModelExplainer) and isinstance(second, ModelExplainer)
    assert isinstance(other, ModelExplainer)
    assert first.chat_model is second.chat_model
    assert other.chat_model is not first.chat_model
