"""HTTP load on the Localize submit endpoint, registered as the ``load`` section of bench/localize.py.

    python bench/localize.py --section load [--load-seconds 15] [--realistic-seconds 60]

What runs: a fresh Postgres database (``radgame_bench_localize`` on 127.0.0.1:5432, dropped and
re-created each run), migrated and seeded with published cases, a case set, a cohort and 110
logged-in residents; a real ASGI server (``uvicorn radgame.asgi:application --workers 2``, DEBUG
off, base settings); a client on the same machine posting
``/api/v1/localize/sets/<id>/cases/<id>/attempts/`` with 1-3 boxes, a tick and a fresh idempotency
key per request, round-robin over the residents (the per-user API throttle stays in force): wrk
with a Lua script (bench/localize_wrk.py) for the closed loops when it is installed, which costs
the shared machine far less than the Python client (httpx), used otherwise and for the cohort.

Phases: closed loops of 1, 10 and 50 connections posting back to back (the 50 one is the capacity
figure), then a realistic cohort: 60 residents each submitting about every 10 s. Every reply is
checked (201 and a body) and afterwards the attempts table is counted: every acknowledged id is
there, keys and ledger rows match the rows, and rows = requests (up to the few wrk cut off in
flight when it stopped, committed but unanswered). CPU per submit is read from /proc: the server's
process group and the bench database's Postgres backends. ``--compare-root`` runs the same phases
against another checkout (the server, migrations and seed from there, on this virtual
environment), interleaved ``--compare-rounds`` times, and prints medians and ratios.
Targets: server CPU per submit <= 12 ms; realistic p95 <= 60 ms; 0 errors; 0 lost attempts; with
a comparison, >= 2x the compared checkout's answers/s at 10 and 50 connections.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import localize_server as server
from localize_seed import CASES, RESIDENTS


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    seconds: float = 0.0
    # Set by the wrk client, which reports percentiles rather than every latency.
    wrk: Any = None
    acknowledged: int = 0  # 201s of the wrk client (the Python client's keys are counted)
    in_flight_allowance: int = 0
    # CPU seconds spent while the phase was measured: the server's processes, the bench
    # database's Postgres backends, and the whole machine (server, Postgres, Redis and the client).
    server_cpu: float = 0.0
    machine_cpu: float = 0.0
    postgres_cpu: float = 0.0

    def count(self) -> int:
        return self.wrk.ok if self.wrk is not None else len(self.latencies)

    def pct(self, p: float) -> float:
        """Latency percentile in ms (p=100: the maximum)."""
        if self.wrk is not None:
            return self.wrk.percentiles.get("max" if p == 100 else f"p{p:g}", 0.0)
        return _percentile(sorted(self.latencies), p) if self.latencies else 0.0

    def row(self) -> str:
        n = self.count()
        if not n:
            return f"{self.name:<34} no requests"
        return (
            f"{self.name:<34}{n:>7}{self.rate():>9.1f}/s  p50 {self.pct(50):6.1f}  p95 "
            f"{self.pct(95):6.1f}  p99 {self.pct(99):6.1f}  max {self.pct(100):6.1f} ms  errors "
            f"{len(self.errors)}\n{'':<34}CPU per submit: server {self.server_ms():5.1f} ms, "
            f"Postgres {1000 * self.postgres_cpu / n:4.1f} ms, whole machine "
            f"{1000 * self.machine_cpu / n:5.1f} ms"
        )

    def server_ms(self) -> float:
        return 1000 * self.server_cpu / self.count() if self.count() else 0.0

    def rate(self) -> float:
        return self.count() / self.seconds if self.seconds else 0.0

    def p95_ms(self) -> float:
        return self.pct(95)


def _percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted seconds, in milliseconds."""
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


