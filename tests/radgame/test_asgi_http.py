"""The HTTP side of the ASGI app (radgame.asgi_http): one pooled thread per request, start to
finish; the same responses as Django's own handler; streaming from the request's thread."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from asgiref.sync import iscoroutinefunction
from django.core import signals
from django.core.handlers.asgi import ASGIHandler
from django.test import Client
from django.urls import reverse

from radgame.asgi_http import ThreadedASGIHandler
from tests.analytics.conftest import build_played

pytestmark = pytest.mark.django_db(transaction=True)  # requests run on other threads


def asgi_request(
    app: Any,
    path: str,
    *,
    method: str = "GET",
    body: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    on_send: Any = None,
) -> tuple[int, dict[bytes, list[bytes]], bytes, list[dict[str, Any]]]:
    """One request through an ASGI app: (status, headers, body, body messages)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop()
        await asyncio.sleep(3600)  # no disconnect while the request runs
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if on_send is not None:
            on_send(message)
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    assert start["type"] == "http.response.start"
    headers_out: dict[bytes, list[bytes]] = {}
    for name, value in start["headers"]:
        headers_out.setdefault(name.lower(), []).append(value)
    bodies = sent[1:]
    assert bodies and not bodies[-1].get("more_body", False)
    return start["status"], headers_out, b"".join(m.get("body", b"") for m in bodies), bodies


@pytest.fixture
def app() -> ThreadedASGIHandler:
    return ThreadedASGIHandler()


@pytest.fixture
def record_signals() -> Any:
    """(signal name, thread name, time) for every request_started and request_finished."""
    seen: list[tuple[str, str, float]] = []

    def started(**_: Any) -> None:
        seen.append(("started", threading.current_thread().name, time.monotonic()))

    def finished(**_: Any) -> None:
        seen.append(("finished", threading.current_thread().name, time.monotonic()))

    signals.request_started.connect(started, weak=False)
    signals.request_finished.connect(finished, weak=False)
    yield seen
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


def session_cookie(user: Any) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def test_the_middleware_chain_is_built_synchronous(app: ThreadedASGIHandler) -> None:
    assert not iscoroutinefunction(app._middleware_chain)
    assert iscoroutinefunction(ASGIHandler()._middleware_chain)  # what Django's own would do


def test_a_request_runs_on_one_pool_thread_and_is_closed_before_it_is_sent(
    app: ThreadedASGIHandler, record_signals: list[tuple[str, str, float]]
) -> None:
    sent_at: list[float] = []
    status, _, body, _ = asgi_request(
        app, "/healthz/", on_send=lambda message: sent_at.append(time.monotonic())
    )
    assert status == 200 and json.loads(body)["status"] == "ok"
    (started, finished) = record_signals
    assert started[0] == "started" and finished[0] == "finished"
    assert started[1] == finished[1] and started[1].startswith("radgame-http")
    # The database connection goes back (request_finished) before the first byte is sent.
    assert finished[2] <= sent_at[0]


def test_responses_carry_what_django_s_own_handler_sends(app: ThreadedASGIHandler) -> None:
    ours = asgi_request(app, reverse("accounts:login"))
    django_s = asgi_request(ASGIHandler(), reverse("accounts:login"))
    assert ours[0] == django_s[0] == 200
    assert set(ours[1]) == set(django_s[1])  # every header: CSP, frame, referrer, cookies
    assert any(v.startswith(b"csrftoken=") for v in ours[1][b"set-cookie"])
    assert b'name="csrfmiddlewaretoken"' in ours[2]


def test_an_oversized_api_body_is_a_json_413(app: ThreadedASGIHandler, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    status, headers, body, _ = asgi_request(
        app,
        "/api/v1/localize/sets/1/cases/1/attempts/",
        method="POST",
        body=b"{" + b" " * 5000 + b"}",
        headers=[(b"content-type", b"application/json"), (b"content-length", b"5002")],
    )
    assert status == 413 and headers[b"content-type"][0].startswith(b"application/json")
    assert "detail" in json.loads(body)


def test_a_streaming_export_is_read_and_closed_on_the_request_thread(
    app: ThreadedASGIHandler,
    educator: Any,
    cohort: Any,
    resident: Any,
    record_signals: list[tuple[str, str, float]],
) -> None:
    build_played(educator, cohort, resident)
    path = reverse("analytics:export", args=[cohort.pk, "attempts", "csv"])
    status, headers, body, messages = asgi_request(app, path, headers=[session_cookie(educator)])
    assert status == 200 and headers[b"cache-control"] == [b"no-store"]
    client = Client()
    client.force_login(educator)
    assert body == b"".join(client.get(path).streaming_content)
    assert len(body.splitlines()) == 5  # the header and the four attempts (database reads)
    # Sent as made (the last message closes the body), and closed where the view ran.
    assert len(messages) >= 2 and messages[-1] == {"type": "http.response.body"}
    started, finished = record_signals[:2]  # the ASGI request's (the test client's follow)
    assert started[1] == finished[1] and started[1].startswith("radgame-http")


def test_requests_beyond_web_threads_wait_their_turn(settings: Any) -> None:
    settings.WEB_THREADS = 1
    app = ThreadedASGIHandler()
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def slow_start(**_: Any) -> None:
        time.sleep(0.2)

    signals.request_started.connect(slow_start, weak=False)
    try:

        async def two_at_once() -> None:
            async def one() -> None:
                began = time.monotonic()
                await asyncio.to_thread(asgi_request, app, "/healthz/")
                with lock:
                    spans.append((began, time.monotonic()))

            await asyncio.gather(one(), one())

        asyncio.run(two_at_once())
    finally:
        signals.request_started.disconnect(slow_start)
    first, second = sorted(spans, key=lambda span: span[1])
    # One thread: the second request's 0.2 s begins only when the first's ends.
    assert second[1] - first[1] >= 0.19
    assert app.executor._max_workers == 1
