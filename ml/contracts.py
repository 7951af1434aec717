"""The web <-> worker contract: task names, queues and JSON payload shapes.

The web side sends a job by task NAME with ``(job_id, payload)``; a worker runs the handler named
here and sends ``(job_id, status, result, error)`` back by name to the ``web`` queue. Workers need no
Django and no database credentials: payloads are JSON and images travel as media-relative paths.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, TypedDict

SCORING_QUEUE = "scoring"
GPU_QUEUE = "gpu"
WEB_QUEUE = "web"

# Received by the web side (apps.inference.tasks) on the web queue.
RESULT_TASK = "radgame.inference.job_result"
SWEEP_TASK = "radgame.inference.sweep"
# Jobs that need Django (imports, upload parsing) run on the web queue by this task.
WEB_JOB_TASK = "radgame.inference.run_web_job"

# The model tasks, by name: callers use these constants, never the strings.
LOCALIZE_SCORE_TASK = "ml.localize.score"
VLM_EXPLAIN_TASK = "ml.vlm.explain"
REPORT_SCORE_TASK = "ml.report.score"
REPORT_JUDGE_TASK = "ml.report.judge"
PING_TASK = "ml.diagnostics.ping"
PING_GPU_TASK = "ml.diagnostics.ping_gpu"

Queue = Literal["scoring", "gpu"]


class TaskSpec(NamedTuple):
    name: str
    queue: Queue
    handler: str  # "module:function", imported only where the job runs
    description: str


TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec(
            LOCALIZE_SCORE_TASK,
            SCORING_QUEUE,
            "ml.handlers:localize_score",
            "Score localize marks against a reference (batch re-scoring).",
        ),
        TaskSpec(
            VLM_EXPLAIN_TASK,
            GPU_QUEUE,
            "ml.handlers:vlm_explain",
            "Explain findings (missed, false positive, mislabelled, reference) in words.",
        ),
        TaskSpec(
            REPORT_SCORE_TASK,
            SCORING_QUEUE,
            "ml.handlers:report_score",
            "Score a findings text against the reference report.",
        ),
        TaskSpec(
            REPORT_JUDGE_TASK,
            GPU_QUEUE,
            "ml.handlers:report_judge",
            "Itemised LLM-judge review of a findings text (optional backend).",
        ),
        TaskSpec(
            PING_TASK,
            SCORING_QUEUE,
            "ml.handlers:diagnostics_ping",
            "Round-trip check of the job pipeline; optionally holds the worker for a few seconds.",
        ),
        TaskSpec(
            PING_GPU_TASK,
            GPU_QUEUE,
            "ml.handlers:diagnostics_ping_gpu",
            "Round-trip check of the gpu queue; reports the worker's health: the models it "
            "serves, which are loaded, on which device, with how much memory.",
        ),
    )
}


class UnknownTaskError(KeyError):
    pass


def spec_for(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownTaskError(
            f"Unknown task {name!r}; known: {', '.join(sorted(TASKS))}"
        ) from None


class PermanentJobError(ValueError):
    """Bad input: retrying cannot help, so the job fails at once with this message."""


JobStatus = Literal["done", "failed"]


class JobOutcome(TypedDict):
    job_id: str
    status: JobStatus
    result: dict[str, Any] | None
    error: str


class PingPayload(TypedDict, total=False):
    hold_seconds: float
    echo: str


class LocalizeScorePayload(TypedDict):
    reference: dict[str, Any]
    marks: dict[str, Any]


class ReportScorePayload(TypedDict, total=False):
    reference: str
    candidate: str
    age: int | None
    indication: str | None
    has_prior: bool
    # A reference derived from dataset labels: the labels it could name (others are not scored).
    vocabulary: list[str] | None


class ExplainPayload(TypedDict):
    requests: list[dict[str, Any]]  # ml.vlm.ExplainRequest.to_dict() each
