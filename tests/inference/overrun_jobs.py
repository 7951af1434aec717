"""A job kind for the hard time limit test only: its handler catches the soft limit's exception and
keeps spinning, so only the hard limit (the pool killing the child) ends it.

Registered only where a test asks: in the test process by putting ``SPEC`` in ``ml.contracts.TASKS``
(monkeypatched), in the worker by starting it with ``-A tests.inference.overrun_worker``. This
module imports no Celery app, so the test process's current app stays the web one.
"""

from __future__ import annotations

import time
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from ml.contracts import SCORING_QUEUE, TaskSpec

SPIN_TASK = "tests.diagnostics.spin_past_soft_limit"
SPEC = TaskSpec(
    SPIN_TASK,
    SCORING_QUEUE,
    "tests.inference.overrun_jobs:spin_ignoring_soft_limit",
    "Spins for spin_seconds, ignoring the soft time limit (tests only).",
)


# The same handler, as a kind whose hard-limit report is lost (overrun_worker drops it): the job is
# left to the sweeper, which re-sends it up to its attempt cap.
UNREPORTED_TASK = "tests.diagnostics.spin_past_soft_limit_unreported"
UNREPORTED_SPEC = SPEC._replace(name=UNREPORTED_TASK)


def spin_ignoring_soft_limit(payload: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + float(payload["spin_seconds"])
    ignored = 0
    while time.monotonic() < deadline:
        try:
            while time.monotonic() < deadline:
                pass  # CPU-bound, as a model call stuck in native code would be
        except SoftTimeLimitExceeded:
            ignored += 1  # and carry on
    return {"ignored_soft_limits": ignored}
