"""docker-compose.yml is for deployers and no Docker engine runs here: validate it instead."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
# Variables the containers themselves consume rather than our code (REMAP_SIGTERM: Celery's
# process library, billiard, reads it at import).
IMAGE_VARIABLES = {
    "POSTGRES_DB",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "HF_HUB_OFFLINE",
    "REMAP_SIGTERM",
}


def variables_read_by_the_code() -> set[str]:
    names: set[str] = set()
    pattern = re.compile(
        r"(?:env_(?:str|bool|int|float|list|secret|networks)|environ\.get|getenv|environ\.setdefault"
        r"|env\.(?:choice|path|text|number|integer|boolean))\(\s*\"([A-Z][A-Z0-9_]+)\""
    )
    for folder in ("radgame", "ml"):
        for path in (ROOT / folder).rglob("*.py"):
            names.update(pattern.findall(path.read_text()))
    return names


CODE_VARIABLES = variables_read_by_the_code()


def test_the_expected_services_exist() -> None:
    assert {"postgres", "redis", "web", "worker", "scoring-worker", "beat", "gpu-worker"} <= set(
        SERVICES
    )


@pytest.mark.parametrize("name", ["postgres", "redis", "web"])
def test_infrastructure_has_healthchecks(name: str) -> None:
    check = SERVICES[name]["healthcheck"]
    assert check["test"] and check["retries"] >= 3


def test_dependency_order_waits_for_health() -> None:
    web = SERVICES["web"]["depends_on"]
    assert web["postgres"]["condition"] == "service_healthy"
    assert web["redis"]["condition"] == "service_healthy"
    for name in ("worker", "beat"):
        assert SERVICES[name]["depends_on"]["web"]["condition"] == "service_healthy"
    for name in ("scoring-worker", "gpu-worker"):
        assert SERVICES[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_broker_never_evicts() -> None:
    assert "noeviction" in SERVICES["redis"]["command"]
    # and web refuses to start when it does (apps/inference/checks.py reads the broker's policy)
    command = SERVICES["web"]["command"]
    assert command.index("manage.py check --deploy &&") < command.index("radgame.serve")


def test_gpu_worker_is_isolated_from_the_database() -> None:
    gpu = SERVICES["gpu-worker"]
    env = gpu["environment"]
    assert not {"DATABASE_URL", "SECRET_KEY", "POSTGRES_PASSWORD"} & set(env)
    assert all(volume.endswith(":ro") for volume in gpu["volumes"])
    device = gpu["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert "-Q" in gpu["command"] and gpu["command"][gpu["command"].index("-Q") + 1] == "gpu"


def test_gpu_worker_runs_one_process_whose_threads_can_fill_a_batch() -> None:
    gpu = SERVICES["gpu-worker"]
    command = gpu["command"]
    assert command[command.index("--pool") + 1] == "threads"
    threads = int(command[command.index("--concurrency") + 1])
    for variable in ("RADGAME_EXPLAIN_BATCH_SIZE", "RADGAME_JUDGE_BATCH_SIZE"):
        default = int(re.fullmatch(r"\$\{\w+:-(\d+)\}", gpu["environment"][variable])[1])
        assert 1 <= default <= threads, variable


def test_scoring_worker_needs_no_database_either() -> None:
    env = SERVICES["scoring-worker"]["environment"]
    assert "DATABASE_URL" not in env and "SECRET_KEY" not in env


def test_every_variable_compose_sets_is_read_by_the_code() -> None:
    unknown: dict[str, set[str]] = {}
    for name, service in SERVICES.items():
        env = service.get("environment") or {}
        keys = set(env) - IMAGE_VARIABLES
        missing = keys - CODE_VARIABLES
        if missing:
            unknown[name] = missing
    assert not unknown, f"compose sets variables nothing reads: {unknown}"


def test_env_example_lists_only_variables_the_code_reads() -> None:
    keys = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert not (keys - CODE_VARIABLES - IMAGE_VARIABLES)


def test_dockerfile_has_both_targets() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "AS web" in text and "AS gpu" in text
    assert "torch==2.13.0" in text


def seconds(value: str) -> int:
    return int(re.fullmatch(r"(\d+)s", value)[1])


def test_workers_are_stopped_without_losing_a_running_job() -> None:
    """R17 (tests/inference/test_worker_shutdown.py): a deploy's SIGTERM must not turn into a
    SIGKILL before the worker has finished or requeued what it runs."""
    scoring = SERVICES["scoring-worker"]
    assert scoring["environment"]["REMAP_SIGTERM"] == "SIGQUIT"
    assert seconds(scoring["stop_grace_period"]) > 30  # the soft shutdown timeout, then requeue
    for name in ("worker", "gpu-worker"):  # warm shutdown: up to the task time limit
        assert "REMAP_SIGTERM" not in (SERVICES[name].get("environment") or {})
        assert seconds(SERVICES[name]["stop_grace_period"]) > 300, name


def test_web_gets_docker_sigterm_and_exits_within_its_grace_period() -> None:
    """sh -c without exec keeps the signal from the server (sh as PID 1 ignores it) and docker
    kills it at the end of the grace period; the server's own shutdown bound stays inside it."""
    from radgame.settings.env import env_int

    web = SERVICES["web"]
    assert "exec python -m radgame.serve" in web["command"]
    grace = web["stop_grace_period"]
    assert grace.endswith("s")
    assert int(grace[:-1]) > env_int("WEB_SHUTDOWN_TIMEOUT_S", 20)
