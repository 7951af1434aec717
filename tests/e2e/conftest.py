"""Browser fixtures shared by every tests/e2e module.

- ``chromium_browser`` (session): Debian's /usr/bin/chromium driven by Playwright's sync API.
  A browser is never downloaded; without the binary or the playwright package the e2e tests skip.
- ``page``: a fresh context and page per test. It records console errors, uncaught exceptions
  and Content-Security-Policy violations in ``page_problems`` and fails the test at teardown if
  any were recorded (a test expecting some can inspect and clear that list).
  ``make_page(**context_options)`` makes more such pages (touch, small screens, ...).
- ``browser_page``: a ``page`` whose live-push websocket is a silent mock (for ``live_server``,
  which speaks WSGI only; the live regions fall back to polling).
- ``media_root`` (autouse): every test stores uploads and images in a MEDIA_ROOT of its own under
  tmp_path, created empty; returns its path.
- ``asgi_server``: the real ASGI application (uvicorn in a thread, websockets included) on the
  test database, with that MEDIA_ROOT; yields its base URL.
- ``static_server`` (session): a tiny HTTP server on 127.0.0.1 serving the repository root with
  a strict CSP header; ``mount(prefix, directory)`` serves generated files beside it.
"""

from __future__ import annotations

import functools
import http.server
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.steps import mute_live_socket

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("RADGAME_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
]
# The policy the real site sends: nothing inline, nothing from elsewhere.
STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:"

# Injected by the driver (not subject to the page's CSP): turns every violation into a
# console error, which the page fixture then records.
_REPORT_CSP_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
});
"""


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def page_problems() -> list[str]:
    return []


@pytest.fixture
def make_page(chromium_browser, page_problems: list[str]) -> Iterator[Callable[..., object]]:
    """Factory for extra pages with their own context options (touch, mobile viewport, ...).

    Every page it makes reports into ``page_problems``; contexts close at teardown.
    """
    contexts = []

    def on_console(msg) -> None:
        # Browsers ask for /favicon.ico on their own; its 404 is not the page's fault.
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            page_problems.append(f"console.error: {msg.text}")

    def make(**context_options: object) -> object:
        options = {"viewport": {"width": 1100, "height": 820}, **context_options}
        context = chromium_browser.new_context(**options)
        contexts.append(context)
        context.add_init_script(_REPORT_CSP_VIOLATIONS)
        pg = context.new_page()
        pg.on("console", on_console)
        pg.on("pageerror", lambda exc: page_problems.append(f"uncaught: {exc}"))
        return pg

    yield make
    for context in contexts:
        context.close()
    assert not page_problems, "browser reported problems:\n" + "\n".join(page_problems)


@pytest.fixture
def page(make_page) -> object:
    return make_page()


@pytest.fixture
def browser_page(page: Any) -> Any:
    mute_live_socket(page)
    return page


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".css": "text/css",
        ".webp": "image/webp",
        ".png": "image/png",
        ".json": "application/json",
    }

    def translate_path(self, path: str) -> str:
        route = urllib.parse.unquote(path.split("?", 1)[0].split("#", 1)[0])
        for prefix, directory in self.server.mounts.items():
            if route.startswith(prefix):
                base = Path(directory).resolve()
                target = (base / route[len(prefix) :]).resolve()
                # A path escaping the mount maps to a name that does not exist: 404.
                return str(target if target.is_relative_to(base) else base / ".outside-mount")
        return super().translate_path(path)

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", self.server.csp)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


class StaticServer:
    """Serve ``root`` (and mounted directories) over HTTP on an ephemeral local port."""

    def __init__(self, root: Path, csp: str = STRICT_CSP) -> None:
        handler = functools.partial(_Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.mounts = {}
        self.httpd.csp = csp
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def mount(self, prefix: str, directory: Path) -> str:
        """Serve ``directory`` under URL ``prefix`` (e.g. "/fixtures/"); returns the full URL."""
        prefix = "/" + prefix.strip("/") + "/"
        self.httpd.mounts[prefix] = Path(directory)
        return self.url + prefix

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def static_server() -> Iterator[StaticServer]:
    server = StaticServer(REPO_ROOT)
    yield server
    server.close()


@pytest.fixture
def asgi_server(transactional_db: object, media_root: Path) -> Iterator[str]:
    import uvicorn

    from radgame.asgi import application

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
