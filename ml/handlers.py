"""Job handlers: plain functions from a JSON payload to a JSON result.

The Celery worker (ml.worker) and the embedded in-process runner both call these by the dotted path
in ``ml.contracts.TASKS``. Heavy libraries are imported inside each handler.
"""

from __future__ import annotations

import os
import platform
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
    from .vlm import ExplainRequest, get_explainer

    try:
        requests = [ExplainRequest.from_dict(item) for item in payload["requests"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentJobError(f"bad explanation request: {exc}") from exc
    explainer = get_explainer(MLConfig.from_env())
    return {
        "explanations": [explanation.to_dict() for explanation in explainer.explain_many(requests)]
    }
