"""S14: a new session key at login, the idle timeout, the absolute maximum, and no websocket left
to a deactivated user, to a session past its maximum, or to the other sessions of a user who
changed the password."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.sessions import LOGIN_AT
from apps.inference.consumers import JobStatusConsumer
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def logged_in(client: Client) -> bool:
    """A page only a logged-in user sees answers 200; anonymous is sent to the login page."""
    return client.get(reverse("home")).status_code == 200


def test_login_gives_a_new_session_key_and_starts_the_clock(make_user: Any) -> None:
    user = make_user("fixated")
    client = Client()
    session = client.session
    session["planted"] = "by an attacker"
    session.save()
    before = session.session_key
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session.session_key != before
    assert abs(client.session[LOGIN_AT] - time.time()) < 60


def test_an_idle_session_expires(settings: Any, make_user: Any) -> None:
    settings.SESSION_COOKIE_AGE = 3600
    client = Client()
    client.force_login(make_user("idle"), backend="django.contrib.auth.backends.ModelBackend")
    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=3599), tick=False):
        assert logged_in(client)
    with time_machine.travel(start + timedelta(seconds=3601), tick=False):
        assert not logged_in(client)


def test_a_session_in_use_ends_at_the_absolute_maximum(settings: Any, make_user: Any) -> None:
    settings.SESSION_COOKIE_AGE = 30 * 24 * 3600  # idle expiry out of the way
    settings.SESSION_SAVE_EVERY_REQUEST = True  # in use: every request renews the idle clock
    client = Client()
    client.force_login(make_user("busy"), backend="django.contrib.auth.backends.ModelBackend")
    start = timezone.now()
    maximum = settings.RADGAME_SESSION_MAX_AGE
    for hours in range(0, maximum // 3600, 6):
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            assert logged_in(client)
    with time_machine.travel(start + timedelta(seconds=maximum - 1), tick=False):
        assert logged_in(client)
    with time_machine.travel(start + timedelta(seconds=maximum + 1), tick=False):
        assert not logged_in(client)
        assert settings.SESSION_COOKIE_NAME not in client.cookies or not client.session.get(
            LOGIN_AT
        )


async def open_socket(user: Any, session: Any = None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(JobStatusConsumer.as_asgi(), "/ws/jobs/")
    communicator.scope["user"] = user
    communicator.scope["session"] = session
    return communicator


@pytest.mark.django_db(transaction=True)
def test_deactivating_a_user_closes_their_open_socket(make_user: Any) -> None:
    from asgiref.sync import sync_to_async

    user = make_user("leaver")

    def deactivate() -> None:
        user.is_active = False
        user.save(update_fields=["is_active"])  # autocommit: the on_commit push runs at once

    async def run() -> tuple[dict[str, Any], float]:
        socket = await open_socket(user)
        assert (await socket.connect())[0]
        started = time.monotonic()
        await sync_to_async(deactivate)()
        closed = await socket.receive_output(timeout=5)
        return closed, time.monotonic() - started

    closed, seconds = async_to_sync(run)()
    assert closed == {"type": "websocket.close", "code": 4403}
    assert seconds < 5


@pytest.mark.django_db(transaction=True)
def test_a_socket_past_the_sessions_maximum_is_refused(make_user: Any) -> None:
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[LOGIN_AT] = int(time.time()) - settings.RADGAME_SESSION_MAX_AGE - 1
    store.save()

    user = make_user("old-session")

    async def run() -> tuple[bool, Any]:
        socket = await open_socket(user, store)
        return await socket.connect()

    assert async_to_sync(run)() == (False, 4401)


def session_socket(client: Client) -> WebsocketCommunicator:
    """A socket as a browser opens it: the session cookie through the real auth stack."""
    from channels.auth import AuthMiddlewareStack
    from channels.routing import URLRouter

    from radgame.routing import websocket_urlpatterns

    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return WebsocketCommunicator(
        AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
        "/ws/jobs/",
        headers=[(b"cookie", cookie.encode())],
    )


@pytest.mark.django_db(transaction=True)
def test_a_password_change_logs_the_other_sessions_out_and_closes_their_sockets(
    make_user: Any,
) -> None:
    from asgiref.sync import sync_to_async

    user = make_user("changer")
    changing, other = Client(), Client()
    for client in (changing, other):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    new_password = "a-new-Passphrase-9"

    def change() -> Any:
        return changing.post(
            reverse("accounts:password_change"),
            {
                "old_password": PASSWORD,
                "new_password1": new_password,
                "new_password2": new_password,
            },
        )

    async def run() -> tuple[Any, dict[str, Any], dict[str, Any], float, tuple[bool, Any]]:
        sockets = [session_socket(changing), session_socket(other)]
        for socket in sockets:
            assert (await socket.connect())[0]
        started = time.monotonic()
        response = await sync_to_async(change)()
        closed = [await socket.receive_output(timeout=5) for socket in sockets]
        seconds = time.monotonic() - started
        again = await session_socket(other).connect()
        return response, closed[0], closed[1], seconds, again

    response, own, others, seconds, again = async_to_sync(run)()
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change_done")
    # The other session's open socket is closed within the wait, and cannot come back.
    assert others == {"type": "websocket.close", "code": 4403}
    assert seconds < 5
    assert again == (False, 4401)
    # The changing session's own socket closes too (its next page opens a new one, see
    # close_sockets_of_ended_sessions); the session itself stays logged in over HTTP and websocket.
    assert own == {"type": "websocket.close", "code": 4403}
    assert logged_in(changing)
    assert changing.get(reverse("api-me")).status_code == 200

    async def reconnect() -> tuple[bool, Any]:
        socket = session_socket(changing)
        connected = await socket.connect()
        await socket.disconnect()
        return connected

    assert async_to_sync(reconnect)()[0]
    # The other session: its next page asks for a login, the API answers unauthenticated.
    page = other.get(reverse("home"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("accounts:login"))
    # DRF's session authentication sends no WWW-Authenticate challenge: anonymous is a 403.
    assert other.get(reverse("api-me")).status_code == 403
