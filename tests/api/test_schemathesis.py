"""Property-based API fuzzing from the OpenAPI schema, once per role (schemathesis).

Every operation of /api/v1 gets generated requests (valid and invalid bodies, odd ids and
parameters) as each persona, through the real WSGI application with that persona's session and
CSRF token. Whatever it sends: no 5xx, and every response matches what the schema declares.
A short run per commit; ``make soak`` runs the long one (marked slow).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.django_db

SHORT_RUN, LONG_RUN = 8, 200  # examples per operation: per commit, and in `make soak`
ROLES = ("resident", "educator", "admin")


def _schema() -> Any:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from radgame.wsgi import application

    raw = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(raw)))
    loaded.app = application
    return loaded


@pytest.fixture
def keep_test_connection() -> Any:
    """The WSGI handler closes the database connection after each request; inside a test that
    connection holds the test's transaction (Django's own test client disconnects the same)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _session(user: Any) -> tuple[dict[str, str], dict[str, str]]:
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    token = _get_new_csrf_string()
    session = client.cookies["sessionid"].value
    return {"X-CSRFToken": token}, {"sessionid": session, "csrftoken": token}


@pytest.mark.parametrize("role", ROLES)
def test_no_server_errors_and_responses_match_the_schema(
    role: str, personas: dict[str, Any], keep_test_connection: None
) -> None:
    _fuzz(personas[role], SHORT_RUN)


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_long_run(role: str, personas: dict[str, Any], keep_test_connection: None) -> None:
    _fuzz(personas[role], LONG_RUN)


def test_a_planted_server_error_is_caught(
    resident: Any, keep_test_connection: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.accounts import api

    def broken(self: Any, request: Any) -> Any:
        raise RuntimeError("planted")

    monkeypatch.setattr(api.MeApi, "get", broken)
    with pytest.raises(AssertionError, match="GET /api/v1/accounts/me/"):
        _fuzz(resident, 2, only="/accounts/me/")


def _fuzz(user: Any, examples: int, only: str = "") -> None:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    schema = _schema()
    headers, cookies = _session(user)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    operations = [op for op in operations if only in op.label]
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(headers=headers, cookies=cookies)
            case.validate_response(
                response, checks=(not_a_server_error, response_schema_conformance)
            )

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation, not only the first
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
