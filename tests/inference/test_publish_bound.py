"""R08: a publish to a broker that accepts connections and never answers gives up within the
request's budget (POST p99 <= 2 s in a broker fault), instead of waiting for ever on the pooled
connection (kombu's default without a socket timeout). A private ``redis-server`` behind the chaos
proxy; the job then stays pending for the sweeper."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from celery import current_app
from kombu.exceptions import OperationalError

from . import services_harness as harness
from .chaos_proxy import ChaosProxy

BUDGET_S = 2.0


@pytest.mark.parametrize("mode", ["blackhole", "reset"])
def test_a_publish_gives_up_within_the_budget(tmp_path: Path, mode: str) -> None:
    port = harness.free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    env = {"PATH": os.environ["PATH"]}
    with harness.running(args, env, tmp_path / "redis.log", "Ready to accept connections"):
        proxy = ChaosProxy("127.0.0.1", port)
        try:
            url = f"redis://127.0.0.1:{proxy.port}/0"
            with current_app.connection_for_write(url) as conn:
                current_app.send_task("radgame.noop", queue="nowhere", connection=conn)
                proxy.set(mode)
                took = []
                for _ in range(3):
                    started = time.monotonic()
                    with pytest.raises(OperationalError):
                        current_app.send_task("radgame.noop", queue="nowhere", connection=conn)
                    took.append(time.monotonic() - started)
                proxy.set("pass")
                current_app.send_task("radgame.noop", queue="nowhere", connection=conn)
        finally:
            proxy.close()
    print(f"publish against a {mode} broker gave up after {[round(t, 2) for t in took]} s")
    assert max(took) <= BUDGET_S
