"""Cohort rush (RELIABILITY §3): simulated residents playing Localize, plus idle websockets.

    python bench/load.py                       # 60 residents, 30 s warm-up, 300 s measured, 200 sockets
    python bench/load.py --seconds 60 --gate correctness   # the CI version (`make test`)

Each resident loops as a browser does: GET the case page and open that page's websocket to
/ws/jobs/ (base.html opens one on every signed-in page), GET its image, think 3-8 s, POST an
answer (1-3 boxes, a fresh idempotency key), GET the result page, then wait for its explanations
the way the result page does: a pushed frame for the job triggers a GET of the explanations
partial, and the partial is also polled every 3 s (``--wait poll`` instead polls the job's JSON
every 0.5 s, the client of earlier runs). Beside them, ``--idle-ws`` websockets to /ws/jobs/ stay
open the whole run. The stack is the one ``bench/localize.py --section load`` builds (its
database, seed and server setup are reused): a fresh Postgres database, ``radgame.serve --workers
2`` with the database pool on as docker-compose deploys it (``--pool off`` for the unpooled
path), and Celery workers for the web, scoring and gpu queues when Redis answers. The figures are
checked against §3's pass table; the exit code is 1 when one is missed, so CI can call it. The
report also splits the measured window's CPU between the web server, each worker, the bench
database's Postgres backends and this client, so a missed latency figure says where the cores went.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import localize_load as stack
import localize_server as server

ROOT = server.ROOT
PYTHON = server.PYTHON
VIEWER_SRC = re.compile(r'<cxr-viewer[^>]*\bsrc="([^"]+)"')
FINAL = ("done", "failed")
HTMX_STOP_POLLING = 286  # the explanations partial's answer once they are final


@dataclass
class Figures:
    posts: list[float] = field(default_factory=list)
    gets: list[float] = field(default_factory=list)
    gets_by_kind: dict[str, list[float]] = field(default_factory=dict)
    explained: list[float] = field(default_factory=list)  # submit -> explanation job final
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: list[str] = field(default_factory=list)
    unexplained: int = 0  # jobs still not final when the resident gave up polling
    created: list[int] = field(default_factory=list)
    ws_open: int = 0
    ws_dropped: int = 0

    def status(self, code: int) -> None:
        self.statuses[code] = self.statuses.get(code, 0) + 1


def _p(values: list[float], pct: float) -> float:
    return stack._percentile(sorted(values), pct) if values else 0.0


def _rss_kb(pgid: int) -> int:
    total = 0
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, IndexError, ValueError):
            continue
    return total


class Rush:
    def __init__(self, load: stack.Load, args: argparse.Namespace, figures: Figures) -> None:
        self.load, self.args, self.figures = load, args, figures
        self.rng = random.Random(args.seed)
        self.measure_from = 0.0
        self.stop = 0.0
        self.port = 0

    def _headers(self, user: int) -> dict[str, str]:
        return {"Cookie": f"sessionid={self.load.sessions[user]}"}

    def _socket(self, user: int) -> Any:
        import websockets

        return websockets.connect(
            f"ws://127.0.0.1:{self.port}/ws/jobs/",
            origin=f"http://127.0.0.1:{self.port}",
            additional_headers=self._headers(user),
            open_timeout=30,
        )

    async def _get(
        self, client: Any, url: str, user: int, measured: bool, kind: str, htmx: bool = False
    ) -> Any:
        headers = self._headers(user)
        if htmx:  # what htmx sends for a region's refresh: the server answers the partial
            headers["HX-Request"] = "true"
        start = time.perf_counter()
        response = await client.get(url, headers=headers)
        if measured:
            took = time.perf_counter() - start
            self.figures.gets.append(took)
            self.figures.gets_by_kind.setdefault(kind, []).append(took)
            self.figures.status(response.status_code)
        return response

    async def _explained(
        self, client: Any, socket: Any, attempt: dict[str, Any], user: int, t0: float
    ) -> None:
        link = attempt.get("explanation_job")
        if not link:
            return  # every explanation came from the cache: nothing to wait for
        if socket is None:  # --wait poll: the job's JSON every 0.5 s
            status = link["status"]
            while status not in FINAL:
                if time.perf_counter() - t0 > 30:
                    self.figures.unexplained += 1
                    return
                await asyncio.sleep(0.5)
                reply = await client.get(link["url"], headers=self._headers(user))
                status = reply.json()["status"]
            self.figures.explained.append(time.perf_counter() - t0)
            return
        # The result page: the partial refreshes on a pushed frame for its job and every 3 s.
        partial = f"/localize/attempts/{attempt['id']}/explanations/"
        pending = link["status"] not in FINAL
        next_poll = time.perf_counter() + 3
        while pending:
            now = time.perf_counter()
            if now - t0 > 30:
                self.figures.unexplained += 1
                return
            try:
                frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=next_poll - now))
                if frame.get("job") != link["id"]:
                    continue
            except TimeoutError:
                next_poll = time.perf_counter() + 3
            reply = await self._get(client, partial, user, True, "explanations partial", True)
            pending = reply.status_code != HTMX_STOP_POLLING
        self.figures.explained.append(time.perf_counter() - t0)

    async def resident(self, client: Any, user: int) -> None:
        await asyncio.sleep(self.rng.uniform(0, 8))
        while time.perf_counter() < self.stop:
            try:
                case = self.load.cases[self.rng.randrange(len(self.load.cases))]
                page = f"/localize/sets/{self.load.set_id}/cases/{case['id']}/"
                measured = time.perf_counter() >= self.measure_from
                html = (await self._get(client, page, user, measured, "case page")).text
                if self.args.wait == "poll":
                    await self._play(client, None, html, user)
                    continue
                async with self._socket(user) as socket:  # the page's own socket, until it is left
                    await self._play(client, socket, html, user)
            except Exception as error:
                self.figures.transport_errors.append(f"{type(error).__name__}: {error}"[:200])

    async def _play(self, client: Any, socket: Any, html: str, user: int) -> None:
        measured = time.perf_counter() >= self.measure_from
        image = VIEWER_SRC.search(html)
        if image:
            src = image.group(1).replace("&amp;", "&")
            await self._get(client, src, user, measured, "image")
        await asyncio.sleep(self.rng.uniform(*self.args.think))
        url, headers, body = self.load.request(user)
        start = time.perf_counter()
        response = await client.post(url, content=body, headers=headers)
        measured = start >= self.measure_from
        if measured:
            self.figures.posts.append(time.perf_counter() - start)
            self.figures.status(response.status_code)
        if response.status_code != 201:
            return
        attempt = response.json()
        self.figures.created.append(attempt["id"])
        await self._get(
            client, f"/localize/attempts/{attempt['id']}/", user, measured, "result page"
        )
        if measured:
            await self._explained(client, socket, attempt, user, start)

    async def idle_socket(self, user: int) -> None:
        try:
            async with self._socket(user) as socket:
                self.figures.ws_open += 1
                while time.perf_counter() < self.stop:
                    try:
                        await asyncio.wait_for(socket.recv(), timeout=1)
                    except TimeoutError:
                        continue
        except Exception as error:
            if time.perf_counter() >= self.stop:
                return  # the run was over: a close handshake cut short at the end is no drop
            self.figures.ws_dropped += 1
            self.figures.transport_errors.append(f"ws {type(error).__name__}: {error}"[:200])

    async def run(self, port: int) -> None:
        import httpx

        self.port = port
        start = time.perf_counter()
        self.measure_from = start + self.args.warmup
        self.stop = self.measure_from + self.args.seconds
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
        ) as client:
            users = len(self.load.sessions)
            await asyncio.gather(
                *(self.idle_socket(n % users) for n in range(self.args.idle_ws)),
                *(self.resident(client, n % users) for n in range(self.args.users)),
            )


def cpu_seconds(meter: stack.CpuMeter, workers: list[subprocess.Popen]) -> dict[str, float]:
    """CPU seconds so far: the web server's process group, each worker's, the bench database's
    Postgres backends (the pool keeps them; unpooled, a backend that exits takes its CPU with it),
    this client, and the whole machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    split = {"web": meter.server(), "postgres": meter.postgres()}
    for queue, proc in zip(("web-queue", "scoring", "gpu"), workers, strict=False):
        split[f"worker {queue}"] = meter._processes(lambda _d, f, g=proc.pid: int(f[2]) == g)
    split["client (this bench)"] = usage.ru_utime + usage.ru_stime
    split["machine"] = meter.machine()
    return split


