"""HTTP load on the Localize submit endpoint, registered as the ``load`` section of bench/localize.py.

    python bench/localize.py --section load [--load-seconds 15] [--realistic-seconds 60]

What runs: a fresh Postgres database (``radgame_bench_localize`` on 127.0.0.1:5432, dropped and
re-created each run), migrated and seeded with published cases, a case set, a cohort and 110
logged-in residents; a real ASGI server (``uvicorn radgame.asgi:application --workers 2``, DEBUG
off, base settings); an async client (httpx) on the same machine posting
``/api/v1/localize/sets/<id>/cases/<id>/attempts/`` with 1-3 boxes, a tick and a fresh idempotency
key per request, round-robin over the residents (the per-user API throttle stays in force).

Phases: closed loops of 1, 10 and 50 connections posting back to back (the 50 one is the capacity
figure), then a realistic cohort: 60 residents each submitting about every 10 s. Every reply is
checked (201 and a body) and afterwards the attempts table is counted: no error and no lost or
duplicated attempt is allowed. Targets: realistic p95 <= 100 ms; capacity >= 300/s with p95 <= 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localize_seed import CASES, RESIDENTS

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    seconds: float = 0.0
    # CPU seconds spent while the phase was measured: the server's processes, and the whole
    # machine (server, Postgres, Redis and this client together).
    server_cpu: float = 0.0
    machine_cpu: float = 0.0

    def row(self) -> str:
        lat = sorted(self.latencies)
        if not lat:
            return f"{self.name:<34} no requests"

        def pct(p: float) -> float:
            return _percentile(lat, p)

        rate = len(lat) / self.seconds if self.seconds else 0.0
        return (
            f"{self.name:<34}{len(lat):>7}{rate:>9.1f}/s  p50 {pct(50):6.1f}  p95 {pct(95):6.1f}"
            f"  p99 {pct(99):6.1f}  max {lat[-1] * 1000:6.1f} ms  errors {len(self.errors)}"
            f"\n{'':<34}CPU per submit: server {1000 * self.server_cpu / len(lat):5.1f} ms, "
            f"whole machine {1000 * self.machine_cpu / len(lat):5.1f} ms"
        )

    def p95_ms(self) -> float:
        return _percentile(sorted(self.latencies), 95) if self.latencies else 0.0


def _percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted seconds, in milliseconds."""
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


class CpuMeter:
    """CPU seconds from /proc: the server's process group (uvicorn and its workers) and the whole
    machine (busy time of every core), so a phase can say what one submit costs."""

    def __init__(self, server_pgid: int) -> None:
        self.pgid = server_pgid
        self.tick = os.sysconf("SC_CLK_TCK")

    def server(self) -> float:
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended meanwhile
            if int(fields[2]) == self.pgid:  # pgrp, then utime and stime at 11 and 12
                total += int(fields[11]) + int(fields[12])
        return total / self.tick

    def machine(self) -> float:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return (sum(values[:8]) - values[3] - values[4]) / self.tick  # all but idle and iowait

    def snapshot(self) -> tuple[float, float]:
        return self.server(), self.machine()

    def charge(self, phase: Phase, start: tuple[float, float]) -> None:
        end = self.snapshot()
        phase.server_cpu, phase.machine_cpu = end[0] - start[0], end[1] - start[1]


# ---------------------------------------------------------------------------- orchestration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _recreate_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _redis_reachable(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def _pool_available() -> bool:
    try:
        import psycopg_pool  # noqa: F401
    except ImportError:
        return False
    return True


