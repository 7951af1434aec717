"""radgame.serve: the server's shutdown is bounded by the one setting."""

from __future__ import annotations

from typing import Any

from radgame.serve import server_options


def test_graceful_shutdown_is_bounded_by_the_setting(settings: Any) -> None:
    settings.WEB_SHUTDOWN_TIMEOUT_S = 7
    options = server_options(host="127.0.0.1", port=8000, workers=2)
    assert options["timeout_graceful_shutdown"] == 7
