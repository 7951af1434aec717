"""Django's HTTP requests under ASGI, each handled in one hop to a pooled thread, as under WSGI.

Django's own ASGI handler starts a thread per request (``ThreadSensitiveContext``), sends the
request signals through ``sync_to_async``, and loads the middleware in async mode. Every view here
is synchronous and so is most middleware: Django's built-in ones run their ``process_request`` and
``process_response`` through ``sync_to_async`` one by one, and the sync-only ones (two of ours,
WhiteNoise's) switch back with ``async_to_sync`` in the middle of the chain. A Localize submit
crossed threads about a dozen times that way; each crossing is a future, a context copy and two
thread switches. Together they were about 4 ms of server CPU on a request that does nothing (a
404) and more on one that runs the whole chain (bench/localize.py --section load, issue 11).

Here the event loop reads the body, within its cap (``apps.core.middleware.body_limit``: a body
past it, declared or streamed without a Content-Length, is answered 413 as soon as the cap is
passed, and the connection closed so the rest is never read), and sends the response; everything between runs in one call on
a thread from a fixed pool (``WEB_THREADS``): the request signals, the middleware chain built in
sync mode, the view, and, for a complete response, closing it (which returns the database
connection) before a byte is sent. A streaming response is iterated and closed on the same thread,
so a generator that reads the database (the analytics exports) uses the request's connection, and
its chunks go out as they are made instead of being collected first.

The pool bounds how many requests run Django code at once in one process: more wait in the event
loop, not in Postgres. It is small (4 by default, never above ``DB_POOL_MAX``): one thread runs
Python at a time, and more threads than it takes to overlap database waits only contend for the
lock (the settings give the figures). Websockets never come here: they go
through Channels (radgame/asgi.py).
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix
from django.utils.http import parse_header_parameters

from apps.core.middleware import body_limit, too_large_response

Send = Any  # the ASGI send callable
Scope = dict[str, Any]


class BodyTooLargeError(Exception):
    """The body passed its cap: answered 413 before the rest is read."""


class ThreadedASGIHandler(ASGIHandler):
    """An ASGIHandler whose requests run synchronously, start to finish, on one pooled thread."""

    def __init__(self) -> None:
        super().__init__()
        self.executor = ThreadPoolExecutor(
            max_workers=settings.WEB_THREADS, thread_name_prefix="radgame-http"
        )

    def load_middleware(self, is_async: bool = False) -> None:
        # ASGIHandler.__init__ asks for the async chain; the sync one is the point of this class.
        super().load_middleware(is_async=False)

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP here, not {scope['type']}")
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Any, send: Send) -> None:
        content_type = _content_type(scope)
        declared = _content_length(scope)
        try:
            body_file = await self.read_body_within(receive, body_limit(content_type), declared)
        except RequestAborted:
            return
        except BodyTooLargeError:
            response = too_large_response(scope["path"], content_type)
            # uvicorn closes the connection after this answer instead of reading (and dropping)
            # the rest of the body to keep it alive.
            response["Connection"] = "close"
            await self.send_response(response, send)
            return
        if declared is None and scope["method"] not in ("GET", "HEAD"):
            # A chunked body: DRF reads a body by its Content-Length (without one, as empty).
            length = str(body_file.seek(0, 2)).encode()
            body_file.seek(0)
            scope = {**scope, "headers": [*scope.get("headers", ()), (b"content-length", length)]}
        try:
            in_thread = sync_to_async(self._respond, thread_sensitive=False, executor=self.executor)
            response = await in_thread(scope, body_file, send)
            if response is not None:  # complete and closed: the loop sends it
                await self.send_response(response, send)
        finally:
            body_file.close()

    async def read_body_within(self, receive: Any, limit: int | None, declared: int | None) -> Any:
        """Django's ``read_body`` (memory, then a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE),
        refusing a body over ``limit``: a declared length at once, before a byte is read (so a
        client that sent ``Expect: 100-continue`` sends nothing), a chunked one once it passes."""
        if limit is not None and declared is not None and declared > limit:
            raise BodyTooLargeError
        body_file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed by handle)
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b"
        )
        received = 0
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise RequestAborted
                chunk = message.get("body", b"")
                received += len(chunk)
                if limit is not None and received > limit:
                    raise BodyTooLargeError
                body_file.write(chunk)
                if not message.get("more_body", False):
                    break
        except BaseException:
            body_file.close()
            raise
        body_file.seek(0)
        return body_file

    def _respond(self, scope: Scope, body_file: Any, send: Send) -> HttpResponseBase | None:
        """On the pool thread: the whole request. Returns a closed complete response for the loop
        to send, or None when a streaming response was sent (and closed) here."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        response = error_response if request is None else self.get_response(request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        if isinstance(response, FileResponse):
            # As Django's own handler does: read a file in sends' sizes, not 4 KiB blocks (each
            # block is a send, a hop to the event loop).
            response.block_size = self.chunk_size
        if not response.streaming:
            response.close()  # request_finished: the database connection goes back now
            return response
        try:
            self._stream(response, async_to_sync(send))
        finally:
            response.close()
        return None

    def _stream(self, response: Any, send: Any) -> None:
        """Send a streaming response from the thread that made it, chunk by chunk."""
        send(_start_message(response))
        for part in response:  # a sync iterator (every streaming response here is one)
            for chunk, _ in self.chunk_bytes(part):
                send({"type": "http.response.body", "body": chunk, "more_body": True})
        send({"type": "http.response.body"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin1")
    return None


def _content_type(scope: Scope) -> str:
    return parse_header_parameters(_header(scope, b"content-type") or "")[0]


def _content_length(scope: Scope) -> int | None:
    """The declared body length; None when absent or unreadable (the stream is counted)."""
    try:
        return int(_header(scope, b"content-length") or "")
    except ValueError:
        return None


def _start_message(response: HttpResponseBase) -> dict[str, Any]:
    """ASGI's response start: status, headers (latin-1, case kept) and one header per cookie."""
    headers = [(name.encode("ascii"), value.encode("latin1")) for name, value in response.items()]
    headers += [
        (b"Set-Cookie", cookie.output(header="").encode("ascii").strip())
        for cookie in response.cookies.values()
    ]
    return {"type": "http.response.start", "status": response.status_code, "headers": headers}


def get_http_application() -> ThreadedASGIHandler:
    """Set Django up (as ``get_asgi_application`` does) and return the HTTP handler."""
    import django

    django.setup(set_prefix=False)
    return ThreadedASGIHandler()