class CpuMeter:
    """CPU seconds from /proc: the server's process group (uvicorn and its workers), the Postgres
    backends serving the bench database (kept open by the pool; a backend that exits takes its
    CPU with it, so the unpooled figure is a floor) and the whole machine (busy time of every
    core), so a phase can say what one submit costs."""

    def __init__(self, server_pgid: int, database: str = "") -> None:
        self.pgid = server_pgid
        self.database = database
        self.tick = os.sysconf("SC_CLK_TCK")

    def _processes(self, wanted: Any) -> float:
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if wanted(stat.parent, fields):  # pgrp at 2, then utime and stime at 11 and 12
                    total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError):
                continue  # the process ended meanwhile
        return total / self.tick

    def server(self) -> float:
        return self._processes(lambda _dir, fields: int(fields[2]) == self.pgid)

    def postgres(self) -> float:
        if not self.database:
            return 0.0
        title = f" {self.database} ".encode()

        def backend(folder: Path, _fields: list[str]) -> bool:
            cmdline = (folder / "cmdline").read_bytes()
            return cmdline.startswith(b"postgres:") and title in cmdline

        return self._processes(backend)

    def machine(self) -> float:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return (sum(values[:8]) - values[3] - values[4]) / self.tick  # all but idle and iowait

    def snapshot(self) -> tuple[float, float, float]:
        return self.server(), self.machine(), self.postgres()

    def charge(self, phase: Phase, start: tuple[float, float, float]) -> None:
        end = self.snapshot()
        phase.server_cpu, phase.machine_cpu = end[0] - start[0], end[1] - start[1]
        phase.postgres_cpu = end[2] - start[2]


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
        cpu_from: list[tuple[float, float, float]] = []

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


def _wrk_loop(port: int, load: Load, connections: int, args: argparse.Namespace) -> Phase:
    import localize_wrk

    base = f"http://127.0.0.1:{port}"
    phase = Phase(f"closed loop, {connections} connection{'s' if connections > 1 else ''} (wrk)")
    warm = localize_wrk.run(base, load, connections, 2.0, args.seed)
    start = load.cpu.snapshot()
    run = localize_wrk.run(base, load, connections, args.load_seconds, args.seed + connections)
    load.cpu.charge(phase, start)
    phase.wrk = run
    phase.seconds = run.seconds
    phase.created = warm.ids + run.ids
    phase.acknowledged = warm.ok + run.ok
    phase.errors = [*warm.errors, *run.errors] or (
        [f"{warm.bad + run.bad} non-201 replies, {run.socket_errors} socket errors"]
        if warm.bad + run.bad + run.socket_errors
        else []
    )
    phase.in_flight_allowance = 2 * connections  # cut off when wrk stops: committed, unanswered
    return phase


async def _measure(port: int, args: argparse.Namespace, load: Load, wrk: bool) -> list[Phase]:
    import httpx

    phases = []
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
    ) as client:
        for connections in (1, 10, 50):
            if wrk:
                phases.append(await asyncio.to_thread(_wrk_loop, port, load, connections, args))
            else:
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
    jobs = args.jobs or ("celery" if server.redis_reachable(args.redis_url) else "inprocess")
    if args.pool == "auto":
        pools = [False, True] if server.pool_available() else [False]
    else:
        pools = {"on": [True], "off": [False], "both": [False, True]}[args.pool]
    wrk = args.client == "wrk" or (args.client == "auto" and _wrk_available())
    roots = [("this checkout", server.ROOT)]
    if args.compare_root:
        roots.append((f"compared: {args.compare_root}", Path(args.compare_root).resolve()))
    print(f"machine: {machine().rsplit(' | ', 1)[0]} | server, client and Postgres share them")
    print(
        f"inputs: POST /api/v1/localize/sets/<id>/cases/<id>/attempts/ on Postgres "
        f"({args.pg_server}/{args.bench_db}, fresh each run), uvicorn radgame.asgi:application "
        f"--workers 2 (DEBUG off, base settings, CONN_MAX_AGE 0, jobs {jobs}"
        f"{' via ' + args.redis_url if jobs == 'celery' else ''}); closed loops by "
        f"{'wrk (Lua script, a fresh key per request)' if wrk else 'httpx.AsyncClient'}, the "
        f"realistic cohort by httpx; {RESIDENTS} residents round-robin, {CASES} cases of 1-3 "
        "boxed findings; marks: each finding found 75% of the time (jittered), 30% with a stray "
        f"box, 30% with a tick; closed loops {args.load_seconds:g} s each after 2 s warm-up; "
        f"realistic phase {args.realistic_seconds:g} s; checkouts interleaved "
        f"{args.compare_rounds} time(s): {', '.join(label for label, _ in roots)}"
    )
    if not server.pool_available():
        print("(psycopg-pool is not installed: only the unpooled run; Django opens a connection "
              "per request under ASGI)")  # fmt: skip
    results: dict[tuple[str, bool], list[list[Phase]]] = {}
    for _ in range(args.compare_rounds if args.compare_root else 1):
        for label, root in roots:
            for pool in pools:
                phases = _run_once(args, jobs, pool, root, label, wrk)
                results.setdefault((label, pool), []).append(phases)
    if args.compare_root:
        _compare(results, [label for label, _ in roots], pools)