def _environment(args: argparse.Namespace, work: Path, jobs: str, pool: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "radgame.settings.base",
        "DATABASE_URL": f"{args.pg_server}/{args.bench_db}",
        # Django's psycopg connection pool, as the settings offer it (needs psycopg-pool).
        "DB_POOL": "true" if pool else "false",
        "RADGAME_VAR_DIR": str(work),
        "MEDIA_ROOT": str(work / "media"),
        "LOG_LEVEL": "WARNING",
        # Under ASGI every request runs in its own thread, so persistent connections pile up until
        # Postgres refuses more (Django's docs: disable them under ASGI, or pool them).
        "DB_CONN_MAX_AGE": "0",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    if jobs == "celery":
        env["REDIS_URL"] = args.redis_url
    return env


def _wait_up(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the ASGI server exited during start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the ASGI server did not answer /healthz/")


def _count(db_url: str, sent_keys: set[str], created_ids: list[int]) -> dict[str, int]:
    import psycopg

    with psycopg.connect(db_url) as conn:
        total = conn.execute("SELECT count(*) FROM localization_localizationattempt").fetchone()[0]
        keys = conn.execute(
            "SELECT count(DISTINCT idempotency_key) FROM localization_localizationattempt"
        ).fetchone()[0]
        found = conn.execute(
            "SELECT count(*) FROM localization_localizationattempt WHERE id = ANY(%s)",
            (created_ids,),
        ).fetchone()[0]
        events = conn.execute(
            "SELECT count(*) FROM progress_scoreevent WHERE kind = 'localize'"
        ).fetchone()[0]
    return {"rows": total, "distinct_keys": keys, "acknowledged_found": found, "events": events,
            "sent": len(sent_keys)}  # fmt: skip


# ---------------------------------------------------------------------------- load (client)


class Load:
    def __init__(self, base: str, data: dict[str, Any], seed_value: int, cpu: CpuMeter) -> None:
        self.base = base
        self.cpu = cpu
        self.set_id = data["set_id"]
        self.cases = data["cases"]
        self.sessions = data["sessions"]
        self.rng = random.Random(seed_value)
        self.turn = 0
        self.sent_keys: set[str] = set()
        # Any 32-character secret works as Django's CSRF cookie and header alike.
        self.csrf = [secrets.token_hex(16) for _ in self.sessions]

    def _marks(self, case: dict[str, Any]) -> dict[str, Any]:
        boxes = []
        for truth in case["truth"]:
            if self.rng.random() < 0.75:  # found it, roughly
                j = [v + self.rng.uniform(-0.03, 0.03) for v in truth["box"]]
                j = [min(max(v, 0.0), 1.0) for v in j]
                if j[0] < j[2] and j[1] < j[3]:
                    boxes.append({"label": truth["label"], "box": j, "confidence": 3})
        if self.rng.random() < 0.3:  # a stray box: a false positive to explain
            boxes.append({"label": "Nodule", "box": [0.8, 0.05, 0.9, 0.15]})
        return {"boxes": boxes}

    def request(self, user: int | None = None) -> tuple[str, dict[str, str], bytes]:
        if user is None:
            user = self.turn % len(self.sessions)
            self.turn += 1
        case = self.cases[self.rng.randrange(len(self.cases))]
        key = str(uuid.uuid4())
        self.sent_keys.add(key)
        body = {"marks": self._marks(case), "selected": ["Emphysema"] if self.rng.random() < 0.3
                else [], "idempotency_key": key}  # fmt: skip
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-CSRFToken": self.csrf[user],
            "Cookie": f"sessionid={self.sessions[user]}; csrftoken={self.csrf[user]}",
        }
        url = f"/api/v1/localize/sets/{self.set_id}/cases/{case['id']}/attempts/"
        return url, headers, json.dumps(body).encode()

    async def one(self, client: Any, phase: Phase | None, user: int | None = None) -> None:
        url, headers, body = self.request(user)
        start = time.perf_counter()
        try:
            response = await client.post(url, content=body, headers=headers)
        except Exception as error:
            if phase is not None:
                phase.errors.append(f"{type(error).__name__}: {error}")
            return
        elapsed = time.perf_counter() - start
        if phase is None:
            return
        if response.status_code != 201:
            phase.errors.append(f"{response.status_code}: {response.text[:200]}")
            return
        phase.latencies.append(elapsed)
        phase.created.append(response.json()["id"])

    async def closed_loop(
        self, client: Any, connections: int, seconds: float, warmup: float
    ) -> Phase:
        phase = Phase(f"closed loop, {connections} connection{'s' if connections > 1 else ''}")
        start = time.perf_counter()
        measure_from, stop = start + warmup, start + warmup + seconds
        cpu_from: list[tuple[float, float]] = []

        async def worker() -> None:
            while time.perf_counter() < stop:
                await self.one(client, phase if time.perf_counter() >= measure_from else None)

        async def meter() -> None:
            await asyncio.sleep(warmup)
            cpu_from.append(self.cpu.snapshot())

        await asyncio.gather(meter(), *(worker() for _ in range(connections)))
        phase.seconds = time.perf_counter() - measure_from
        self.cpu.charge(phase, cpu_from[0])
        return phase

    async def cohort(self, client: Any, residents: int, every: float, seconds: float) -> Phase:
        phase = Phase(f"realistic: {residents} residents / ~{every:g} s")
        start, cpu_from = time.perf_counter(), self.cpu.snapshot()
        stop = start + seconds

        async def resident(n: int) -> None:
            await asyncio.sleep(self.rng.uniform(0, every))  # spread the first submits
            while time.perf_counter() < stop:
                await self.one(client, phase, user=n)
                await asyncio.sleep(self.rng.uniform(0.8 * every, 1.2 * every))

        await asyncio.gather(*(resident(n) for n in range(residents)))
        phase.seconds = time.perf_counter() - start
        self.cpu.charge(phase, cpu_from)
        return phase


async def _measure(port: int, args: argparse.Namespace, load: Load) -> list[Phase]:
    import httpx

    phases = []
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
    ) as client:
        for connections in (1, 10, 50):
            phases.append(await load.closed_loop(client, connections, args.load_seconds, 2.0))
        phases.append(await load.cohort(client, 60, 10.0, args.realistic_seconds))
    return phases


