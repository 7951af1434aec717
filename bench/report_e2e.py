"""End-to-end latency of the Report exercise on the distributed deployment (``bench/report.py
--section e2e``): from pressing Submit to the scored result being visible.

What runs (all on this machine, loopback only): Postgres (a bench database created and dropped
here), Redis (one numbered database, flushed), ``uvicorn radgame.asgi:application``, a web-queue
worker ``celery -A radgame worker -Q web`` and a scoring worker ``celery -A ml.worker worker -Q
scoring``. Residents are simulated with httpx (the JSON API, session + CSRF like the browser) and
a websocket client on ``/ws/jobs/`` with the session cookie.

One submission's path: POST (attempt + outbox job commit, publish to the scoring queue) ->
scoring worker runs ``ml.report.score`` -> result task on the web queue -> web worker stores the
score (hook) and commits -> push on the owner's websocket. Measured per submission:

- POST: the submit request's latency;
- push: submit to the websocket frame announcing the finished job (what makes the page refresh);
- visible: submit to the first attempt-API poll that reads ``scored`` (polled every ``--e2e-poll-ms``,
  so this includes up to one poll interval of quantisation).

Warm-up submissions (not measured) load the scorer in the worker first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DB_NAME = "radgame_bench_report_e2e"
PASSWORD = "bench-password-not-secret-4821"  # noqa: S105 - a throwaway bench account


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("e2e section")
    group.add_argument("--e2e-submissions", type=int, default=200, help="measured submissions")
    group.add_argument("--e2e-warmup", type=int, default=5, help="unmeasured first submissions")
    group.add_argument(
        "--e2e-concurrency", default="1,4", help="comma-separated simultaneous residents per run"
    )
    group.add_argument("--e2e-cases", type=int, default=20, help="cases in the bench set")
    group.add_argument("--e2e-poll-ms", type=float, default=20.0, help="attempt-API poll interval")
    group.add_argument("--e2e-postgres", default="postgres://postgres@127.0.0.1:5432")
    group.add_argument("--e2e-redis", default="redis://127.0.0.1:6379/13")
    group.add_argument("--e2e-keep", action="store_true", help="keep the bench database")


def machine() -> str:
    cpu = "unknown CPU"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.platform()} | {cpu} | {cores} cores shared by every process | Python "
        f"{platform.python_version()} | load average {load:.1f} at start"
    )


# ----------------------------------------------------------------------------- environment


def _environment(args: argparse.Namespace) -> dict[str, str]:
    return {
        **os.environ,
        # base: DEBUG off, no production-only HTTPS cookies (the bench speaks plain HTTP).
        "DJANGO_SETTINGS_MODULE": "radgame.settings.base",
        "DATABASE_URL": f"{args.e2e_postgres.rstrip('/')}/{DB_NAME}",
        "REDIS_URL": args.e2e_redis,
        "CELERY_BROKER_URL": args.e2e_redis,
        "RADGAME_JOBS": "celery",
        "RADGAME_VAR_DIR": str(Path(tempfile.gettempdir()) / "radgame-bench-e2e"),
        "LOG_LEVEL": "WARNING",
        "API_THROTTLE_USER": "1000000/minute",
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": "1",
    }


def _recreate_database(args: argparse.Namespace, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{args.e2e_postgres.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def _flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_timeout=2).flushdb()


@contextmanager
def _process(
    name: str, argv: list[str], env: dict[str, str], ready: str, logs: Path
) -> Iterator[None]:
    log = logs / f"{name}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while ready not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start; log:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _celery(app: str, queue: str) -> list[str]:
    return [
        str(BIN / "celery"), "-A", app, "worker", "-Q", queue, "--concurrency", "1",
        "--pool", "prefork", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        "-n", f"bench-{queue}-{os.getpid()}@%h",
    ]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------------------------ data


def _png() -> bytes:
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(3)
    pixels = (rng.random((512, 512)) * 255).astype("uint8")
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def _seed(references: list[str], residents: int) -> dict[str, Any]:
    """Users, a cohort, a published set of cases with reference reports, through the services."""
    from django.test import Client

    from apps.accounts.services import user_create
    from apps.cases import services as cases
    from apps.cases.imaging import ingest_image
    from apps.cohorts.services import cohort_create, cohort_join_by_code

    educator = user_create(username="bench-educator", password=PASSWORD, role="educator")
    cohort = cohort_create(actor=educator, name="Bench cohort")
    case_set = cases.case_set_create(actor=educator, name="Bench set")
    image = _png()
    case_ids = []
    for index, reference in enumerate(references):
        case = cases.case_create(
            actor=educator,
            title=f"Bench case {index}",
            patient_age=30 + index % 50,
            patient_sex="M" if index % 2 else "F",
            view="PA",
            indication="Shortness of breath.",
        )
        cases.case_image_add(actor=educator, case=case, ingested=ingest_image(image), source=image)
        cases.case_normal_set(actor=educator, case=case, is_normal=True)
        cases.case_report_write(actor=educator, case=case, findings=reference, source="bench")
        cases.case_publish(actor=educator, case=case)
        cases.case_set_case_add(actor=educator, case_set=case_set, case=case)
        case_ids.append(case.pk)
    cases.case_set_assign(actor=educator, case_set=case_set, cohort=cohort)
    sessions = []
    for number in range(residents):
        user = user_create(username=f"bench-resident-{number}", password=PASSWORD)
        cohort_join_by_code(user=user, code=cohort.join_code)
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        sessions.append(client.cookies["sessionid"].value)
    return {"set_id": case_set.pk, "case_ids": case_ids, "sessions": sessions}


# ---------------------------------------------------------------------------------- clients


class Resident:
    """One simulated resident: an HTTP session and a websocket listening for job pushes."""

    def __init__(self, base: str, session: str, poll_s: float) -> None:
        import httpx

        self.base = base
        self.poll_s = poll_s
        self.http = httpx.AsyncClient(base_url=base, cookies={"sessionid": session}, timeout=30)
        self.session = session
        self.pushed: dict[str, float] = {}
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        page = await self.http.get("/report/")  # sets the CSRF cookie, like opening the page
        page.raise_for_status()
        self.csrf = self.http.cookies["csrftoken"]
        ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(ready))
        await asyncio.wait_for(ready.wait(), 10)

    async def _listen(self, ready: asyncio.Event) -> None:
        import json

        import websockets

        url = self.base.replace("http://", "ws://") + "/ws/jobs/"
        async with websockets.connect(
            url, origin=self.base, additional_headers={"Cookie": f"sessionid={self.session}"}
        ) as ws:
            ready.set()
            async for frame in ws:
                data = json.loads(frame)
                if data.get("status") in ("done", "failed"):
                    self.pushed.setdefault(data["job"], time.perf_counter())

    async def submit_and_wait(self, set_id: int, case_id: int, text: str) -> dict[str, float]:
        started = time.perf_counter()
        response = await self.http.post(
            f"/api/v1/report/sets/{set_id}/cases/{case_id}/attempts/",
            json={"text": text, "idempotency_key": uuid.uuid4().hex},
            headers={"X-CSRFToken": self.csrf, "Referer": f"{self.base}/report/"},
        )
        posted = time.perf_counter()
        response.raise_for_status()
        attempt = response.json()
        status = attempt["status"]
        while status == "pending":
            await asyncio.sleep(self.poll_s)
            poll = await self.http.get(f"/api/v1/report/attempts/{attempt['id']}/")
            status = poll.json()["status"]
        visible = time.perf_counter()
        if status != "scored":
            raise RuntimeError(f"attempt {attempt['id']} ended {status}: {poll.json()['error']}")
        for _ in range(100):  # the push normally arrives before the poll sees the row
            if attempt["job_id"] in self.pushed:
                break
            await asyncio.sleep(0.01)
        pushed = self.pushed.get(attempt["job_id"], float("nan"))
        return {
            "post": posted - started,
            "push": pushed - started,
            "visible": visible - started,
        }

    async def close(self) -> None:
        if self._listener:
            self._listener.cancel()
            with suppress(BaseException):
                await self._listener
        await self.http.aclose()


async def _run(
    base: str, seed: dict[str, Any], texts: list[str], concurrency: int, count: int, poll_s: float
) -> tuple[list[dict[str, float]], float]:
    residents = [Resident(base, s, poll_s) for s in seed["sessions"][:concurrency]]
    for resident in residents:
        await resident.start()
    cases = seed["case_ids"]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)
    results: list[dict[str, float]] = []

    async def play(resident: Resident) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            case_index = index % len(cases)
            results.append(
                await resident.submit_and_wait(seed["set_id"], cases[case_index], texts[index])
            )

    started = time.perf_counter()
    try:
        await asyncio.gather(*(play(r) for r in residents))
    finally:
        for resident in residents:
            await resident.close()
    return results, time.perf_counter() - started


def _percentiles(values: list[float]) -> str:
    values = sorted(v for v in values if v == v)  # drop NaN (a push that never came)
    if not values:
        return "no data"
    cuts = (
        statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
    )
    return (
        f"p50 {1000 * cuts[49]:6.0f} ms  p95 {1000 * cuts[94]:6.0f} ms  "
        f"p99 {1000 * cuts[98]:6.0f} ms  max {1000 * values[-1]:6.0f} ms"
    )


# ------------------------------------------------------------------------------------ main


def section_e2e(args: argparse.Namespace, corpus: Callable[[int], list[Any]]) -> None:
    levels = [int(level) for level in args.e2e_concurrency.split(",") if level.strip()]
    warmup, count = args.e2e_warmup, args.e2e_submissions
    pairs = corpus(max(args.e2e_cases, warmup + count * len(levels)))
    references = [pair.reference for pair in pairs[: args.e2e_cases]]
    # Each submission is the candidate written for its case's reference.
    texts = [
        pairs[index % args.e2e_cases].candidate for index in range(warmup + count * len(levels))
    ]
    env = _environment(args)
    print(f"machine: {machine()}")
    print(
        f"inputs: {len(references)} cases with generated reference reports (seed 7, mean "
        f"{statistics.mean(map(len, references)):.0f} chars), candidates mean "
        f"{statistics.mean(map(len, texts)):.0f} chars; {warmup} warm-up + {count} measured "
        f"submissions per concurrency level {levels}; attempt API polled every "
        f"{args.e2e_poll_ms:g} ms"
    )
    print(
        "processes: Postgres + Redis (loopback), 1 uvicorn, celery web worker (prefork, 1 child), "
        "celery scoring worker (prefork, 1 child); settings radgame.settings.base (DEBUG off)"
    )
    try:
        _recreate_database(args)
        _flush_redis(args.e2e_redis)
    except Exception as exc:  # any connection failure means "not here"
        print(f"skipped: Postgres or Redis is not reachable ({type(exc).__name__}: {exc})")
        return
    logs = Path(tempfile.mkdtemp(prefix="radgame-bench-e2e-"))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
        check=True,
    )  # fmt: skip
    for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL",
                "RADGAME_JOBS", "RADGAME_VAR_DIR", "LOG_LEVEL"):  # fmt: skip
        os.environ[key] = env[key]
    import django

    django.setup()
    seed = _seed(references, residents=max(levels))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    uvicorn = [str(BIN / "python"), "-m", "radgame.serve", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "info", "--no-access-log"]  # fmt: skip
    try:
        with ExitStack() as stack:
            stack.enter_context(_process("uvicorn", uvicorn, env, "startup complete", logs))
            stack.enter_context(_process("web", _celery("radgame", "web"), env, "ready.", logs))
            stack.enter_context(
                _process("scoring", _celery("ml.worker", "scoring"), env, "ready.", logs)
            )
            poll_s = args.e2e_poll_ms / 1000
            warm, _ = asyncio.run(_run(base, seed, texts[:warmup], 1, warmup, poll_s))
            print(
                f"warm-up: first submission visible after {1000 * warm[0]['visible']:.0f} ms "
                "(the scoring worker loads the scorer on first use)"
            )
            offset = warmup
            for level in levels:
                batch = texts[offset : offset + count]
                offset += count
                results, wall = asyncio.run(_run(base, seed, batch, level, count, poll_s))
                print(f"concurrency {level}: {count} submissions in {wall:.1f} s "
                      f"({count / wall:.1f} scored/s)")  # fmt: skip
                for key, label in (
                    ("post", "POST submit"),
                    ("push", "submit -> websocket push"),
                    ("visible", "submit -> result visible (API poll)"),
                ):
                    print(f"  {label:<38} {_percentiles([r[key] for r in results])}")
                visible = sorted(r["visible"] for r in results)
                p95 = statistics.quantiles(visible, n=100, method="inclusive")[94]
                verdict = "meets" if p95 <= 1.0 else "MISSES"
                print(f"  target p95 <= 1 s (visible): {verdict} ({1000 * p95:.0f} ms)")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.e2e_keep:
            _recreate_database(args, drop_only=True)
        print(f"logs: {logs}")
