"""Cohort rush (RELIABILITY §3): simulated residents playing Localize, plus idle websockets.

    python bench/load.py                       # 60 residents, 30 s warm-up, 300 s measured, 200 sockets
    python bench/load.py --seconds 60 --gate correctness   # the CI version (`make test`)

Each resident loops: GET the case page, GET its image, think 3-8 s, POST an answer (1-3 boxes, a
fresh idempotency key), GET the result page, then poll the answer's explanation job until it is
final. Beside them, ``--idle-ws`` websockets to /ws/jobs/ stay open the whole run. The stack is
the one ``bench/localize.py --section load`` builds (its database, seed and server setup are
reused): a fresh Postgres database, ``radgame.serve --workers 2``, and Celery workers for the web
and scoring queues when Redis answers. The figures are checked against §3's pass table; the exit
code is 1 when one is missed, so CI can call it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
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


@dataclass
class Figures:
    posts: list[float] = field(default_factory=list)
    gets: list[float] = field(default_factory=list)
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

    def _headers(self, user: int) -> dict[str, str]:
        return {"Cookie": f"sessionid={self.load.sessions[user]}"}

    async def _get(self, client: Any, url: str, user: int, measured: bool) -> Any:
        start = time.perf_counter()
        response = await client.get(url, headers=self._headers(user))
        if measured:
            self.figures.gets.append(time.perf_counter() - start)
            self.figures.status(response.status_code)
        return response

    async def _explained(self, client: Any, attempt: dict[str, Any], user: int, t0: float) -> None:
        link = attempt.get("explanation_job")
        if not link:
            return  # every explanation came from the cache: nothing to wait for
        status = link["status"]
        while status not in ("done", "failed"):
            if time.perf_counter() - t0 > 30:
                self.figures.unexplained += 1
                return
            await asyncio.sleep(0.5)
            status = (await client.get(link["url"], headers=self._headers(user))).json()["status"]
        self.figures.explained.append(time.perf_counter() - t0)

    async def resident(self, client: Any, user: int) -> None:
        await asyncio.sleep(self.rng.uniform(0, 8))
        while time.perf_counter() < self.stop:
            measured = time.perf_counter() >= self.measure_from
            try:
                case = self.load.cases[self.rng.randrange(len(self.load.cases))]
                page = f"/localize/sets/{self.load.set_id}/cases/{case['id']}/"
                html = (await self._get(client, page, user, measured)).text
                image = VIEWER_SRC.search(html)
                if image:
                    await self._get(client, image.group(1).replace("&amp;", "&"), user, measured)
                await asyncio.sleep(self.rng.uniform(*self.args.think))
                url, headers, body = self.load.request(user)
                start = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                measured = start >= self.measure_from
                if measured:
                    self.figures.posts.append(time.perf_counter() - start)
                    self.figures.status(response.status_code)
                if response.status_code != 201:
                    continue
                attempt = response.json()
                self.figures.created.append(attempt["id"])
                await self._get(client, f"/localize/attempts/{attempt['id']}/", user, measured)
                if measured:
                    await self._explained(client, attempt, user, start)
            except Exception as error:
                self.figures.transport_errors.append(f"{type(error).__name__}: {error}"[:200])

    async def idle_socket(self, port: int, user: int) -> None:
        import websockets

        try:
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/ws/jobs/",
                origin=f"http://127.0.0.1:{port}",
                additional_headers=self._headers(user),
                open_timeout=30,
            ) as socket:
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

        start = time.perf_counter()
        self.measure_from = start + self.args.warmup
        self.stop = self.measure_from + self.args.seconds
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
        ) as client:
            users = len(self.load.sessions)
            await asyncio.gather(
                *(self.idle_socket(port, n % users) for n in range(self.args.idle_ws)),
                *(self.resident(client, n % users) for n in range(self.args.users)),
            )


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
    with server.prepared(args, jobs, pool=False) as ready:
        workers = _start_workers(ready.env, ready.work) if jobs == "celery" else []
        try:
            with server.serving(ready) as (port, web):
                load = stack.Load(
                    f"http://127.0.0.1:{port}", ready.data, args.seed, stack.CpuMeter(web.pid)
                )
                rush = Rush(load, args, figures)

                async def measured() -> tuple[int, int]:
                    task = asyncio.create_task(rush.run(port))
                    await asyncio.sleep(args.warmup)
                    rss_start = _rss_kb(web.pid)
                    await task
                    return rss_start, _rss_kb(web.pid)

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
        f"jobs {jobs}",
        "requests": sum(figures.statuses.values()),
        "statuses": figures.statuses,
        "transport_errors": len(figures.transport_errors),
        "post_ms": {
            "n": len(figures.posts),
            "p50": _p(figures.posts, 50),
            "p95": _p(figures.posts, 95),
            "p99": _p(figures.posts, 99),
        },
        "get_ms": {"n": len(figures.gets), "p95": _p(figures.gets, 95)},
        "explanation_ms": {
            "n": len(figures.explained),
            "p95": _p(figures.explained, 95),
            "not_final_after_30s": figures.unexplained,
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
