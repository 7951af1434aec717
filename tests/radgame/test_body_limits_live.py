"""S15 on the real server (``python -m radgame.serve``): an oversized body is refused with a 413
after about its cap, with or without a Content-Length, without the server's memory growing with
the stream or the rest of the body being read or spooled to disk; 101 files are a 400.

The short streams (200 MiB) run in ``make test``; the 2 GiB ones are marked slow (``make soak``).
The cap applies before authentication, so the streams are anonymous: an attacker needs no account.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.cases.factories import png_bytes
from tests.inference import services_harness as harness

from .body_stream import BOUNDARY, MIB, Outcome, ProcessMemory, multipart_preamble, stream_body

UPLOAD_PATH = "/cases/new/"
API_PATH = "/api/v1/cohorts/join/"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
PEAK_RSS_DELTA_MAX = 50 * MIB  # RELIABILITY S15's pass figure
# What the client may have sent past the cap before it saw the answer: the kernel's socket
# buffers on both sides and the server's read-ahead (uvicorn pauses reading at 64 KiB).
SLACK = 16 * MIB


class LiveServer:
    def __init__(self, port: int, proc: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.memory = ProcessMemory(proc.pid)

    def stream(self, kind: str, *, total: int, chunked: bool) -> tuple[Outcome, int, int]:
        """One stream; returns the outcome, the server's peak RSS growth and its disk writes."""
        baseline = self.memory.reset()
        written = self.memory.written()
        if kind == "upload":
            outcome = stream_body(
                self.port,
                UPLOAD_PATH,
                total=total,
                content_type=MULTIPART,
                chunked=chunked,
                preamble=multipart_preamble({"title": "big"}),
            )
        else:
            outcome = stream_body(
                self.port, API_PATH, total=total, content_type="application/json", chunked=chunked
            )
        time.sleep(0.2)  # the server finishes with the connection
        return outcome, self.memory.peak() - baseline, self.memory.written() - written


def server_env() -> dict[str, str]:
    # Jobs in process and no Redis: these tests need only the web process and the test database.
    return harness.process_env(
        connection.settings_dict["NAME"],
        REDIS_URL="",
        CELERY_BROKER_URL="",
        RADGAME_JOBS="inprocess",
    )


@pytest.fixture(scope="module")
def server(django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if connection.vendor != "postgresql":
        pytest.skip("the live server shares the test database: Postgres only")
    port = harness.free_port()
    log = tmp_path_factory.mktemp("web") / "web.log"
    with harness.running(
        harness.uvicorn(port), server_env(), log, "Application startup complete"
    ) as proc:
        yield LiveServer(port, proc)


def cap_for(kind: str) -> int:
    if kind == "upload":
        return settings.RADGAME_MAX_UPLOAD_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def check_refused(server: LiveServer, kind: str, total: int, chunked: bool) -> None:
    outcome, peak_growth, written = server.stream(kind, total=total, chunked=chunked)
    cap = cap_for(kind)
    figures = (
        f"{kind} {'chunked' if chunked else 'with Content-Length'}: {outcome.status} after "
        f"{outcome.bytes_sent / MIB:.1f} MiB sent of {total / MIB:.0f} in {outcome.seconds:.2f} s; "
        f"server peak RSS +{peak_growth / MIB:.1f} MiB, wrote {written / MIB:.1f} MiB"
    )
    print(figures)
    assert outcome.status == 413, outcome.head[:300]
    assert "connection: close" in outcome.head.lower()
    assert "this server accepts" in outcome.head
    # Refused about the cap, not at the end of the stream.
    assert outcome.bytes_sent <= (cap if chunked else 0) + SLACK, figures
    assert written <= (cap if chunked else 0) + MIB, figures  # no spool of the rest
    assert peak_growth < PEAK_RSS_DELTA_MAX, figures


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("kind", ["upload", "json"])
def test_a_200_mib_stream_is_refused_at_its_cap(
    server: LiveServer, kind: str, chunked: bool
) -> None:
    check_refused(server, kind, 200 * MIB, chunked)


@pytest.mark.slow
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("kind", ["upload", "json"])
def test_a_2_gib_stream_is_refused_at_its_cap(server: LiveServer, kind: str, chunked: bool) -> None:
    check_refused(server, kind, 2048 * MIB, chunked)


def _session(make_user: Any, username: str, role: str) -> tuple[str, str]:
    """Cookies for a logged-in user and the CSRF token that goes with them."""
    client = Client()
    client.force_login(
        make_user(username, role), backend="django.contrib.auth.backends.ModelBackend"
    )
    token = secrets.token_hex(16)  # a CSRF secret chosen by the client, as a browser keeps one
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    cookies = f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={token}"
    return cookies, token


def _exchange(port: int, head: str, body: bytes) -> str:
    """Send one whole request (the connection closes after it); returns the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.decode("latin1")


def _post_multipart(port: int, cookies: str, parts: list[tuple[str, str, bytes]]) -> str:
    body = (
        b"".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'.encode()
            + (f'; filename="{filename}"'.encode() if filename else b"")
            + b"\r\n\r\n"
            + data
            + b"\r\n"
            for name, filename, data in parts
        )
        + f"--{BOUNDARY}--\r\n".encode()
    )
    head = (
        f"POST {UPLOAD_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {MULTIPART}\r\n"
        f"Content-Length: {len(body)}\r\nCookie: {cookies}\r\nConnection: close\r\n\r\n"
    )
    return _exchange(port, head, body)


@pytest.mark.django_db(transaction=True)
def test_101_files_are_a_400_and_one_file_within_the_cap_is_taken(
    server: LiveServer, make_user: Any
) -> None:
    cookies, token = _session(make_user, "educator", "educator")
    csrf = ("csrfmiddlewaretoken", "", token.encode())
    many = [csrf] + [("file", f"f{n}.png", b"x") for n in range(101)]
    answer = _post_multipart(server.port, cookies, many)
    assert answer.startswith("HTTP/1.1 400 "), answer[:500]
    answer = _post_multipart(server.port, cookies, [csrf, ("file", "a.png", png_bytes())])
    assert answer.startswith("HTTP/1.1 302 "), answer[:500]
    assert "location: /cases/uploads/" in answer.lower(), answer[:500]


@pytest.mark.django_db(transaction=True)
def test_a_chunked_json_body_within_the_cap_reaches_the_view(
    server: LiveServer, make_user: Any
) -> None:
    cookies, token = _session(make_user, "resident", "resident")
    body = b'{"code": "NOPE"}'
    head = (
        f"POST {API_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Transfer-Encoding: chunked\r\nCookie: {cookies}\r\nX-CSRFToken: {token}\r\n"
        "Connection: close\r\n\r\n"
    )
    answer = _exchange(server.port, head, b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    assert answer.startswith("HTTP/1.1 400 "), answer[:500]
    assert "No cohort has this join code" in answer  # the view parsed the body
