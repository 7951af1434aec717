"""An absolute maximum on a login session (RELIABILITY S14).

``SESSION_COOKIE_AGE`` ends a session that is not used; a session in daily use would otherwise
live for ever. The time of the login is kept in the session, and a request past
``RADGAME_SESSION_MAX_AGE`` seconds after it is logged out (the session flushed) and goes on as
anonymous, so the page asks for a login.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

LOGIN_AT = "radgame_login_at"


def record_login_time(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """user_logged_in receiver."""
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT] = int(time.time())


def session_expired(session: Any) -> bool:
    """Past the absolute maximum (a session without a login time is not: see the middleware)."""
    login_at = session.get(LOGIN_AT) if session is not None else None
    return login_at is not None and time.time() - login_at > settings.RADGAME_SESSION_MAX_AGE


class SessionMaxAgeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if LOGIN_AT not in request.session:  # a session from before this rule: clock starts now
                request.session[LOGIN_AT] = int(time.time())
            elif session_expired(request.session):
                logout(request)
        return self.get_response(request)
