"""apps.core.views.server_error (handler500): a database that is away is a 503 with Retry-After,
JSON under /api/ and a plain page elsewhere; any other unhandled error stays a 500. Django's test
client re-raises a view's exception by default, so these clients answer as the server would."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

pytestmark = pytest.mark.django_db


def _failing(monkeypatch: Any, target: str, error: Exception) -> None:
    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(target, fail)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection"),
        InterfaceError("closed"),
        RedisConnectionError("Error 111 connecting to cache:6379"),  # the sessions' Redis
        RedisTimeoutError("Timeout reading from cache:6379"),
    ],
)
def test_an_api_request_without_its_database_is_a_503_to_retry(
    monkeypatch: Any, resident: Any, error: Exception
) -> None:
    _failing(monkeypatch, "apps.localization.api.case_sets_playable_by", error)
    client = Client(raise_request_exception=False)
    client.force_login(resident)
    response = client.get(reverse("api-localize-sets"))
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert "database" in response.json()["detail"] and "try again" in response.json()["detail"]
    assert str(error) not in response.content.decode()  # never the error's own words


def test_a_page_without_its_database_is_a_503_page(monkeypatch: Any) -> None:
    _failing(monkeypatch, "apps.core.views.connection.cursor", OperationalError("gone"))
    response = Client(raise_request_exception=False).get(reverse("healthz"))
    body = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert "<h1>Try again in a moment</h1>" in body and "gone" not in body


def test_any_other_error_stays_a_500_without_retry_after(monkeypatch: Any, resident: Any) -> None:
    _failing(monkeypatch, "apps.localization.api.case_sets_playable_by", ValueError("a bug"))
    client = Client(raise_request_exception=False)
    client.force_login(resident)
    response = client.get(reverse("api-localize-sets"))
    assert response.status_code == 500 and "Retry-After" not in response
    assert "went wrong" in response.json()["detail"] and "a bug" not in response.content.decode()
