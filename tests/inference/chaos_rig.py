"""The chaos rig: the whole deployment path as real processes, with faults we can inject.

- a private broker (``redis-server`` on a free port, no persistence), so "restart the broker"
  never touches the machine's shared Redis;
- ``ChaosProxy`` in front of Postgres and in front of that broker: every process below reaches
  both only through the proxies;
- the web process (``radgame.serve``) and the web-queue, scoring and gpu-queue workers, each
  restartable;
- residents as HTTP clients submitting Localize answers through the API, each answer with its
  own idempotency key, retried with the same key until the server answers 2xx (the R01 client),
  and written to a ledger;
- ``reconcile()``: the RELIABILITY §3 queries on the ledger and the database.
"""

from __future__ import annotations

import math
import os
import signal
import time
import uuid
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from django.db import connection
from django.urls import reverse

from . import services_harness as harness
from .chaos_proxy import ChaosProxy

CLIENT_TIMEOUT_S = 5.0
PROCESSES = ("broker", "web", "webq", "scoring", "gpu")
# The sweeper's lease on a sent job. Production keeps 360 s; on two shared cores with processes
# restarting, an explanation can take a while, so the rig keeps a minute (not less: a lease
# shorter than a slow job re-sends it until it is failed as abandoned).
LEASE_S = 60
# Faults that take away what every request needs, for a moment: the database, or the Redis that
# holds the sessions (here, as in docker-compose, the broker's Redis: restarting it restarts the
# cache too). Requests in such a moment are answered 503 with Retry-After (apps.core.views
# .server_error); R14 and section 3 allow one failed request per resident each time one strikes
# (the client waits as told), and none in any other fault.
OUTAGE_FAULTS = (
    "database connections terminated",
    "database connections reset",
    "broker restart",
)
CLIENT_GIVE_UP_S = 90.0