def _wrk_available() -> bool:
    import localize_wrk

    return localize_wrk.available()


def _run_once(
    args: argparse.Namespace, jobs: str, pool: bool, root: Path, label: str, wrk: bool
) -> list[Phase]:
    connections = "psycopg pool (DB_POOL=true)" if pool else "one per request"
    print(f"-- {label}: database connections: {connections}; load average "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}")  # fmt: skip
    with server.prepared(args, jobs, pool, root) as ready:
        with server.serving(ready) as (port, process):
            meter = CpuMeter(process.pid, args.bench_db)
            load = Load(f"http://127.0.0.1:{port}", ready.data, args.seed, meter)
            phases = asyncio.run(_measure(port, args, load, wrk))
        created = [i for p in phases for i in p.created]
        counts = server.count_rows(f"{args.pg_server}/{args.bench_db}", load.sent_keys, created)
        if jobs == "celery":
            server.flush_broker(args.redis_url)
    print(f"{'phase':<34}{'n':>7}{'rate':>11}  latency (ms)")
    for phase in phases:
        print(phase.row())
    errors = sum(len(p.errors) for p in phases)
    acknowledged = sum(p.acknowledged for p in phases) + counts["sent"]
    unanswered = counts["rows"] - acknowledged  # requests wrk cut off at its stop, committed
    allowance = sum(p.in_flight_allowance for p in phases)
    print(
        f"rows: {counts['rows']} attempts, {counts['distinct_keys']} distinct keys, "
        f"{counts['events']} score events, for {acknowledged} requests answered 201 (warm-ups "
        f"included) and {unanswered} cut off in flight when wrk stopped (at most {allowance}); "
        f"{counts['acknowledged_found']} of {len(created)} acknowledged ids found"
    )
    for phase in phases:
        for error in phase.errors[:3]:
            print(f"  error in {phase.name}: {error[:200]}")
    realistic, capacity = phases[3], phases[2]
    lost = not (
        counts["rows"] == counts["distinct_keys"] == counts["events"]
        and 0 <= unanswered <= allowance
        and counts["acknowledged_found"] == len(created)
    )
    verdicts = {
        "realistic p95 <= 60 ms": realistic.p95_ms() <= 60,
        "server CPU per submit <= 12 ms (50 connections)": capacity.server_ms() <= 12,
        "zero errors": errors == 0,
        "zero lost attempts": not lost,
    }
    print("targets: " + "; ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in verdicts.items()))
    return phases


def _compare(
    results: dict[tuple[str, bool], list[list[Phase]]], labels: list[str], pools: list[bool]
) -> None:
    """Medians over the interleaved rounds, this checkout against the compared one."""
    import statistics

    print("comparison (medians over rounds):")
    for pool in pools:
        figures: dict[str, list[float]] = {}
        for label in labels:
            rounds = results[(label, pool)]
            row = [statistics.median(r[i].rate() for r in rounds) for i in range(3)]
            row += [statistics.median(r[i].server_ms() for r in rounds) for i in (1, 2)]
            row.append(statistics.median(r[3].p95_ms() for r in rounds))
            figures[label] = row
            print(f"  {label[:40]:<40} pool {'on ' if pool else 'off'}  answers/s at 1/10/50: "
                  f"{row[0]:6.1f} {row[1]:6.1f} {row[2]:6.1f}  server CPU/submit at 10/50: "
                  f"{row[3]:5.1f} {row[4]:5.1f} ms  realistic p95 {row[5]:5.1f} ms")  # fmt: skip
        new, old = figures[labels[0]], figures[labels[1]]
        ratios = [new[i] / old[i] if old[i] else float("nan") for i in range(3)]
        print(f"  ratio this/compared: answers/s at 1/10/50 {ratios[0]:.2f} {ratios[1]:.2f} "
              f"{ratios[2]:.2f} (target >= 2 at 10 and 50: "
              f"{'met' if min(ratios[1:]) >= 2 else 'MISSED'})")  # fmt: skip