def _start_workers(env: dict[str, str], work: Path) -> list[subprocess.Popen]:
    workers = []
    for app, queue in (("radgame", "web"), ("ml.worker", "scoring"), ("ml.worker", "gpu")):
        log = (work / f"{queue}.log").open("w")
        workers.append(
            subprocess.Popen(
                [str(Path(PYTHON).parent / "celery"), "-A", app, "worker", "-Q", queue,
                 "--concurrency", "2", "--without-gossip", "--without-mingle", "-n",
                 f"{queue}-bench@%h", "--loglevel", "WARNING"],
                cwd=ROOT, env={**env, "RADGAME_JOBS": "celery"}, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        )  # fmt: skip
    return workers


# The verdicts that are about correctness, not speed: what CI holds on every run.
CORRECTNESS = (
    "HTTP 5xx == 0",
    "unexpected non-2xx < 0.1%",
    "every explanation final",
    "0 lost, 0 duplicates",
    "idle websockets held",
)


def verdicts(figures: Figures, counts: dict[str, int], rss: tuple[int, int]) -> dict[str, bool]:
    requests = sum(figures.statuses.values())
    server_errors = sum(n for code, n in figures.statuses.items() if code >= 500)
    unexpected = sum(n for code, n in figures.statuses.items() if code >= 300)
    return {
        "HTTP 5xx == 0": server_errors == 0,
        "unexpected non-2xx < 0.1%": unexpected + len(figures.transport_errors)
        < 0.001 * max(requests, 1),
        "POST p95 <= 500 ms": _p(figures.posts, 95) <= 500,
        "POST p99 <= 1 s": _p(figures.posts, 99) <= 1000,
        "page/partial GET p95 <= 300 ms": _p(figures.gets, 95) <= 300,
        "submit -> score visible p95 <= 3 s": _p(figures.posts, 95) <= 3000,
        "every explanation final": figures.unexplained == 0,
        "submit -> explanation p95 <= 10 s": _p(figures.explained, 95) <= 10_000,
        "0 lost, 0 duplicates": counts["rows"] == counts["distinct_keys"]
        and counts["acknowledged_found"] == len(figures.created),
        "idle websockets held": figures.ws_dropped == 0,
        "web RSS growth <= 20%": rss[1] <= rss[0] * 1.2,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=300.0, help="measured, after warm-up")
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--idle-ws", type=int, default=200)
    parser.add_argument("--think", type=float, nargs=2, default=(3.0, 8.0))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--bench-db", default="radgame_bench_load")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--pool", choices=["on", "off"], default="on",
                        help="Django's database pool in the web server (on: as docker-compose "
                        "deploys it)")  # fmt: skip
    parser.add_argument("--wait", choices=["push", "poll"], default="push",
                        help="how a resident waits for its explanations: push (as the result "
                        "page: its websocket's frame, and the partial every 3 s) or poll (the "
                        "job's JSON every 0.5 s)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument(
        "--gate",
        choices=["all", "correctness"],
        default="all",
        help="which verdicts set the exit code: all of section 3's pass table, or (CI, `make "
        "test`) only correctness: no 5xx, < 0.1%% unexpected, nothing lost or duplicated, every "
        "explanation final, idle sockets held. Latency figures are printed either way; they "
        "are judged on a quiet machine (`make load`), not in a test run",
    )
    args = parser.parse_args(argv)
    jobs = "celery" if server.redis_reachable(args.redis_url) else "inprocess"
    figures = Figures()
    if jobs == "celery":
        server.flush_broker(args.redis_url)
    with server.prepared(args, jobs, pool=args.pool == "on") as ready:
        workers = _start_workers(ready.env, ready.work) if jobs == "celery" else []
        try:
            with server.serving(ready) as (port, web):
                meter = stack.CpuMeter(web.pid, args.bench_db)
                load = stack.Load(f"http://127.0.0.1:{port}", ready.data, args.seed, meter)
                rush = Rush(load, args, figures)

                async def measured() -> tuple[int, int]:
                    task = asyncio.create_task(rush.run(port))
                    await asyncio.sleep(args.warmup)
                    rss_start = _rss_kb(web.pid)
                    cpu_start = cpu_seconds(meter, workers)
                    await asyncio.sleep(max(rush.stop - time.perf_counter(), 0))
                    cpu.update(
                        {k: v - cpu_start[k] for k, v in cpu_seconds(meter, workers).items()}
                    )
                    await task
                    return rss_start, _rss_kb(web.pid)

                cpu: dict[str, float] = {}
                rss = asyncio.run(measured())
        finally:
            for proc in workers:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
        counts = server.count_rows(
            f"{args.pg_server}/{args.bench_db}", load.sent_keys, figures.created
        )
        if jobs == "celery":
            server.flush_broker(args.redis_url)
    checks = verdicts(figures, counts, rss)
    report = {
        "machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end",
        "inputs": f"{args.users} residents, {args.idle_ws} idle websockets, {args.warmup:g} s "
        f"warm-up + {args.seconds:g} s measured, think {args.think[0]:g}-{args.think[1]:g} s, "
        f"jobs {jobs}, database pool {args.pool}, explanations waited for by {args.wait}",
        "requests": sum(figures.statuses.values()),
        "statuses": figures.statuses,
        "transport_errors": len(figures.transport_errors),
        "post_ms": {
            "n": len(figures.posts),
            "p50": _p(figures.posts, 50),
            "p95": _p(figures.posts, 95),
            "p99": _p(figures.posts, 99),
        },
        "get_ms": {
            "n": len(figures.gets),
            "p95": _p(figures.gets, 95),
            **{
                f"{kind} p50/p95": [round(_p(took, 50)), round(_p(took, 95))]
                for kind, took in sorted(figures.gets_by_kind.items())
            },
        },
        "explanation_ms": {
            "n": len(figures.explained),
            "p95": _p(figures.explained, 95),
            "not_final_after_30s": figures.unexplained,
        },
        "cpu_s_measured": {k: round(v, 1) for k, v in cpu.items()},
        # per answer: one loop of case page, image, answer, result and the wait for explanations
        "cpu_ms_per_answer": {
            k: round(1000 * v / max(len(figures.posts), 1), 1) for k, v in cpu.items()
        },
        "websockets": {"held": figures.ws_open, "dropped": figures.ws_dropped},
        "rows": counts,
        "web_rss_kb": {"after_warmup": rss[0], "end": rss[1]},
        "verdicts": checks,
    }
    print(json.dumps(report, indent=1))
    for error in figures.transport_errors[:5]:
        print(f"  error: {error}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    gated = checks if args.gate == "all" else {k: checks[k] for k in CORRECTNESS}
    print(f"gate: {args.gate} ({', '.join(k for k, ok in gated.items() if not ok) or 'all pass'})")
    return 0 if all(gated.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
