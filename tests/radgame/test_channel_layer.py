"""The deployed channel layer (Redis) keeps an idle websocket's receive alive and takes a burst of
sockets: the production settings, built in a subprocess, against the real Redis."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.inference.services_harness import require_services

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.services


def deployed_layer_config(redis_url: str) -> dict[str, Any]:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps(s.CHANNEL_LAYERS['default']))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "radgame.settings.base",
        "DATABASE_URL": "postgres://u@db:5432/radgame",
        "REDIS_URL": redis_url,
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_an_idle_receive_outlasts_the_blocking_pop_and_a_burst_of_sockets_fits() -> None:
    from channels_redis.core import RedisChannelLayer

    layer_config = deployed_layer_config(require_services())
    assert layer_config["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    layer = RedisChannelLayer(**layer_config["CONFIG"])
    host = layer_config["CONFIG"]["hosts"][0]
    # The read must wait longer than the layer's blocking pop, or an idle pop races it.
    assert host["socket_timeout"] > layer.brpop_timeout

    async def scenario() -> tuple[dict[str, Any], int]:
        channel = await layer.new_channel()
        # 300 sockets joining at once (200 is RELIABILITY's idle load), each a group_add.
        names = [await layer.new_channel() for _ in range(300)]
        await asyncio.gather(*(layer.group_add(f"burst-{n % 7}", c) for n, c in enumerate(names)))

        async def later() -> None:
            await asyncio.sleep(layer.brpop_timeout + 1.5)
            await layer.send(channel, {"type": "job.update", "n": 1})

        sender = asyncio.create_task(later())
        message = await asyncio.wait_for(layer.receive(channel), layer.brpop_timeout + 10)
        await sender
        await layer.flush()
        return message, 300

    message, joined = asyncio.run(scenario())
    assert message == {"type": "job.update", "n": 1}
    assert joined == 300
