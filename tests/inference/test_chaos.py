"""Chaos (RELIABILITY R02-R04, R08, R09, R14, R17 and §3's chaos soak): residents keep answering
through the API while the rig kills and breaks things, one fault after another; afterwards the
reconciliation finds zero lost and zero duplicated submissions and scores, and every weekly
summary equal to a recount of the attempts (R16). The POSTs in flight during each fault are timed
as the client saw them (R08: p99 per fault window, printed; asserted in the soak).

Faults: SIGKILL of the scoring, gpu-queue and web-queue workers (then restarted), a broker restart (its
queued messages are gone: the database sweeper re-sends), a web restart (every connection drops),
``pg_terminate_backend`` on the app's database connections, and through the TCP proxy: the broker
black-holed, the database connections reset, database latency. The short run (one round, a few
answers per fault) and the long one (rounds of more answers) are in ``make soak`` for now;
``test_proxy_modes`` runs in ``make test``.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from . import services_harness as harness
from .chaos_proxy import ChaosProxy
from .chaos_rig import (
    Ledger,
    Rig,
    failure_reasons,
    reconcile,
    resident_client,
    submit,
    window_latencies,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FAULTS: dict[str, Callable[[Rig], None]] = {
    "worker SIGKILL": lambda rig: [rig.restart(name) for name in ("scoring", "gpu", "webq")],
    "broker restart": lambda rig: rig.restart("broker"),
    "web restart": lambda rig: rig.restart("web"),
    "database connections terminated": lambda rig: rig.terminate_db_connections(),
    "broker black-holed 3 s": lambda rig: _for(rig.broker, "blackhole", 3.0),
    "database connections reset": lambda rig: _for(rig.pg, "reset", 0.5),
    "database latency 50 ms": lambda rig: _for(rig.pg, "latency", 3.0, latency_s=0.05),
}
DRAIN_TIMEOUT_S = 300
# Faults the residents keep answering through until each is over, so POSTs are in flight all
# through it (R08: POST latency in a broker fault), with a client's pause between answers beyond
# their share. Left out: the worker restarts (many seconds, and no POST waits on a worker) and the
# database reset, whose refusal would fail a resident's retries again (R14 counts one per fault).
THROUGH = {"broker restart", "broker black-holed 3 s", "database latency 50 ms"}
THINK_S = 0.2
BROKER_FAULTS = ("broker restart", "broker black-holed 3 s")
POST_P99_S = 2.0


def _for(proxy: ChaosProxy, mode: Any, seconds: float, latency_s: float = 0.0) -> None:
    proxy.set(mode, latency_s)
    time.sleep(seconds)
    proxy.set("pass")


# ------------------------------------------------------------------------------ the proxy itself


def _echo_server() -> tuple[socket.socket, int]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=lambda c=conn: _echo(c), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def _echo(conn: socket.socket) -> None:
    with conn:
        try:
            while data := conn.recv(1024):
                conn.sendall(data)
        except ConnectionResetError:
            return  # the proxy's reset mode, doing its job


def _round_trip(port: int, timeout: float = 2.0) -> tuple[bytes, float]:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(b"ping")
        return sock.recv(16), time.monotonic() - started


def test_proxy_modes() -> None:
    server, port = _echo_server()
    proxy = ChaosProxy("127.0.0.1", port)
    try:
        assert _round_trip(proxy.port)[0] == b"ping"
        proxy.set("latency", 0.3)
        reply, took = _round_trip(proxy.port)
        assert reply == b"ping" and took >= 0.3
        proxy.set("blackhole")
        with pytest.raises(TimeoutError):
            _round_trip(proxy.port, timeout=0.5)
        proxy.set("reset")
        with pytest.raises((ConnectionResetError, ConnectionAbortedError)):
            reply, _ = _round_trip(proxy.port)
            if not reply:  # a reset seen as end of stream on some kernels
                raise ConnectionResetError
        proxy.set("pass")
        assert _round_trip(proxy.port)[0] == b"ping"
    finally:
        proxy.close()
        server.close()


def test_window_latencies_take_the_posts_in_flight_during_the_fault() -> None:
    ledger = Ledger(
        posts=[(0.0, 0.5, 202), (0.9, 1.4, 202), (1.8, 4.0, 0), (2.5, 2.6, 500), (4.5, 4.6, 202)],
        windows=[("blackhole", 1.0, 3.0), ("restart", 4.2, 4.3), ("restart", 9.0, 9.5)],
    )
    figures = window_latencies(ledger)
    # the first POST ended before the fault, the last started after it; a timeout counts
    assert figures["blackhole"] == {"posts": 3, "p50_s": 0.5, "p99_s": 2.2, "5xx": 1}
    assert figures["restart"]["posts"] == 0 and math.isnan(figures["restart"]["p99_s"])


# ------------------------------------------------------------------------------------ the soak


@pytest.fixture
def practice(educator: Any, cohort: Any, make_user: Any) -> tuple[Any, Any, list[Any]]:
    from apps.cohorts.services import cohort_join_by_code
    from tests.localization.conftest import NODULE_BOX, build_case, build_set, truth

    case = build_case(educator, title="Chaos case", findings=[truth("Nodule", [NODULE_BOX])])
    case_set = build_set(educator, cohort, [case], name="Chaos set")
    residents = []
    for number in range(3):
        user = make_user(f"chaos{number}")
        cohort_join_by_code(user=user, code=cohort.join_code)
        residents.append(user)
    return case_set, case, residents


def _chaos(
    rig: Rig, practice: tuple[Any, Any, list[Any]], rounds: int, per_resident: int
) -> Ledger:
    case_set, case, residents = practice
    ledger = Ledger()
    clients = [(user.pk, resident_client(user, rig.base_url)) for user in residents]
    failures: list[BaseException] = []

    over = threading.Event()

    def answer(user_id: int, client: Any, through: bool) -> None:
        try:
            for _ in range(per_resident):
                submit(client, user_id, case_set.pk, case.pk, ledger)
            while through and not over.wait(THINK_S):
                submit(client, user_id, case_set.pk, case.pk, ledger)
        except BaseException as exc:
            failures.append(exc)

    for _ in range(rounds):
        for name, fault in FAULTS.items():
            ledger.phase = name
            over.clear()
            threads = [
                threading.Thread(target=answer, args=(*pair, name in THROUGH)) for pair in clients
            ]
            for thread in threads:
                thread.start()
            time.sleep(0.3)  # answers in flight when the fault strikes
            on = time.monotonic()
            fault(rig)
            ledger.windows.append((name, on, time.monotonic()))
            over.set()
            for thread in threads:
                thread.join(120)
            assert not failures, f"after {name}: {failures[0]}\n{rig.logs()}"
    return ledger


def _drained(rig: Rig, ledger: Ledger, residents: int) -> dict[str, int]:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while True:
        rig.sweep()  # what beat sends every minute, here every 2 s
        figures = reconcile(ledger, residents)
        if figures["lost_scores"] == 0 or time.monotonic() > deadline:
            return figures
        time.sleep(2)


# The short run is in `make test` (100-150 s on two shared cores, most of it jobs whose message
# the broker restart lost waiting out the 60 s lease); the long one in `make soak`. See
# docs/reliability.md.
@pytest.mark.timeout(1800)
@pytest.mark.parametrize(
    ("rounds", "per_resident"),
    [pytest.param(1, 2, id="short"), pytest.param(3, 6, id="long", marks=pytest.mark.slow)],
)
def test_no_lost_or_duplicated_submission_or_score_after_faults(
    settings: Any, tmp_path: Path, practice: Any, rounds: int, per_resident: int
) -> None:
    import redis

    redis.Redis.from_url(harness.require_services()).ping()
    settings.RADGAME_JOBS = "celery"
    with Rig(tmp_path) as rig:
        ledger = _chaos(rig, practice, rounds, per_resident)
        figures = _drained(rig, ledger, len(practice[2]))
        logs = rig.logs()
    answers = len(ledger.keys)
    assert len(ledger.accepted) == answers >= len(practice[2]) * per_resident * rounds * len(FAULTS)
    latencies = window_latencies(ledger)
    print(f"chaos: {answers} answers, {ledger.errors} client retries, figures {figures}")
    print(f"chaos: failed explanation jobs by reason {failure_reasons(ledger)}")
    print(f"chaos: POSTs in flight during each fault {latencies}")
    assert figures == dict.fromkeys(figures, 0), f"{figures}\n{logs}"
    # R08, asserted in the soak only: in the short run a POST at load 8 on two shared cores takes
    # up to 2.3 s with no broker fault at all (docs/reliability.md, Chaos).
    if rounds > 1:
        for fault in BROKER_FAULTS:
            assert latencies[fault]["p99_s"] <= POST_P99_S, latencies
            assert latencies[fault]["5xx"] == 0, latencies
