"""The broker's deploy check (RELIABILITY R09): ``manage.py check --deploy`` reads the broker's
``maxmemory-policy`` and fails unless it is ``noeviction``.

The machine's shared Redis is only read; a policy that evicts, and a Redis whose CONFIG is
disabled (as on managed services), are private ``redis-server`` processes on free ports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from django.core import checks
from django.core.checks.registry import registry

from apps.inference.checks import broker_never_evicts

from . import services_harness as harness


@contextmanager
def private_redis(tmp_path: Path, *options: str) -> Iterator[str]:
    port = harness.free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", *options]
    log = tmp_path / f"redis-{port}.log"
    with harness.running(args, {"PATH": os.environ["PATH"]}, log, "Ready to accept connections"):
        yield f"redis://127.0.0.1:{port}/0"


def _ids(settings: Any, url: str) -> list[str]:
    settings.CELERY_BROKER_URL = url
    return [message.id for message in broker_never_evicts()]


def test_it_is_a_deploy_check() -> None:
    assert broker_never_evicts in registry.get_checks(include_deployment_checks=True)
    assert broker_never_evicts not in registry.get_checks()


def test_the_shared_redis_is_read_and_judged_by_its_policy(settings: Any) -> None:
    url = harness.require_services()
    policy = redis.Redis.from_url(url).config_get("maxmemory-policy")["maxmemory-policy"]
    assert _ids(settings, url) == ([] if policy == "noeviction" else ["inference.E001"])


def test_a_broker_that_evicts_fails_the_check(settings: Any, tmp_path: Path) -> None:
    with private_redis(tmp_path, "--maxmemory-policy", "allkeys-lru") as url:
        settings.CELERY_BROKER_URL = url
        [error] = broker_never_evicts()
        assert error.level == checks.ERROR and error.id == "inference.E001"
        assert "'allkeys-lru'" in error.msg and "noeviction" in (error.hint or "")
        redis.Redis.from_url(url).config_set("maxmemory-policy", "noeviction")
        assert broker_never_evicts() == []


def test_a_broker_without_config_is_a_warning_not_a_crash(settings: Any, tmp_path: Path) -> None:
    with private_redis(tmp_path, "--rename-command", "CONFIG", "") as url:
        settings.CELERY_BROKER_URL = url
        [warning] = broker_never_evicts()
    assert warning.level == checks.WARNING and warning.id == "inference.W001"
    assert "managed Redis" in (warning.hint or "")


def test_an_unreachable_broker_is_a_warning(settings: Any) -> None:
    assert _ids(settings, f"redis://127.0.0.1:{harness.free_port()}/0") == ["inference.W002"]


def test_the_password_is_not_shown(settings: Any) -> None:
    settings.CELERY_BROKER_URL = f"redis://:s3cret@127.0.0.1:{harness.free_port()}/0"
    [warning] = broker_never_evicts()
    assert "s3cret" not in warning.msg


@pytest.mark.parametrize("url", ["memory://", "amqp://guest@127.0.0.1:5672//", ""])
def test_other_brokers_are_not_asked(settings: Any, url: str) -> None:
    assert _ids(settings, url) == []
