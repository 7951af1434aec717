"""Start real processes for deployment-path tests: Celery workers and an ASGI server.

They share the test database (pytest-django's, committed data via ``transactional_db``) and a
Redis database for the broker and the channel layer.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "")


def require_services() -> str:
    """The real-path tests must run in CI; locally they skip only when Redis is not configured."""
    url = redis_url()
    if not url:
        if os.environ.get("CI"):
            pytest.fail(
                "REDIS_URL must be set in CI: the deployment path is tested against real Redis"
            )
        pytest.skip("REDIS_URL is not set")
    import redis

    redis.Redis.from_url(url, socket_timeout=2).ping()
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_env(database_name: str, **extra: str) -> dict[str, str]:
    from django.db import connection

    settings_dict = connection.settings_dict
    user = settings_dict.get("USER") or "postgres"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "radgame.settings.local",
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{database_name}",
        "REDIS_URL": redis_url(),
        "CELERY_BROKER_URL": redis_url(),
        "RADGAME_JOBS": "celery",
        "PYTHONUNBUFFERED": "1",
        # Short broker timeouts so a killed worker's message comes back within seconds.
        "CELERY_VISIBILITY_TIMEOUT": "10",
        "CELERY_UNACKED_RESTORE_INTERVAL": "2",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "RADGAME_TASK_MAX_RETRIES": "1",
    }
    env.update(extra)
    return env


@contextmanager
def running(
    args: list[str], env: dict[str, str], log: Path, ready: str, timeout: float = 30
) -> Iterator[Any]:
    """Start a process, wait until its log shows ``ready``, stop it (and its children) afterwards."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout
        while ready not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args[0]} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield proc
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def celery(app: str, queue: str, concurrency: int = 1, pool: str = "prefork") -> list[str]:
    return [
        str(BIN / "celery"),
        "-A",
        app,
        "worker",
        "-Q",
        queue,
        "--concurrency",
        str(concurrency),
        "--pool",
        pool,
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
        "-n",
        f"{queue}-%h-{os.getpid()}",
    ]


def uvicorn(port: int) -> list[str]:
    """The web process as deployments start it (radgame.serve: no proxy trusted by default)."""
    return [
        str(BIN / "python"),
        "-m",
        "radgame.serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(line) for line in out.stdout.split()]


def wait_for(predicate: Any, timeout: float, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@contextmanager
def proxied_redis(tmp_path: Path) -> Iterator[Any]:
    """A private ``redis-server`` (no persistence) behind the chaos proxy, for faults that must
    never touch the machine's shared Redis; yields the proxy (its ``port``, ``set(mode)``)."""
    from .chaos_proxy import ChaosProxy

    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    env = {"PATH": os.environ["PATH"]}
    with running(args, env, tmp_path / "redis.log", "Ready to accept connections"):
        proxy = ChaosProxy("127.0.0.1", port)
        try:
            yield proxy
        finally:
            proxy.close()
