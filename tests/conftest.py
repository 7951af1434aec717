"""Shared fixtures. Django fixtures import Django lazily so ``pytest tests/ml -p no:django`` works."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("nightly", max_examples=10_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    from apps.accounts.services import user_create

    def make(username: str, role: str = "resident", **extra: Any) -> Any:
        return user_create(username=username, password=PASSWORD, role=role, **extra)

    return make


@pytest.fixture
def educator(make_user: Callable[..., Any]) -> Any:
    return make_user("educator", "educator")


@pytest.fixture
def other_educator(make_user: Callable[..., Any]) -> Any:
    return make_user("other_educator", "educator")


@pytest.fixture
def admin_user(make_user: Callable[..., Any]) -> Any:
    return make_user("admin", "admin")


@pytest.fixture
def cohort(educator: Any) -> Any:
    from apps.cohorts.services import cohort_create

    return cohort_create(actor=educator, name="Residents 2026")


@pytest.fixture
def other_cohort(other_educator: Any) -> Any:
    from apps.cohorts.services import cohort_create

    return cohort_create(actor=other_educator, name="Other programme")


@pytest.fixture
def resident(make_user: Callable[..., Any], cohort: Any) -> Any:
    from apps.cohorts.services import cohort_join_by_code

    user = make_user("resident")
    cohort_join_by_code(user=user, code=cohort.join_code)
    return user


@pytest.fixture
def other_resident(make_user: Callable[..., Any], other_cohort: Any) -> Any:
    from apps.cohorts.services import cohort_join_by_code

    user = make_user("other_resident")
    cohort_join_by_code(user=user, code=other_cohort.join_code)
    return user


@pytest.fixture
def outsider(make_user: Callable[..., Any]) -> Any:
    """A resident in no cohort."""
    return make_user("outsider")


@pytest.fixture
def personas(
    resident: Any,
    other_resident: Any,
    educator: Any,
    other_educator: Any,
    admin_user: Any,
    outsider: Any,
) -> dict[str, Any]:
    return {
        "resident": resident,
        "other_resident": other_resident,
        "educator": educator,
        "other_educator": other_educator,
        "admin": admin_user,
        "outsider": outsider,
    }


@pytest.fixture
def client_for(db: Any) -> Callable[[Any], Any]:
    from django.test import Client

    def make(user: Any | None) -> Any:
        client = Client()
        if user is not None:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make
