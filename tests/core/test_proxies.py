"""X-Forwarded-For is believed only from TRUSTED_PROXIES, by the server and the lockout alike."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory
from django.urls import reverse
from uvicorn import Config

from apps.core.net import client_ip
from radgame.serve import server_options
from radgame.settings.env import env_networks
from tests.conftest import PASSWORD


def _client_seen_by_app(peer: str, forwarded: str) -> tuple[str, str]:
    """Run one request through the middleware stack uvicorn builds from radgame.serve's options;
    return the client address and scheme the application receives."""
    seen: dict[str, Any] = {}

    async def app(scope: dict, receive: Any, send: Any) -> None:
        seen["client"], seen["scheme"] = scope["client"][0], scope["scheme"]

    options = server_options(host="127.0.0.1", port=8000, workers=1)
    config = Config(app, **{k: v for k, v in options.items() if k != "workers"})
    config.load()
    scope = {
        "type": "http",
        "scheme": "http",
        "client": (peer, 50000),
        "headers": [(b"x-forwarded-for", forwarded.encode()), (b"x-forwarded-proto", b"https")],
    }

    async def run() -> None:
        await config.loaded_app(scope, None, None)

    async_to_sync(run)()
    return seen["client"], seen["scheme"]


def test_by_default_the_server_believes_no_forwarded_header() -> None:
    """uvicorn's own default trusts loopback: a header sent through anything local picked the
    address the lockout counts, so rotating it defeated the lockout."""
    assert server_options(host="127.0.0.1", port=8000, workers=1)["proxy_headers"] is False
    assert _client_seen_by_app("127.0.0.1", "198.51.100.7") == ("127.0.0.1", "http")


def test_a_listed_proxy_is_believed(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ("127.0.0.1/32",)
    assert _client_seen_by_app("127.0.0.1", "198.51.100.7") == ("198.51.100.7", "https")
    # Anyone else's header is still ignored.
    assert _client_seen_by_app("192.0.2.50", "198.51.100.7") == ("192.0.2.50", "http")


def _request(remote: str, forwarded: str | None = None) -> Any:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_client_ip_ignores_the_header_from_anyone_but_a_trusted_proxy(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ()
    assert client_ip(_request("192.0.2.1", "198.51.100.7")) == "192.0.2.1"
    settings.TRUSTED_PROXIES = ("10.0.0.0/8",)
    assert client_ip(_request("192.0.2.1", "198.51.100.7")) == "192.0.2.1"
    # From the proxy: the right-most address that is not a proxy (the client cannot choose it).
    assert client_ip(_request("10.0.0.2", "6.6.6.6, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.9")) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2")) == "10.0.0.2"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded"),
    [
        ((), "127.0.0.1", "{n}.0.2.1"),  # rotated header from the same peer, no proxy trusted
        (("10.0.0.1",), "10.0.0.1", "{n}.0.2.1, 198.51.100.7"),  # behind a proxy that appends
    ],
)
def test_rotating_x_forwarded_for_does_not_escape_the_lockout(
    settings: Any, resident: Any, trusted: tuple[str, ...], remote: str, forwarded: str
) -> None:
    settings.TRUSTED_PROXIES = trusted
    url = reverse("accounts:login")
    for n in range(settings.AXES_FAILURE_LIMIT):
        Client(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded.format(n=n + 1)).post(
            url, {"username": "resident", "password": "wrong"}
        )
    last = Client(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded.format(n=99)).post(
        url, {"username": "resident", "password": PASSWORD}
    )
    assert last.status_code == 429


@pytest.mark.parametrize("value", ["*", "proxy.example.org", "10.0.0.1,nonsense"])
def test_trusted_proxies_refuses_wildcards_and_names(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", value)
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        env_networks("TRUSTED_PROXIES")


def test_trusted_proxies_normalises_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", " 172.18.0.1, 10.0.0.0/8 ,::1")
    assert env_networks("TRUSTED_PROXIES") == ("172.18.0.1/32", "10.0.0.0/8", "::1/128")


@pytest.mark.parametrize("retired", ["NUM_PROXIES", "AXES_IPWARE_PROXY_COUNT"])
def test_retired_proxy_counts_stop_start_up(retired: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env[retired] = "1"
    done = subprocess.run(
        [sys.executable, "-c", "import radgame.settings.local"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "TRUSTED_PROXIES" in done.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "radgame.example.org"])
def test_debug_is_refused_on_a_host_others_can_reach(settings: Any, host: str) -> None:
    settings.DEBUG = True
    with pytest.raises(ImproperlyConfigured, match="DEBUG is on"):
        server_options(host=host, port=8000, workers=1)
    settings.DEBUG = False
    assert server_options(host=host, port=8000, workers=1)["host"] == host


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_debug_is_kept_on_loopback(settings: Any, host: str) -> None:
    settings.DEBUG = True
    assert server_options(host=host, port=8000, workers=1)["host"] == host


def _start(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the demo's settings, as `make demo` runs them
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "radgame.serve", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_demo_on_a_public_address_stops_with_a_message() -> None:
    done = _start({}, "--host", "0.0.0.0", "--port", "1")
    assert done.returncode == 2
    assert "DEBUG is on (radgame.settings.local) and --host 0.0.0.0" in done.stderr


def test_demo_settings_refuse_a_public_allowed_host() -> None:
    done = _start({"ALLOWED_HOSTS": "127.0.0.1,radgame.example.org"}, "--port", "1")
    assert done.returncode != 0
    assert "ALLOWED_HOSTS names radgame.example.org" in done.stderr
