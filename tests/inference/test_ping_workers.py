"""``manage.py ping_workers``: a round trip through the job pipeline; for the gpu queue the answer
carries the worker's health (the embedded deployment runs the job in-process)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.inference.management.commands.ping_workers import health_lines

pytestmark = pytest.mark.django_db(transaction=True)


def test_gpu_ping_shows_what_the_worker_serves() -> None:
    out = StringIO()

    call_command("ping_workers", "--gpu", "--timeout", "10", stdout=out)

    text = out.getvalue()
    assert "answered by" in text
    assert "explain: knowledge" in text and "(no model)" in text
    assert "judge: none" in text
    assert "worker memory:" in text


def test_scoring_ping_answers() -> None:
    out = StringIO()

    call_command("ping_workers", "--timeout", "10", stdout=out)

    assert "answered by" in out.getvalue()


def test_health_lines_describe_a_loaded_model_on_a_gpu() -> None:
    health = {
        "models": [
            {
                "kind": "explain", "backend": "transformers", "model_id": "medgemma-4b-it",
                "loaded": True, "device": "cuda", "dtype": "bfloat16", "parameters": 4_300_000_000,
                "batch_size": 16,
            },
            {"kind": "judge", "backend": "openai", "endpoint_model": "qwen", "loaded": False},
        ],
        "accelerator": {
            "torch": "2.13.0", "cuda": True, "name": "NVIDIA H100", "memory_allocated_mb": 8600.0,
            "memory_free_mb": 70000.0, "memory_total_mb": 81000.0,
        },
        "process_memory_mb": 2100.0,
    }  # fmt: skip

    lines = health_lines(health)

    assert lines[0] == (
        "  explain: transformers medgemma-4b-it (loaded) on cuda bfloat16, "
        "4,300,000,000 parameters, batch up to 16"
    )
    assert lines[1] == "  judge: openai qwen (not loaded yet)"
    assert "NVIDIA H100, 8600.0 MiB allocated, 70000.0 of 81000.0 MiB free" in lines[2]
