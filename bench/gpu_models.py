"""MedGemma-4B's architecture with random weights, served through the worker's model classes,
and prompts written as token ids: the model side of ``bench/gpu.py``'s throughput section.

No weights are downloaded: the configuration below is google/medgemma-4b-it's (Gemma 3 4B),
randomly initialised; ``scale="ci"`` divides widths and depths so a CPU finishes in CI-sized time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def gemma3_4b_configs(scale: str) -> tuple[Any, Any]:
    """MedGemma-4B's architecture (google/medgemma-4b-it, Gemma 3 4B), or a scaled-down copy."""
    from transformers import Gemma3Config, Gemma3TextConfig, SiglipVisionConfig

    full = scale == "full"
    layers = 34 if full else 6
    text = {
        "vocab_size": 262_208 if full else 32_768,
        "hidden_size": 2560 if full else 320,
        "intermediate_size": 10_240 if full else 1280,
        "num_hidden_layers": layers,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256 if full else 40,
        "max_position_embeddings": 131_072,
        "sliding_window": 1024,
        # Gemma 3: five sliding-window layers, then one global layer.
        "layer_types": [
            "full_attention" if (i + 1) % 6 == 0 else "sliding_attention" for i in range(layers)
        ],
        "rope_theta": 1_000_000.0,
        "query_pre_attn_scalar": 256,
        "final_logit_softcapping": None,
        "attn_logit_softcapping": None,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "bos_token_id": 2,
    }
    vision = SiglipVisionConfig(
        hidden_size=1152 if full else 144,
        intermediate_size=4304 if full else 576,
        num_hidden_layers=27 if full else 2,
        num_attention_heads=16 if full else 4,
        image_size=896 if full else 224,
        patch_size=14,
        vision_use_head=False,
    )
    mm_tokens = 256 if full else 64
    vocab = text["vocab_size"]
    vlm = Gemma3Config(
        text_config=Gemma3TextConfig(**text),
        vision_config=vision,
        mm_tokens_per_image=mm_tokens,
        boi_token_index=vocab - 4,
        eoi_token_index=vocab - 3,
        image_token_index=vocab - 2,
    )
    return vlm, Gemma3TextConfig(**text)


class _IdCounter:
    """Decodes random weights' token ids to a count: random ids spell nothing worth timing."""

    pad_token_id = 0
    eos_token_id = 1

    def decode(self, ids: Any, skip_special_tokens: bool = True) -> str:
        return f"<{len(ids)} tokens>"


def served_as_worker(kind: type, model: Any, device: str, dtype: Any) -> Any:
    """The worker's model class around an already built model; prompts arrive encoded."""

    class PreEncoded(kind):  # type: ignore[misc, valid-type]
        def encode(self, messages: Any) -> Any:
            return messages

    served = PreEncoded(
        Path("random-gemma3-4b"), device=device, dtype=dtype, generation_timeout_s=3600
    )
    served.model, served.tokenizer = model, _IdCounter()
    return served


def build_random(cls: type, config: Any, device: str, dtype: Any) -> Any:
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = cls(config).eval()
    finally:
        torch.set_default_dtype(previous)
    model.generation_config.eos_token_id = None  # every job generates its full budget
    model.generation_config.pad_token_id = 0
    return model


def explain_prompt(config: Any, rng: Any, device: str, dtype: Any, images: int) -> dict[str, Any]:
    import torch

    vocab = config.text_config.vocab_size
    mm = config.mm_tokens_per_image
    pieces: list[int] = [2]
    types: list[int] = [0]
    for _ in range(images):
        pieces += (
            [config.boi_token_index] + [config.image_token_index] * mm + [config.eoi_token_index]
        )
        types += [0] + [1] * mm + [0]
    text = rng.randint(80, 120)
    pieces += [rng.randrange(10, vocab - 10) for _ in range(text)]
    types += [0] * text
    ids = torch.tensor([pieces], device=device)
    side = config.vision_config.image_size
    return {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "token_type_ids": torch.tensor([types], device=device),
        "pixel_values": torch.randn(images, 3, side, side, device=device, dtype=dtype),
    }


def judge_prompt(config: Any, rng: Any, device: str) -> dict[str, Any]:
    import torch

    length = rng.randint(500, 700)
    ids = torch.tensor(
        [[2] + [rng.randrange(10, config.vocab_size - 10) for _ in range(length)]], device=device
    )
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
