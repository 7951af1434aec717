"""R10 in a real browser: the web server dies while a page waits for a result, the result is
stored while it is down, the server comes back on the same port, and the open page shows the
result without a reload. The figure is the time from the server answering again to the result
being visible (``docs/reliability.md`` row R10).

The web server is a real process (``radgame.serve``, as deployed) so the test can SIGKILL its
process group; jobs go to the real Redis broker, where no worker consumes them, and the test
finishes each one itself (the services' in-process path, as a worker would) while the server is
down, so nothing can reach the page but its own reconnect.
"""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from tests.inference import services_harness as harness
from tests.reporting.conftest import make_case, make_set

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROUNDS = 12  # p95 by nearest rank is then the 11th of 12: one slow restart is allowed
# RELIABILITY R10's pass figure. With the socket's reconnect delay capped at 1 s (static/js/app.js)
# the worst case is one capped retry plus the new process's first request; before the cap the
# region's 2 s poll mostly showed the result (max 2.33 s over 12 restarts, load average 1.5).
P95_BOUND_S = 2.0
# Errors a browser reports while its server is down; anything else still fails the test.
_OFFLINE_NOISE = (
    "ERR_CONNECTION_REFUSED",
    "ERR_CONNECTION_RESET",
    "ERR_CONTENT_LENGTH_MISMATCH",
    "WebSocket connection",
    "htmx:sendError",
    "htmx:afterRequest",
    "[object Event]",
)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz/", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _start_server(stack: ExitStack, port: int, env: dict[str, str], log: Path) -> Any:
    return stack.enter_context(
        harness.running(harness.uvicorn(port), env, log, "Application startup complete")
    )


def test_a_result_stored_while_the_server_was_down_appears_after_it_restarts(
    page: Any,
    page_problems: list[str],
    resident: Any,
    educator: Any,
    cohort: Any,
    settings: Any,
    media_root: Path,
    tmp_path: Path,
) -> None:
    from apps.inference.models import JobStatus
    from apps.inference.services import job_run_inprocess
    from apps.reporting.services import report_attempt_submit

    url = harness.require_services()
    import redis

    redis.Redis.from_url(url).flushdb()
    settings.RADGAME_JOBS = "celery"  # submits publish to the broker; nothing consumes them
    env = harness.process_env(connection.settings_dict["NAME"], MEDIA_ROOT=str(media_root))
    cases = [make_case(owner=educator, title=f"Case {n}") for n in range(ROUNDS)]
    case_set = make_set(owner=educator, cases=cases, cohort=cohort, name="Reconnect set")
    port = harness.free_port()
    base = f"http://127.0.0.1:{port}"
    page.add_init_script(
        "window.__wsOpens = 0;"
        "document.addEventListener('htmx:wsOpen', () => { window.__wsOpens += 1; });"
    )

    stack = ExitStack()
    server = _start_server(stack, port, env, tmp_path / "web-0.log")
    figures: list[float] = []
    downtimes: list[float] = []
    try:
        client = Client()
        client.force_login(resident, backend="django.contrib.auth.backends.ModelBackend")
        session = client.cookies["sessionid"].value
        page.context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        for n, case in enumerate(cases):
            with transaction.atomic():
                attempt, _ = report_attempt_submit(
                    user=resident,
                    case=case,
                    case_set=case_set,
                    text="Right lower lobe consolidation. No pleural effusion.",
                    idempotency_key=uuid.uuid4(),
                )
            page.goto(f"{base}/report/attempts/{attempt.pk}/")
            page.wait_for_selector("#report-result[data-status=pending]")
            # (wait_for_function evaluates a string, which the page's CSP refuses)
            assert harness.wait_for(lambda: page.evaluate("window.__wsOpens") >= 1, timeout=10)
            page.evaluate("window.__notReloaded = true")

            killed = time.monotonic()
            os.killpg(server.pid, signal.SIGKILL)
            stack.close()
            # The worker's finish, while the server is down (in a thread: Playwright's sync
            # API keeps an event loop in this one, where the finish's push cannot run).
            worker = threading.Thread(target=job_run_inprocess, args=(attempt.job_id,))
            worker.start()
            worker.join(timeout=30)
            attempt.job.refresh_from_db()
            assert attempt.job.status == JobStatus.DONE

            stack = ExitStack()
            server = _start_server(stack, port, env, tmp_path / f"web-{n + 1}.log")
            assert harness.wait_for(lambda: _answers(base), timeout=10, interval=0.02)
            answering = time.monotonic()
            page.wait_for_selector("#report-result[data-status=scored]", timeout=30000)
            figures.append(time.monotonic() - answering)
            downtimes.append(answering - killed)
            assert page.evaluate("window.__notReloaded === true")
        page.goto("about:blank")  # close the websocket before the server stops
    finally:
        stack.close()

    p95 = _percentile(figures, 0.95)
    print(
        f"\nR10 reconnect-to-visible over {len(figures)} restarts: "
        f"median {statistics.median(figures):.2f} s, p95 {p95:.2f} s, max {max(figures):.2f} s; "
        f"server down {min(downtimes):.1f}-{max(downtimes):.1f} s; "
        f"figures {[round(f, 2) for f in figures]}; load average {os.getloadavg()[0]:.1f}"
    )
    unexpected = [p for p in page_problems if not any(s in p for s in _OFFLINE_NOISE)]
    page_problems.clear()
    assert not unexpected, unexpected
    assert len(figures) == ROUNDS  # 100% visible after the reconnect
    assert p95 <= P95_BOUND_S