@dataclass
class Ledger:
    """What the clients were told: key -> attempt id, and every reply's status."""

    accepted: dict[tuple[int, str], int] = field(default_factory=dict)
    statuses: list[tuple[str, int]] = field(default_factory=list)  # (fault window, status)
    phase: str = ""
    phase_of: dict[int, str] = field(default_factory=dict)  # attempt id -> its fault window
    errors: int = 0  # connection failures and timeouts, each followed by a retry
    # Every POST as the client saw it: (started, ended, status; 0 for no reply), monotonic time,
    # and when each fault was on: (fault, started, ended). R08's POST latency in a fault window.
    posts: list[tuple[float, float, int]] = field(default_factory=list)
    windows: list[tuple[str, float, float]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # every answer started (accepted, or raised)


class Rig:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.stack = ExitStack()
        self.procs: dict[str, ExitStack] = {}
        self.pids: dict[str, int] = {}
        self.broker_port = harness.free_port()
        self.web_port = harness.free_port()
        settings = connection.settings_dict
        self.db_name = settings["NAME"]
        self.pg = ChaosProxy(settings.get("HOST") or "127.0.0.1", int(settings.get("PORT") or 5432))
        # One redis-server, two paths: the broker's, and the cache's, sessions' and channel
        # layer's (RELIABILITY R09 keeps the broker apart from the cache), so a broker fault
        # through its proxy is a broker fault only; a restart of the server hits both.
        self.broker = ChaosProxy("127.0.0.1", self.broker_port)
        self.cache = ChaosProxy("127.0.0.1", self.broker_port)
        user = settings.get("USER") or "postgres"
        broker_url = self.broker_url = f"redis://127.0.0.1:{self.broker.port}/0"
        self.env = harness.process_env(
            self.db_name,
            DATABASE_URL=f"postgres://{user}@127.0.0.1:{self.pg.port}/{self.db_name}",
            REDIS_URL=f"redis://127.0.0.1:{self.cache.port}/0",
            CELERY_BROKER_URL=broker_url,
            RADGAME_JOB_LEASE_SECONDS=str(LEASE_S),
            # DEBUG off, as deployed: a fault is answered by the product's error handling (a
            # database that is away is a 503 with Retry-After), not Django's debug page.
            DJANGO_SETTINGS_MODULE="radgame.settings.base",
        )
        self.base_url = f"http://127.0.0.1:{self.web_port}"

    # ------------------------------------------------------------------------------- processes

    def _command(self, name: str) -> tuple[list[str], str]:
        if name == "broker":
            return [
                "redis-server",
                "--port",
                str(self.broker_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ], "Ready to accept connections"
        if name == "web":
            return harness.uvicorn(self.web_port), "Application startup complete"
        if name == "webq":
            return harness.celery("radgame", "web"), "ready."
        if name == "gpu":  # the explanation jobs' queue (the knowledge explainer on CPU here)
            return harness.celery("ml.worker", "gpu", concurrency=2, pool="threads"), "ready."
        return harness.celery("ml.worker", "scoring"), "ready."

    def start(self, name: str) -> None:
        args, ready = self._command(name)
        stack = ExitStack()
        log = self.tmp / f"{name}-{time.monotonic_ns()}.log"
        proc = stack.enter_context(harness.running(args, self.env, log, ready, timeout=60))
        self.procs[name], self.pids[name] = stack, proc.pid

    def kill(self, name: str) -> None:
        """SIGKILL the process and its children (no warm shutdown, nothing acked)."""
        with suppress(ProcessLookupError):
            os.killpg(self.pids[name], signal.SIGKILL)
        self.procs.pop(name).close()

    def restart(self, name: str) -> None:
        self.kill(name)
        self.start(name)

    def __enter__(self) -> Rig:
        for name in PROCESSES:
            self.start(name)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in list(self.procs):
            self.kill(name)
        self.pg.close()
        self.broker.close()
        self.cache.close()

    def terminate_db_connections(self) -> int:
        """pg_terminate_backend on every connection of the app's processes (not this test's)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.db_name],
            )
            return int(cursor.fetchone()[0])

    def sweep(self) -> None:
        """What beat does in production: a sweep task on the web queue, through the rig's broker,
        so the sweeper's re-sends reach the rig's workers (not the test process's own broker)."""
        from celery import current_app

        from ml.contracts import SWEEP_TASK, WEB_QUEUE

        with current_app.connection_for_write(self.broker_url) as conn:
            current_app.send_task(SWEEP_TASK, queue=WEB_QUEUE, connection=conn)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted(self.tmp.glob("*.log"))
        )


# ------------------------------------------------------------------------------------ clients


def resident_client(user: Any, base_url: str) -> httpx.Client:
    """An HTTP client with the user's session and a CSRF token pair, as a browser would hold."""
    from django.conf import settings
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    token = _get_new_csrf_string()
    return httpx.Client(
        base_url=base_url,
        cookies={
            settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
            settings.CSRF_COOKIE_NAME: token,
        },
        headers={"X-CSRFToken": token, "Referer": base_url + "/"},
        timeout=CLIENT_TIMEOUT_S,
    )


def submit(client: httpx.Client, user_id: int, set_id: int, case_id: int, ledger: Ledger) -> None:
    """One answer with a fresh key, retried with the same key until a 2xx (or give up)."""
    key = str(uuid.uuid4())
    body = {
        "marks": {"boxes": [{"label": "Nodule", "box": [0.2, 0.2, 0.4, 0.4]}]},
        "selected": ["Effusion"],
        "idempotency_key": key,
    }
    url = reverse("api-localize-attempt-submit", args=[set_id, case_id])
    ledger.keys.append(key)
    deadline = time.monotonic() + CLIENT_GIVE_UP_S
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            response = client.post(url, json=body)
        except httpx.HTTPError:
            ledger.posts.append((started, time.monotonic(), 0))
            ledger.errors += 1
            time.sleep(0.3)
            continue
        ledger.posts.append((started, time.monotonic(), response.status_code))
        ledger.statuses.append((ledger.phase, response.status_code))
        if response.status_code < 300:
            ledger.accepted[(user_id, key)] = response.json()["id"]
            ledger.phase_of[response.json()["id"]] = ledger.phase
            return
        # As a good client does: a 503 (the database away) says when to try again.
        time.sleep(max(0.3, float(response.headers.get("Retry-After") or 0)))
    raise AssertionError(f"answer {key} never accepted; last replies {ledger.statuses[-5:]}")


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (the 99th is the largest value below 100 samples)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else math.nan


def window_latencies(ledger: Ledger) -> dict[str, dict[str, float]]:
    """Per fault: the POSTs in flight while it was on (started before it ended, ended after it
    began), how many, their client-observed median and p99 in seconds (a timeout counts as the time the
    client waited) and their 5xx replies."""
    out: dict[str, dict[str, float]] = {}
    for fault in dict.fromkeys(name for name, _, _ in ledger.windows):
        spans = [(on, off) for name, on, off in ledger.windows if name == fault]
        inside = [
            (ended - started, status)
            for started, ended, status in ledger.posts
            if any(started < off and ended > on for on, off in spans)
        ]
        took = [seconds for seconds, _ in inside]
        out[fault] = {
            "posts": len(inside),
            "p50_s": round(percentile(took, 50), 3),
            "p99_s": round(percentile(took, 99), 3),
            "5xx": sum(1 for _, status in inside if status >= 500),
        }
    return out


def summaries_differ() -> int:
    """R16: weekly summaries (``analytics.AttemptWeek``) that differ from a recount of the attempt
    rows (``analytics_reconcile``'s comparison). The rig's web process writes them on commit;
    the test process writes none, so a summary missing here is a hook that did not run there."""
    from apps.analytics.summary import reconcile as summaries_reconcile

    report = summaries_reconcile()
    return len(report.missing) + len(report.extra) + len(report.different)


def reconcile(ledger: Ledger, residents: int) -> dict[str, int]:
    """RELIABILITY §3's reconciliation, on the Localize answers the clients were told about and
    the explanation jobs they started, and R16's weekly summaries. Every figure must be 0."""
    from django.db.models import Count

    from apps.inference.models import FINAL_STATUSES, Job, JobStatus
    from apps.localization.models import Explanation, LocalizationAttempt

    attempts = LocalizationAttempt.objects.all()
    told = {attempt_id: key for key, attempt_id in ledger.accepted.items()}
    stored = {a.pk: (a.user_id, str(a.idempotency_key)) for a in attempts}
    job_ids = [a.explain_job_id for a in attempts if a.explain_job_id]
    jobs = Job.objects.filter(pk__in=job_ids)
    return {
        # accepted (2xx) but not in the database, or stored under another key
        "lost_at_api": sum(1 for pk, key in told.items() if stored.get(pk) != key),
        # in the database but never acknowledged to any client: a retry made a second row
        "unacknowledged": len(set(stored) - set(told)),
        "duplicate_submissions": attempts.values("user", "idempotency_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "unscored": sum(1 for a in attempts if a.score is None),
        # an explanation job that never reached a final state, or vanished
        "lost_scores": jobs.exclude(status__in=FINAL_STATUSES).count()
        + len(job_ids)
        - jobs.count(),
        # failed because no worker got to finish it (the sweeper gave up): lost by the platform
        "abandoned_scores": jobs.filter(
            status=JobStatus.FAILED, error__startswith="no worker finished"
        ).count(),
        "duplicate_scores": Explanation.objects.filter(attempt__isnull=False)
        .values("attempt", "item")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        # RELIABILITY §3: no 5xx outside the database faults; R14: at most one failed request per
        # resident (each has one request in flight) when its database connection is killed.
        "server_errors_outside_outages": sum(
            1 for phase, status in ledger.statuses if status >= 500 and phase not in OUTAGE_FAULTS
        ),
        # (per resident and per time the fault struck: the long run strikes each several times)
        "outages_over_one_5xx_per_resident": sum(
            max(
                0,
                sum(1 for p, s in ledger.statuses if p == fault and s >= 500)
                - residents * sum(1 for name, *_ in ledger.windows if name == fault),
            )
            for fault in OUTAGE_FAULTS
        ),
        "weekly_summaries_differ": summaries_differ(),
    }


def failure_reasons(ledger: Ledger) -> dict[str, int]:
    """Why explanation jobs failed, by the fault window their answer was given in."""
    from apps.inference.models import JobStatus
    from apps.localization.models import LocalizationAttempt

    reasons: dict[str, int] = {}
    failed = LocalizationAttempt.objects.filter(explain_job__status=JobStatus.FAILED)
    for attempt in failed.select_related("explain_job"):
        reason = f"{ledger.phase_of.get(attempt.pk)}: {attempt.explain_job.error[:80]}"
        reasons[reason] = reasons.get(reason, 0) + 1
    return reasons
