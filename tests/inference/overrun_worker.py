"""``celery -A tests.inference.overrun_worker worker -Q scoring``: ml.worker's app and tasks, plus
the test-only job kinds of ``overrun_jobs`` (registered in this process only)."""

from __future__ import annotations

from typing import Any

from ml import worker
from ml.contracts import TASKS

from .overrun_jobs import SPEC, UNREPORTED_SPEC

for spec in (SPEC, UNREPORTED_SPEC):
    TASKS[spec.name] = spec
    worker.registered_tasks[spec.name] = worker._make_task(spec)
app = worker.app


def _report_lost(*args: Any, **kwargs: Any) -> None:
    """Stands for a hard-limit report that could not be sent (the broker was away)."""


app.tasks[UNREPORTED_SPEC.name].on_failure = _report_lost
