"""The bench database and the ASGI server for the ``load`` and ``profile`` sections of
bench/localize.py: a fresh Postgres database migrated and seeded through the services, and
``python -m radgame.serve`` started from a checkout (this one, or an older commit's for a
side-by-side comparison, on the same virtual environment through PYTHONPATH)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _recreate_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def redis_reachable(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def pool_available() -> bool:
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


def count_rows(db_url: str, sent_keys: set[str], created_ids: list[int]) -> dict[str, int]:
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


def flush_broker(url: str) -> None:
    """Drop the explanation jobs this run queued (no worker consumed them)."""
    try:
        import redis

        redis.Redis.from_url(url).flushdb()
    except Exception as error:
        print(f"  (could not flush {url}: {error})")


@dataclass
class Prepared:
    env: dict[str, str]
    data: dict[str, Any]  # the seed: set id, cases with their truth, session keys
    work: Path
    root: Path


@contextmanager
def prepared(
    args: argparse.Namespace, jobs: str, pool: bool, root: Path = ROOT
) -> Iterator[Prepared]:
    """A fresh bench database, migrated and seeded by ``root``'s code, in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="radgame-bench-") as tmp:
        work = Path(tmp)
        (work / "media").mkdir()
        _recreate_database(f"{args.pg_server}/postgres", args.bench_db)
        env = _environment(args, work, jobs, pool)
        env["PYTHONPATH"] = str(root)
        run: dict[str, Any] = {"cwd": root, "env": env, "check": True}
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], **run)
        seeded = work / "seed.json"
        # Jobs in process: fill the explanation cache now. OCR off: the seed's films are random
        # noise, tesseract's worst case (tens of CPU-seconds each), and no bench measures it.
        seed_env = {**env, "RADGAME_JOBS": "inprocess", "RADGAME_OCR": "off"}
        seeder = Path(__file__).with_name("localize_seed.py")
        subprocess.run([PYTHON, str(seeder), str(seeded)], cwd=root, env=seed_env, check=True)
        yield Prepared(env, json.loads(seeded.read_text()), work, root)


@contextmanager
def serving(ready: Prepared) -> Iterator[tuple[int, subprocess.Popen]]:
    """``python -m radgame.serve --workers 2`` from the prepared checkout, in its own process
    group (the CPU meter reads the group); stopped on exit."""
    port = _free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "radgame.serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2", "--no-access-log", "--log-level", "warning"],
        cwd=ready.root, env=ready.env, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_up(port, server)
        yield port, server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(45)
        except subprocess.TimeoutExpired:  # the figures are taken; say so rather than hang
            print("  (the server did not stop within 45 s of SIGTERM: killed)")
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)


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
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto",
                        help="closed-loop client (auto: wrk when installed)")  # fmt: skip
    parser.add_argument("--compare-root", default="",
                        help="another checkout (e.g. `git worktree add /tmp/base <commit>`) to run "
                        "the same load against, interleaved with this one")  # fmt: skip
    parser.add_argument("--compare-rounds", type=int, default=2,
                        help="interleaved rounds when comparing (medians are reported)")  # fmt: skip
    parser.add_argument("--profile-submits", type=int, default=300,
                        help="submits per measurement in the profile section")  # fmt: skip
