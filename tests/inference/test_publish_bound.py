"""R08: a publish to a broker that accepts connections and never answers gives up within the
request's budget (POST p99 <= 2 s in a broker fault), instead of waiting for ever on the pooled
connection (kombu's default without a socket timeout); the job then stays pending for the
sweeper. Workers keep kombu's defaults (radgame/celery.py). A private ``redis-server`` behind the
chaos proxy."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings
from kombu.exceptions import OperationalError

from . import services_harness as harness

BUDGET_S = 2.0


@pytest.mark.parametrize("mode", ["blackhole", "reset"])
def test_a_publish_gives_up_within_the_budget(tmp_path: Path, mode: str) -> None:
    with harness.proxied_redis(tmp_path) as proxy:
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
    print(f"publish against a {mode} broker gave up after {[round(t, 2) for t in took]} s")
    assert max(took) <= BUDGET_S


def test_workers_keep_kombus_default_socket_timeouts() -> None:
    from celery import Celery

    from radgame.celery import consumers_wait_for_the_broker

    app = Celery("probe")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    assert app.conf.broker_transport_options["socket_timeout"] == 0.5  # the web process's

    consumers_wait_for_the_broker(conf=app.conf)

    options = app.conf.broker_transport_options
    assert "socket_timeout" not in options and "socket_connect_timeout" not in options
    assert options["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT
