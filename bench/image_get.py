"""Case image GETs through the ASGI server: latency and server CPU of one display image.

    python bench/image_get.py                      # 500 GETs, 1 and 8 at a time, then 500 revalidations
    python bench/image_get.py --root /tmp/base     # the same against another checkout (before/after)

Serves ``python -m radgame.serve --workers 1`` (settings ``radgame.settings.base``, DEBUG off)
from ``--root`` on the database in DATABASE_URL and the files in MEDIA_ROOT, seeded beforehand
with ``manage.py demo_setup`` (its resident logs in). Each phase reports p50/p95/max in ms and
the server's CPU seconds per 100 GETs; the conditional phase sends the ETag back (If-None-Match)
and counts the 304s. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import localize_load as stack
import localize_server as server

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _login(client: Any, username: str, password: str) -> None:
    page = client.get("/accounts/login/")
    token = CSRF.search(page.text)
    assert token, "no CSRF token on the login page"
    response = client.post(
        "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token[1]},
    )
    assert response.status_code == 302, f"login refused ({response.status_code})"


def _display_url(client: Any) -> str:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM cases_caseimage ORDER BY id")]
    for image_id in ids:
        url = f"/cases/images/{image_id}/display/"
        if client.get(url).status_code == 200:
            return url
    raise SystemExit("no display image the resident may see: run manage.py demo_setup first")


async def _phase(
    base: str, cookies: Any, url: str, count: int, at_once: int, cpu: Any, headers: dict[str, str]
) -> dict[str, Any]:
    import httpx

    times: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(range(count))
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:

        async def worker() -> None:
            for _ in queue:
                start = time.perf_counter()
                response = await client.get(url, headers=headers)
                await response.aread()
                times.append(time.perf_counter() - start)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        before = cpu.server()
        await asyncio.gather(*(worker() for _ in range(at_once)))
        used = cpu.server() - before
    ordered = sorted(times)
    return {
        "gets": count,
        "at_once": at_once,
        "p50_ms": round(stack._percentile(ordered, 50), 2),
        "p95_ms": round(stack._percentile(ordered, 95), 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "server_cpu_s_per_100": round(used * 100 / count, 3),
        "statuses": statuses,
    }


def main() -> int:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", default=str(server.ROOT), help="checkout to serve from")
    parser.add_argument("--gets", type=int, default=500)
    parser.add_argument("--username", default="resident")
    parser.add_argument("--password", default="radgame-resident")
    args = parser.parse_args()

    port = server._free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "radgame.settings.base",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "0",
        "PYTHONPATH": args.root,
    }
    proc = subprocess.Popen(
        [server.PYTHON, "-m", "radgame.serve", "--port", str(port), "--workers", "1",
         "--no-access-log", "--log-level", "warning"],
        cwd=args.root, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        server._wait_up(port, proc)
        base = f"http://127.0.0.1:{port}"
        cpu = stack.CpuMeter(proc.pid)
        with httpx.Client(base_url=base, timeout=30) as client:
            _login(client, args.username, args.password)
            url = _display_url(client)
            first = client.get(url)
            cookies = client.cookies
        etag = first.headers.get("ETag")
        report: dict[str, Any] = {
            "root": args.root,
            "image_bytes": len(first.content),
            "etag": bool(etag),
            "phases": {},
        }
        for at_once in (1, 8):
            report["phases"][f"get_x{at_once}"] = asyncio.run(
                _phase(base, cookies, url, args.gets, at_once, cpu, {})
            )
        if etag:
            report["phases"]["revalidate_x8"] = asyncio.run(
                _phase(base, cookies, url, args.gets, 8, cpu, {"If-None-Match": etag})
            )
        print(json.dumps(report, indent=2))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