def section_load(args: argparse.Namespace) -> None:
    from localize import machine  # bench/localize.py (this file's sibling)

    print("== load ==")
    try:
        import psycopg

        psycopg.connect(f"{args.pg_server}/postgres", connect_timeout=2).close()
    except Exception as error:
        print(f"skipped: no Postgres at {args.pg_server} ({type(error).__name__})")
        return
    jobs = args.jobs or ("celery" if _redis_reachable(args.redis_url) else "inprocess")
    if args.pool == "auto":
        pools = [False, True] if _pool_available() else [False]
    else:
        pools = {"on": [True], "off": [False], "both": [False, True]}[args.pool]
    print(f"machine: {machine().rsplit(' | ', 1)[0]} | server, client and Postgres share them")
    print(
        f"inputs: POST /api/v1/localize/sets/<id>/cases/<id>/attempts/ on Postgres "
        f"({args.pg_server}/{args.bench_db}, fresh each run), uvicorn radgame.asgi:application "
        f"--workers 2 (DEBUG off, base settings, CONN_MAX_AGE 0, jobs {jobs}"
        f"{' via ' + args.redis_url if jobs == 'celery' else ''}), httpx.AsyncClient; "
        f"{RESIDENTS} residents round-robin, {CASES} cases of 1-3 boxed findings; marks: each "
        "finding found 75% of the time (jittered), 30% with a stray box, 30% with a tick; closed "
        f"loops {args.load_seconds:g} s each after 2 s warm-up; realistic phase "
        f"{args.realistic_seconds:g} s"
    )
    if not _pool_available():
        print("(psycopg-pool is not installed: only the unpooled run; Django opens a connection "
              "per request under ASGI)")  # fmt: skip
    for pool in pools:
        _run_once(args, jobs, pool)


def _run_once(args: argparse.Namespace, jobs: str, pool: bool) -> None:
    connections = "psycopg pool (DB_POOL=true)" if pool else "one per request"
    print(f"-- database connections: {connections}")
    with tempfile.TemporaryDirectory(prefix="radgame-bench-") as tmp:
        work = Path(tmp)
        (work / "media").mkdir()
        _recreate_database(f"{args.pg_server}/postgres", args.bench_db)
        env = _environment(args, work, jobs, pool)
        run = {"cwd": ROOT, "env": env, "check": True}
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], **run)
        seeded = work / "seed.json"
        seed_env = {**env, "RADGAME_JOBS": "inprocess"}  # fill the explanation cache now
        seeder = Path(__file__).with_name("localize_seed.py")
        subprocess.run([PYTHON, str(seeder), str(seeded)], cwd=ROOT, env=seed_env, check=True)
        data = json.loads(seeded.read_text())
        port = _free_port()
        server = subprocess.Popen(
            [PYTHON, "-m", "radgame.serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "2", "--no-access-log", "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        try:
            _wait_up(port, server)
            load = Load(f"http://127.0.0.1:{port}", data, args.seed, CpuMeter(server.pid))
            phases = asyncio.run(_measure(port, args, load))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        created = [i for p in phases for i in p.created]
        counts = _count(f"{args.pg_server}/{args.bench_db}", load.sent_keys, created)
        if jobs == "celery":
            _flush_broker(args.redis_url)
    print(f"{'phase':<34}{'n':>7}{'rate':>11}  latency (ms)")
    for phase in phases:
        print(phase.row())
    errors = sum(len(p.errors) for p in phases)
    print(
        f"rows: {counts['rows']} attempts for {counts['sent']} requests sent (warm-up "
        f"included), {counts['distinct_keys']} distinct keys, {counts['events']} score events; "
        f"{counts['acknowledged_found']} of {len(created)} acknowledged ids found"
    )
    for phase in phases:
        for error in phase.errors[:3]:
            print(f"  error in {phase.name}: {error[:200]}")
    realistic, capacity = phases[3], phases[2]
    lost = not (
        counts["rows"] == counts["sent"] == counts["distinct_keys"] == counts["events"]
        and counts["acknowledged_found"] == len(created)
    )
    verdicts = {
        "realistic p95 <= 100 ms": realistic.p95_ms() <= 100,
        "capacity >= 300/s": len(capacity.latencies) / capacity.seconds >= 300,
        "capacity p95 <= 250 ms": capacity.p95_ms() <= 250,
        "zero errors": errors == 0,
        "zero lost attempts": not lost,
    }
    print("targets: " + "; ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in verdicts.items()))


def _flush_broker(url: str) -> None:
    """Drop the explanation jobs this run queued (no worker consumed them)."""
    try:
        import redis

        redis.Redis.from_url(url).flushdb()
    except Exception as error:
        print(f"  (could not flush {url}: {error})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--load-seconds", type=float, default=15.0, help="seconds per closed loop")
    parser.add_argument("--realistic-seconds", type=float, default=60.0)
    parser.add_argument("--pg-server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--bench-db", default="radgame_bench_localize")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--pool", choices=["auto", "on", "off", "both"], default="auto",
                        help="Django's psycopg pool (auto: without, then with, if psycopg-pool is "
                        "installed)")  # fmt: skip
    parser.add_argument("--jobs", choices=["inprocess", "celery"], default=None,
                        help="how the server sends explanation jobs (default: celery if Redis answers)")  # fmt: skip
