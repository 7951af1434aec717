"""GPU worker benchmark: the worker's real code path, then throughput at MedGemma-4B dimensions.

    python bench/gpu.py                            # both sections
    python bench/gpu.py --section worker           # (1) the worker path on the tiny offline models
    python bench/gpu.py --section throughput       # (2) Gemma 3 4B dimensions, random weights, bf16
    python bench/gpu.py --section throughput --scale ci   # (2) scaled down: CPU in CI-sized time

(1) ``worker`` builds the tiny random MedGemma-architecture models of the test suite, points the
worker configuration at them and runs ``ml.handlers.vlm_explain`` and ``ml.handlers.report_judge``
from as many threads as the gpu worker's ``--concurrency`` (what Celery's threads pool does), so
the registry, the batch collector, left padding, generation and decoding all run for real; on
CUDA when one is present.

(2) ``throughput`` builds ``Gemma3ForConditionalGeneration`` (the explanation VLM) and
``Gemma3ForCausalLM`` (the judge) with MedGemma-4B's architecture, written out below (no weights:
random initialisation), in bfloat16, and serves a burst of jobs through the worker's model classes
(``ml.vlm.local_models``: left padding, one ``generate()`` per batch, decoding) behind the worker's
batch collector at batch 1, 8 and 32, against plain one-at-a-time generation in the same run.
Prompts are built as token ids (random weights have no tokenizer to speak of): an explanation is
two images (the film and a magnified crop, 256 soft tokens each) and ~100 text tokens; a judge
prompt is ~600 text tokens. End-of-sequence is disabled so every job generates its full budget and
tokens/s counts real tokens. Latency is from the burst's arrival to each job's answer (p50, p95).
``--scale full`` (default on CUDA) is the real size; ``--scale ci`` (default on CPU) divides widths
and depths so a CPU finishes in a minute or two; its figures measure the code path, not a GPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gpu_models import (  # noqa: E402 (after the offline switches and the path)
    build_random,
    explain_prompt,
    gemma3_4b_configs,
    judge_prompt,
    served_as_worker,
)

BATCHES = (1, 8, 32)


# ---------------------------------------------------------------- the machine


def machine() -> str:
    import torch

    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [
        f"machine: {cpu}, {os.cpu_count()} logical cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, transformers {_version('transformers')}"
    ]
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        lines.append(
            f"gpu: {props.name}, {props.total_memory / 2**30:.0f} GiB, "
            f"CUDA {torch.version.cuda}, bf16 {torch.cuda.is_bf16_supported()}"
        )
    else:
        lines.append(f"gpu: none (CPU, {torch.get_num_threads()} torch threads)")
    return "\n".join(lines)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


@dataclass
class Run:
    mode: str
    batch: int
    jobs: int
    seconds: float
    latencies: list[float]
    tokens: int

    def row(self, baseline: Run | None) -> str:
        rate = self.jobs / self.seconds
        speedup = f"{rate / (baseline.jobs / baseline.seconds):6.1f}x" if baseline else "     -"
        p50 = statistics.median(self.latencies)
        p95 = _percentile(self.latencies, 95)
        # The worker runs stop at end-of-sequence, so only the fixed-length runs count tokens.
        tokens = f"{self.tokens / self.seconds:.1f}" if self.tokens else "-"
        return (
            f"  {self.mode:<11} {self.batch:>5} {self.jobs:>5} {self.seconds:>8.2f} "
            f"{rate:>8.2f} {tokens:>9} {p50:>7.2f} {p95:>7.2f} {speedup}"
        )


HEADER = "  mode        batch  jobs  total s   jobs/s  tokens/s  p50 s   p95 s  vs seq"


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def burst(
    jobs: Sequence[Any], workers: int, run_one: Callable[[Any], Any]
) -> tuple[float, list[float], list[Any]]:
    """Every job arrives at once; ``workers`` threads take them (a worker's ``--concurrency``)."""
    start = time.perf_counter()
    latencies: list[float] = [0.0] * len(jobs)
    results: list[Any] = [None] * len(jobs)

    def work(index: int) -> None:
        results[index] = run_one(jobs[index])
        latencies[index] = time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(work, range(len(jobs))))
    return time.perf_counter() - start, latencies, results


# ---------------------------------------------------------------- (1) the worker code path


