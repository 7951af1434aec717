"""S14: a new session key at login, the idle timeout, the absolute maximum, and no websocket left
to a deactivated user or to a session past its maximum."""

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
