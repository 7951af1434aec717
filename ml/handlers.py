"""Job handlers: plain functions from a JSON payload to a JSON result.

The Celery worker (ml.worker) and the embedded in-process runner both call these by the dotted path
in ``ml.contracts.TASKS``. Heavy libraries are imported inside each handler.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from typing import Any

from .contracts import PermanentJobError

MAX_PING_HOLD_SECONDS = 30.0


def diagnostics_ping(payload: dict[str, Any]) -> dict[str, Any]:
    hold = float(payload.get("hold_seconds", 0) or 0)
    if not 0 <= hold <= MAX_PING_HOLD_SECONDS:
        raise PermanentJobError(f"hold_seconds must be between 0 and {MAX_PING_HOLD_SECONDS:g}")
    started = time.monotonic()
    if hold:
        time.sleep(hold)
    return {
        "echo": str(payload.get("echo", ""))[:200],
        "held_seconds": round(time.monotonic() - started, 3),
        "host": platform.node(),
        "pid": os.getpid(),
    }


def diagnostics_ping_gpu(payload: dict[str, Any]) -> dict[str, Any]:
    """Round trip through a gpu worker: the hold runs in the worker's diagnostics batch collector
    (concurrent pings share one hold, as concurrent model jobs share one generate call), and the
    answer carries the worker's health: what it serves, what is loaded, on which device, and how
    much memory that takes."""
    from .config import MLConfig
    from .serving.registry import registry_for

    hold = float(payload.get("hold_seconds", 0) or 0)
    if not 0 <= hold <= MAX_PING_HOLD_SECONDS:
        raise PermanentJobError(f"hold_seconds must be between 0 and {MAX_PING_HOLD_SECONDS:g}")
    config = MLConfig.from_env()
    started = time.monotonic()
    batch_size = _ping_collector(config).submit(hold).result(timeout=MAX_PING_HOLD_SECONDS + 30)
    return {
        "echo": str(payload.get("echo", ""))[:200],
        "held_seconds": round(time.monotonic() - started, 3),
        "batch_size": batch_size,
        "host": platform.node(),
        "pid": os.getpid(),
        "health": registry_for(config).health(),
    }


_PING_COLLECTORS: dict[tuple[int, float], Any] = {}
_PING_LOCK = threading.Lock()


def _ping_collector(config: Any) -> Any:
    from .serving.batching import BatchCollector

    key = (config.explain_batch_size, config.batch_wait_ms)
    with _PING_LOCK:
        if key in _PING_COLLECTORS:
            return _PING_COLLECTORS[key]

        def hold_together(holds: list[float]) -> list[int]:
            time.sleep(max(holds))
            return [len(holds)] * len(holds)

        _PING_COLLECTORS[key] = BatchCollector(
            hold_together,
            max_batch=config.explain_batch_size,
            max_wait_s=config.batch_wait_ms / 1000,
            name="ping",
        )
        return _PING_COLLECTORS[key]


def localize_score(payload: dict[str, Any]) -> dict[str, Any]:
    from .boxes import BoxError, parse_marks, parse_reference, score_localize

    try:
        reference = parse_reference(payload["reference"])
        marks = parse_marks(payload["marks"])
    except (KeyError, BoxError, ValueError) as exc:
        raise PermanentJobError(str(exc)) from exc
    return score_localize(reference, marks)


def report_score(payload: dict[str, Any]) -> dict[str, Any]:
    from .report_metrics import ReportInputError, score_report

    try:
        return score_report(
            payload["reference"],
            payload["candidate"],
            age=payload.get("age"),
            indication=payload.get("indication"),
            has_prior=bool(payload.get("has_prior", False)),
            vocabulary=payload.get("vocabulary"),
        )
    except (KeyError, ReportInputError) as exc:
        raise PermanentJobError(str(exc)) from exc


def report_judge(payload: dict[str, Any]) -> dict[str, Any]:
    from .config import ConfigError, MLConfig
    from .report_metrics.judge import JudgeOutputError, judge_report
    from .vlm.errors import BackendResponseError

    try:
        result = judge_report(
            payload["reference"],
            payload["candidate"],
            config=MLConfig.from_env(),
            age=payload.get("age"),
            indication=payload.get("indication"),
        )
    except JudgeOutputError as exc:
        # Not retried: the model answered, but not in the schema. Kept for an educator to review.
        return {
            "needs_review": True,
            "error": str(exc),
            "raw_answers": [answer[:4000] for answer in getattr(exc, "raw_answers", [])],
        }
    except (KeyError, ConfigError, BackendResponseError) as exc:
        raise PermanentJobError(str(exc)) from exc
    return result.to_dict()


def vlm_explain(payload: dict[str, Any]) -> dict[str, Any]:
    from .config import MLConfig
    from .vlm import BackendResponseError, ExplainRequest, get_explainer

    try:
        requests = [ExplainRequest.from_dict(item) for item in payload["requests"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentJobError(f"bad explanation request: {exc}") from exc
    explainer = get_explainer(MLConfig.from_env())
    try:
        explanations = explainer.explain_many(requests)
    except BackendResponseError as exc:
        # This input cannot be answered (a prompt the model cannot encode, a 4xx): retrying the
        # same job would fail the same way. Transient errors propagate and are retried.
        raise PermanentJobError(str(exc)) from exc
    return {"explanations": [explanation.to_dict() for explanation in explanations]}