def section_worker(args: argparse.Namespace) -> None:
    from PIL import Image, ImageDraw

    from ml import handlers
    from ml.config import MLConfig
    from ml.serving.registry import registry_for
    from tests.ml.conftest import build_tiny_causal_lm, build_tiny_vlm

    root = Path(tempfile.mkdtemp(prefix="radgame-bench-gpu-"))
    vlm, judge = build_tiny_vlm(root / "tiny-medgemma"), build_tiny_causal_lm(root / "tiny-judge")
    media = root / "media"
    (media / "cases").mkdir(parents=True)
    film = Image.new("L", (400, 320), 20)
    ImageDraw.Draw(film).ellipse((40, 40, 190, 280), fill=90)
    film.save(media / "cases" / "cxr.png")
    os.environ.update(
        RADGAME_EXPLAINER="transformers",
        RADGAME_JUDGE="transformers",
        RADGAME_VLM_PATH=str(vlm),
        RADGAME_JUDGE_PATH=str(judge),
        RADGAME_MEDIA_ROOT=str(media),
        RADGAME_DEVICE="auto",
        RADGAME_EXPLAIN_MAX_NEW_TOKENS=str(args.worker_tokens),
        RADGAME_JUDGE_MAX_NEW_TOKENS="64",
        RADGAME_BATCH_WAIT_MS="10",
    )
    explain_jobs = [
        {
            "requests": [
                {
                    "label": "Nodule",
                    "error": "missed",
                    "box": [0.05 + 0.02 * (n % 20), 0.2, 0.2 + 0.02 * (n % 20), 0.35],
                    "image_path": "cases/cxr.png",
                    "marks": [{"label": "Mass", "box": [0.6, 0.6, 0.8, 0.8]}],
                    "findings": [{"label": "Nodule", "box": [0.1, 0.2, 0.25, 0.35]}],
                }
            ]
        }
        for n in range(args.jobs)
    ]
    judge_jobs = [
        {"reference": "Small left pleural effusion. No pneumothorax.",
         "candidate": f"Heart size is normal. Finding number {n} in the right lower zone."}
        for n in range(args.jobs)
    ]  # fmt: skip
    print(f"\n(1) worker code path: tiny offline models, {args.jobs} jobs per run")
    for kind, jobs, handler in (
        ("explain", explain_jobs, handlers.vlm_explain),
        ("judge", judge_jobs, handlers.report_judge),
    ):
        print(f"{kind}:\n{HEADER}")
        baseline = None
        for batch in args.batches:
            os.environ["RADGAME_EXPLAIN_BATCH_SIZE"] = str(batch)
            os.environ["RADGAME_JUDGE_BATCH_SIZE"] = str(batch)
            handler(jobs[0])  # load and warm up outside the timing
            seconds, latencies, results = burst(jobs, batch, handler)
            _check_worker_results(kind, results)
            run = Run("worker", batch, len(jobs), seconds, latencies, 0)
            print(run.row(baseline))
            baseline = baseline or run
    health = registry_for(MLConfig.from_env()).health()
    for model in health["models"]:
        print(
            f"  served {model['kind']}: {model.get('class')} on {model.get('device')} "
            f"{model.get('dtype')}, batching {model.get('batching')}"
        )


def _check_worker_results(kind: str, results: list[Any]) -> None:
    for result in results:
        if kind == "explain":
            (explanation,) = result["explanations"]
            assert explanation["text"] and explanation["backend"] in ("transformers", "knowledge")
        else:  # random weights rarely write a valid judgement: review is the honest outcome
            assert "errors" in result or result.get("needs_review") is True


# ---------------------------------------------------------------- (2) MedGemma-4B dimensions
# The models and prompts are built in bench/gpu_models.py; this section times them.


