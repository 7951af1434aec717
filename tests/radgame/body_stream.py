"""A client that streams a large request body to a live server, and the server's memory meter.

The client sends the body a MiB at a time (with a Content-Length, or chunked without one) and
stops as soon as the server answers or closes the connection; it reports the answer, how many
body bytes it managed to send (an upper bound on what the server read: the kernel's socket
buffers hold a few MiB of it) and how long that took. The meter resets the server process's peak
RSS (``/proc/PID/clear_refs``) and reads it back after the stream.
"""

from __future__ import annotations

import select
import socket
import time
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
BOUNDARY = "radgame-body-stream"


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: the connection closed without an answer
    head: str
    bytes_sent: int  # of the body, chunked framing included
    seconds: float


def multipart_preamble(fields: dict[str, str], filename: str = "big.dcm") -> bytes:
    """Form fields, then the start of a file part whose content the stream supplies."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return "".join(parts).encode()


def stream_body(
    port: int,
    path: str,
    *,
    total: int,
    content_type: str,
    chunked: bool,
    preamble: bytes = b"",
    cookies: str = "",
    timeout: float = 120,
) -> Outcome:
    """POST ``preamble`` then zeros, ``total`` body bytes in all, until the server answers."""
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}"]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    if cookies:
        head.append(f"Cookie: {cookies}")
    started = time.monotonic()
    queued = sent = 0  # body bytes taken from the stream / written to the socket (with framing)
    block = b"\0" * MIB
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sock.settimeout(0.2)
        pending = b""
        while (pending or queued < total) and time.monotonic() - started < timeout:
            if select.select([sock], [], [], 0)[0]:
                break  # an answer, or the close: stop sending
            if not pending:
                piece = (preamble if queued == 0 and preamble else block)[: total - queued]
                queued += len(piece)
                pending = (b"%x\r\n%s\r\n" % (len(piece), piece)) if chunked else piece
                if chunked and queued >= total:
                    pending += b"0\r\n\r\n"
            try:
                written = sock.send(pending)
            except TimeoutError:
                continue  # the server is not reading: look for its answer
            except OSError:
                break  # reset or broken pipe: the server closed the connection
            sent += written
            pending = pending[written:]
        answer = _read_head(sock, timeout=10)
    status = int(answer.split(" ", 2)[1]) if answer.startswith("HTTP/1.1 ") else None
    return Outcome(status, answer, sent, time.monotonic() - started)


def _read_head(sock: socket.socket, timeout: float) -> str:
    """The status line and headers (and the start of the body), or what came before a close."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        data += sock.recv(65536) if b"\r\n\r\n" in data else b""
    except OSError:
        pass  # reset: what arrived before it is the answer
    return data.decode("latin1")


class ProcessMemory:
    """Resident memory of one process (Linux): its current size and its peak since ``reset``."""

    def __init__(self, pid: int) -> None:
        self.status = Path(f"/proc/{pid}/status")
        self.clear_refs = Path(f"/proc/{pid}/clear_refs")
        self.io = Path(f"/proc/{pid}/io")

    def _field(self, path: Path, name: str) -> int:
        for line in path.read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
        raise KeyError(name)

    def rss(self) -> int:
        return self._field(self.status, "VmRSS") * 1024

    def peak(self) -> int:
        return self._field(self.status, "VmHWM") * 1024

    def written(self) -> int:
        """Bytes the process wrote (files and pipes; its sockets are sent, not written)."""
        return self._field(self.io, "wchar")

    def reset(self) -> int:
        """Start a new peak at the current size (``echo 5 > clear_refs``); returns that size."""
        self.clear_refs.write_text("5")
        return self.rss()
