"""Shared fixtures for the ml tests: tiny random models built offline, a fake OpenAI-compatible
server, and a media root holding a small synthetic radiograph.

The tiny models use MedGemma's architecture (Gemma3ForConditionalGeneration with a SigLIP vision
tower) and a Gemma3 causal LM, with a few thousand parameters each, so the production loading,
chat-template, generation and decoding code runs for real in well under a second.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

# Belt and braces: nothing in these tests may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TINY_IMAGE_SIDE = 32
TINY_PATCH = 8
TINY_IMAGE_TOKENS = 4  # soft tokens per image; must be a square number

_SPECIAL_TOKENS = [
    "<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>",
    "<start_of_image>", "<end_of_image>", "<image_soft_token>",
]  # fmt: skip
_TRAINING_TEXT = [
    "You missed a nodule in the right upper zone.",
    "The left costophrenic angle is blunted by a small pleural effusion.",
    "Compare the candidate report with the reference report and list the errors as JSON.",
    "Heart size is normal. No pneumothorax. Lungs are clear.",
    '{"errors": [{"category": "missed_finding", "label": "Effusion", "message": "Missed."}]}',
    "Consolidation in the right lower zone with air bronchograms.",
]

# Gemma 3's chat template in spirit: system text is folded into the first user turn, the model's
# turns are called "model", images become <start_of_image>; content may be a string or parts.
_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- if messages[0]['content'] is string -%}"
    "{%- set prefix = messages[0]['content'] + '\n\n' -%}"
    "{%- else -%}{%- set prefix = messages[0]['content'][0]['text'] + '\n\n' -%}{%- endif -%}"
    "{%- set turns = messages[1:] -%}"
    "{%- else -%}{%- set prefix = '' -%}{%- set turns = messages -%}{%- endif -%}"
    "{%- for message in turns -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{ '<start_of_turn>' + role + '\n' + (prefix if loop.first else '') }}"
    "{%- if message['content'] is string -%}{{ message['content'] | trim }}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'image' -%}{{ '<start_of_image>' }}"
    "{%- elif part['type'] == 'text' -%}{{ part['text'] | trim }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{ '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)


def _tiny_tokenizer() -> Any:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import GemmaTokenizer

    bpe = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    bpe.normalizer = normalizers.Replace(" ", "\u2581")
    bpe.pre_tokenizer = pre_tokenizers.Split(" ", behavior="merged_with_previous")
    byte_tokens = [f"<0x{value:02X}>" for value in range(256)]
    bpe.train_from_iterator(
        _TRAINING_TEXT,
        trainers.BpeTrainer(
            vocab_size=500, special_tokens=_SPECIAL_TOKENS + byte_tokens, show_progress=False
        ),
    )
    trained = json.loads(bpe.to_str())["model"]
    merges = [
        tuple(merge) if isinstance(merge, list) else tuple(merge.split(" "))
        for merge in trained["merges"]
    ]
    tokenizer = GemmaTokenizer(
        vocab=trained["vocab"],
        merges=merges,
        extra_special_tokens={
            "image_token": "<image_soft_token>",
            "boi_token": "<start_of_image>",
            "eoi_token": "<end_of_image>",
        },
    )
    tokenizer.add_special_tokens(
        {"additional_special_tokens": ["<start_of_turn>", "<end_of_turn>"]}
    )
    tokenizer.chat_template = _CHAT_TEMPLATE
    return tokenizer


def _tiny_text_config(tokenizer: Any) -> Any:
    from transformers import Gemma3TextConfig

    return Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        max_position_embeddings=4096,
        sliding_window=32,
        layer_types=["sliding_attention", "full_attention"],
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=[tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<end_of_turn>")],
    )


def build_tiny_vlm(directory: Path) -> Path:
    """Save a random Gemma3ForConditionalGeneration and its Gemma3Processor to directory."""
    import torch
    from transformers import (
        Gemma3Config,
        Gemma3ForConditionalGeneration,
        Gemma3ImageProcessorPil,
        Gemma3Processor,
        SiglipVisionConfig,
    )

    torch.manual_seed(0)
    tokenizer = _tiny_tokenizer()
    processor = Gemma3Processor(
        image_processor=Gemma3ImageProcessorPil(
            size={"height": TINY_IMAGE_SIDE, "width": TINY_IMAGE_SIDE},
            do_pan_and_scan=False,
            image_mean=[0.5] * 3,
            image_std=[0.5] * 3,
        ),
        tokenizer=tokenizer,
        chat_template=_CHAT_TEMPLATE,
        image_seq_length=TINY_IMAGE_TOKENS,
    )
    text_config = _tiny_text_config(tokenizer)
    config = Gemma3Config(
        text_config=text_config,
        vision_config=SiglipVisionConfig(
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=TINY_IMAGE_SIDE,
            patch_size=TINY_PATCH,
            vision_use_head=False,
        ),
        mm_tokens_per_image=TINY_IMAGE_TOKENS,
        boi_token_index=tokenizer.convert_tokens_to_ids("<start_of_image>"),
        eoi_token_index=tokenizer.convert_tokens_to_ids("<end_of_image>"),
        image_token_index=tokenizer.convert_tokens_to_ids("<image_soft_token>"),
    )
    model = Gemma3ForConditionalGeneration(config).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = text_config.eos_token_id
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


def build_tiny_causal_lm(directory: Path) -> Path:
    """Save a random Gemma3ForCausalLM and its tokenizer (with chat template) to directory."""
    import torch
    from transformers import Gemma3ForCausalLM

    torch.manual_seed(1)
    tokenizer = _tiny_tokenizer()
    model = Gemma3ForCausalLM(_tiny_text_config(tokenizer)).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_vlm_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_vlm(tmp_path_factory.mktemp("models") / "tiny-medgemma")


@pytest.fixture(scope="session")
def tiny_judge_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_causal_lm(tmp_path_factory.mktemp("models") / "tiny-judge")


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    """A media directory with ``cases/cxr.png``: a dark film with two bright lung-shaped ovals."""
    from PIL import Image, ImageDraw

    root = tmp_path / "media"
    (root / "cases").mkdir(parents=True)
    image = Image.new("L", (200, 160), color=20)
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 20, 95, 140), fill=90)
    draw.ellipse((105, 20, 180, 140), fill=90)
    image.save(root / "cases" / "cxr.png")
    return root


# ---------------------------------------------------------------- fake OpenAI-compatible server


@dataclass
class CannedReply:
    """One scripted answer: a completion text, or a raw status/body, optionally after a delay."""

    content: str | None = None
    status: int = 200
    body: bytes | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeOpenAIServer:
    base_url: str
    replies: list[CannedReply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    # When set, every request gets this completion (after the scripted replies run out).
    default_content: str | None = None

    def reply_with(self, *replies: CannedReply | str) -> None:
        self.replies.extend(r if isinstance(r, CannedReply) else CannedReply(r) for r in replies)

    def next_reply(self) -> CannedReply:
        if self.replies:
            return self.replies.pop(0)
        if self.default_content is not None:
            return CannedReply(self.default_content)
        return CannedReply(status=500, body=b'{"error": "no scripted reply left"}')


def _request_problem(body: Any) -> str | None:
    """What a real server would reject: the minimum an OpenAI-compatible request must carry."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return "model must be a string"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    for message in messages:
        if message.get("role") not in ("system", "user", "assistant"):
            return f"bad role {message.get('role')!r}"
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if part.get("type") == "image_url":
                    url = part.get("image_url", {}).get("url", "")
                    if not url.startswith("data:image/"):
                        return "image_url must be a data URL"
                elif part.get("type") != "text" or not isinstance(part.get("text"), str):
                    return f"bad content part {part!r}"
        elif not isinstance(content, str):
            return "content must be a string or a list of parts"
    return None


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest output clean

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, b'{"error": "not found"}')
                return
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                self._send(400, b'{"error": "not json"}')
                return
            server.requests.append(body)
            server.headers.append({key.lower(): value for key, value in self.headers.items()})
            problem = _request_problem(body)
            if problem:
                self._send(400, json.dumps({"error": problem}).encode())
                return
            reply = server.next_reply()
            if reply.delay_s:
                time.sleep(reply.delay_s)
            if reply.body is not None or reply.content is None:
                self._send(reply.status, reply.body or b"{}", reply.headers)
                return
            completion = {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "finish_reason": "stop",
                    }
                ],
            }
            self._send(reply.status, json.dumps(completion).encode(), reply.headers)

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

    return Handler


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """A threaded OpenAI-compatible server on 127.0.0.1 with a random port; base URL ends in /v1."""
    fake = FakeOpenAIServer(base_url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    httpd.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    # A short poll interval keeps shutdown (once per test) from costing half a second.
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
