"""A small TCP proxy for fault injection (RELIABILITY §4: no toxiproxy, no tc netem here).

It listens on a free loopback port and forwards to ``upstream``. Modes, switchable at any time:

- ``pass``: forward bytes both ways;
- ``latency``: forward each chunk after ``latency_s``;
- ``blackhole``: accept and hold connections, forward nothing (reads time out upstream-side);
- ``reset``: close every open connection with an RST and refuse new ones the same way.

It runs an asyncio loop in a daemon thread, so tests drive it from ordinary blocking code.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from typing import Literal

Mode = Literal["pass", "latency", "blackhole", "reset"]
CHUNK = 65536


def _rst(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (SO_LINGER 0) instead of a FIN: the peer sees ECONNRESET."""
    sock = writer.get_extra_info("socket")
    if sock is not None and sock.fileno() >= 0:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class ChaosProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode: Mode = "pass"
        self.latency_s = 0.0
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._started.wait(10)
        self.url_host = "127.0.0.1"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._started.set()
        self._loop.run_forever()

    def set(self, mode: Mode, latency_s: float = 0.0) -> None:
        """Switch mode; ``reset`` also aborts every connection open now."""
        self.mode, self.latency_s = mode, latency_s
        if mode == "reset":
            self._loop.call_soon_threadsafe(self._reset_all)

    def _reset_all(self) -> None:
        for writer in list(self._writers):
            _rst(writer)
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "reset":
            _rst(writer)
            return
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            self._writers.discard(writer)
            _rst(writer)
            return
        self._writers.add(up_writer)
        pipes = {
            asyncio.ensure_future(self._pipe(reader, up_writer)),
            asyncio.ensure_future(self._pipe(up_reader, writer)),
        }
        # When one side ends (a FIN, or an RST from a killed process) the other is cut too: a
        # server must see its client go, as it would without the proxy in between.
        _, pending = await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for pipe in pending:
            pipe.cancel()
        for each in (writer, up_writer):
            self._writers.discard(each)
            each.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):  # a reset ends the pipe like an end of stream
            await self._forward(reader, writer)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            while self.mode == "blackhole":
                await asyncio.sleep(0.05)  # held, never forwarded while the hole lasts
            if self.mode == "latency" and self.latency_s:
                await asyncio.sleep(self.latency_s)
            if self.mode == "reset":
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof() and not writer.is_closing():
            writer.write_eof()

    def close(self) -> None:
        def stop() -> None:
            self._server.close()
            self._reset_all()
            self._loop.stop()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(5)
