"""Settings: the production overlay passes Django's deploy checks and refuses to start without secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k3y-" + "x7Q!pZ2@vR9#mL4$" * 4


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SECRET_KEY", "ALLOWED_HOSTS"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_passes_check_deploy_with_no_warnings() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="radgame.settings.production",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="radgame.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALLOWED_HOSTS": "radgame.example.org"}, "SECRET_KEY (or SECRET_KEY_FILE) must be set"),
        ({"SECRET_KEY": GOOD_KEY}, "ALLOWED_HOSTS must list"),
        ({"SECRET_KEY": "short", "ALLOWED_HOSTS": "a.org"}, "at least 50 characters"),
    ],
)
def test_production_refuses_to_start_without_secrets(env: dict[str, str], message: str) -> None:
    result = manage("check", DJANGO_SETTINGS_MODULE="radgame.settings.production", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(GOOD_KEY + "\n")
    result = manage(
        "check",
        DJANGO_SETTINGS_MODULE="radgame.settings.production",
        SECRET_KEY_FILE=str(secret),
        ALLOWED_HOSTS="a.org",
    )
    assert result.returncode == 0, result.stderr


def test_bad_values_stop_start_up_with_the_variable_named() -> None:
    result = manage(
        "check", DJANGO_SETTINGS_MODULE="radgame.settings.local", AXES_FAILURE_LIMIT="many"
    )
    assert result.returncode != 0
    assert "AXES_FAILURE_LIMIT must be an integer" in result.stderr
    result = manage(
        "check", DJANGO_SETTINGS_MODULE="radgame.settings.local", RADGAME_JOBS="sometimes"
    )
    assert "RADGAME_JOBS must be" in result.stderr


def test_embedded_default_needs_no_environment() -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='radgame.settings.local'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'], s.RADGAME_JOBS, s.DEBUG)"
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "inprocess",
        "True",
    ]


def test_service_urls_switch_to_the_distributed_deployment() -> None:
    code = (
        "import django, os; django.setup();"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'], s.RADGAME_JOBS,"
        " s.CELERY_BROKER_URL, s.DEBUG)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "radgame.settings.base",
        "DATABASE_URL": "postgres://u@db:5432/radgame",
        "REDIS_URL": "redis://cache:6379/0",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [
        "django.db.backends.postgresql",
        "channels_redis.core.RedisChannelLayer",
        "celery",
        "redis://cache:6379/0",
        "False",
    ]


def test_postgres_connections_are_pooled_on_request() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.DATABASES['default']['CONN_MAX_AGE'], s.DATABASES['default']['OPTIONS'].get('pool'))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "radgame.settings.base",
        "DATABASE_URL": "postgres://u@db:5432/radgame",
        "DB_POOL": "true",
        "DB_POOL_MAX": "7",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("0 {") and "'max_size': 7" in out
    env["DB_CONN_MAX_AGE"] = "60"
    failed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert failed.returncode != 0 and "DB_POOL needs DB_CONN_MAX_AGE=0" in failed.stderr


def test_web_threads_are_few_and_within_the_database_pool() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; print(s.WEB_THREADS)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "radgame.settings.base",
        "DATABASE_URL": "postgres://u@db:5432/radgame",
        "DB_POOL": "true",
        "DB_POOL_MAX": "7",
    }

    def web_threads(**extra: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={**env, **extra},
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip

    assert web_threads() == "4"
    assert web_threads(DB_POOL_MAX="2") == "2"  # never more threads than pooled connections
    assert web_threads(WEB_THREADS="12") == "12"
    assert web_threads(DB_POOL="false") == "4"


def test_ocr_on_without_tesseract_stops_start_up(tmp_path: Path) -> None:
    """RADGAME_OCR=on is a promise that every image is read: without the binary the site must not
    start (auto and off start, and say in the editor that OCR did not run)."""
    no_tesseract = f"{tmp_path}:/usr/bin/does-not-exist"  # PATH without tesseract
    result = manage(
        "check",
        DJANGO_SETTINGS_MODULE="radgame.settings.local",
        RADGAME_OCR="on",
        PATH=no_tesseract,
    )
    assert result.returncode != 0
    assert "RADGAME_OCR is 'on' but the tesseract binary is not on PATH" in result.stderr
    for mode in ("auto", "off"):
        result = manage(
            "check",
            DJANGO_SETTINGS_MODULE="radgame.settings.local",
            RADGAME_OCR=mode,
            PATH=no_tesseract,
        )
        assert result.returncode == 0, result.stderr[-500:]
    result = manage("check", DJANGO_SETTINGS_MODULE="radgame.settings.local", RADGAME_OCR="always")
    assert "RADGAME_OCR must be 'auto', 'on' or 'off'" in result.stderr