def measure(
    served: Any, prompts: list[Any], new_tokens: int, sequential_jobs: int, batches: Sequence[int]
) -> list[Run]:
    from ml.serving.registry import BatchedChatModel

    # Warm-up, single and batched shapes: kernels, caches, the allocator.
    served._generate(prompts[:1], new_tokens)
    served._generate(prompts[:8], new_tokens)
    runs = []
    sequential = prompts[:sequential_jobs]
    start = time.perf_counter()
    latencies = []
    for prompt in sequential:
        served._generate([prompt], new_tokens)
        latencies.append(time.perf_counter() - start)
    runs.append(Run("sequential", 1, len(sequential), time.perf_counter() - start, latencies,
                    len(sequential) * new_tokens))  # fmt: skip
    for batch in batches:
        jobs = sequential if batch == 1 else prompts
        batched = BatchedChatModel(served, max_batch=batch, max_wait_s=0.02, timeout_s=3600)
        seconds, latencies, answers = burst(
            jobs, len(jobs), lambda p, model=batched: model.complete(p, max_new_tokens=new_tokens)
        )
        assert all(answer == f"<{new_tokens} tokens>" for answer in answers), answers[:3]
        runs.append(Run("collector", batch, len(jobs), seconds, latencies, len(jobs) * new_tokens))
    return runs


def section_throughput(args: argparse.Namespace) -> None:
    import random

    import torch
    from transformers import Gemma3ForCausalLM, Gemma3ForConditionalGeneration

    from ml.vlm.local_models import LocalCausalLMChatModel, LocalVLMChatModel

    device = "cuda" if torch.cuda.is_available() else "cpu"
    scale = args.scale or ("full" if device == "cuda" else "ci")
    dtype = getattr(torch, args.dtype)
    if device == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    vlm_config, judge_config = gemma3_4b_configs(scale)
    rng = random.Random(0)
    explain_tokens = args.explain_tokens or (64 if scale == "full" else 24)
    judge_tokens = args.judge_tokens or (128 if scale == "full" else 32)
    print(
        f"\n(2) Gemma 3 4B architecture ({scale} scale), random weights, {args.dtype} on {device}; "
        f"{args.jobs} jobs per batched run, {args.sequential_jobs} sequential"
    )
    for kind, cls, served_cls, config, make_prompt, tokens in (
        ("explain", Gemma3ForConditionalGeneration, LocalVLMChatModel, vlm_config,
         lambda: explain_prompt(vlm_config, rng, device, dtype, args.images), explain_tokens),
        ("judge", Gemma3ForCausalLM, LocalCausalLMChatModel, judge_config,
         lambda: judge_prompt(judge_config, rng, device), judge_tokens),
    ):  # fmt: skip
        started = time.perf_counter()
        model = build_random(cls, config, device, dtype)
        params = sum(p.numel() for p in model.parameters())
        build_s = time.perf_counter() - started
        prompts = [make_prompt() for _ in range(args.jobs)]
        lengths = [int(p["input_ids"].shape[-1]) for p in prompts]
        memory = (
            f", {torch.cuda.memory_allocated() / 2**30:.1f} GiB on the GPU"
            if device == "cuda"
            else ""
        )
        print(
            f"{kind}: {cls.__name__}, {params / 1e9:.2f} B parameters (built in {build_s:.0f} s"
            f"{memory}); prompts {min(lengths)}-{max(lengths)} tokens, {tokens} new tokens each"
        )
        runs = measure(
            served_as_worker(served_cls, model, device, dtype),
            prompts,
            tokens,
            args.sequential_jobs,
            args.batches,
        )
        print(HEADER)
        for run in runs:
            print(run.row(None if run is runs[0] else runs[0]))
        if device == "cuda":
            print(f"  peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "worker": section_worker,
    "throughput": section_throughput,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--section", choices=[*SECTIONS, "all"], default="all")
    parser.add_argument("--scale", choices=["full", "ci"], default=None,
                        help="model size for (2): full on CUDA, ci on CPU by default")  # fmt: skip
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    parser.add_argument("--jobs", type=int, default=32, help="jobs per batched run")
    parser.add_argument("--sequential-jobs", type=int, default=8,
                        help="jobs in the sequential and batch-1 runs (rates are per job)")  # fmt: skip
    parser.add_argument("--images", type=int, default=2, help="images per explanation prompt")
    parser.add_argument("--explain-tokens", type=int, default=None)
    parser.add_argument("--judge-tokens", type=int, default=None)
    parser.add_argument("--worker-tokens", type=int, default=16)
    parser.add_argument(
        "--batches", type=int, nargs="+", default=list(BATCHES), help="batch sizes to measure"
    )
    args = parser.parse_args()
    print(machine())
    for name, section in SECTIONS.items():
        if args.section in (name, "all"):
            section(args)


if __name__ == "__main__":
    main()
