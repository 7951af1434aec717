"""apps.core.cache: Django's Redis cache, one client per connection pool."""

from __future__ import annotations

import os
import threading

import pytest

from apps.core.cache import RedisCache

URL = os.environ.get("REDIS_URL", "")


def _redis_or_skip() -> None:
    if not URL:
        pytest.skip("REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {URL}")


def test_one_client_serves_every_call_and_the_cache_still_works() -> None:
    _redis_or_skip()
    cache = RedisCache(URL, {"KEY_PREFIX": "test-core-cache"})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client() is client
    cache.set("k", {"n": 1}, 30)
    assert cache.get("k") == {"n": 1}
    assert cache.add("counter", 0, 30) and cache.incr("counter", 2) == 2
    results: list[object] = []

    def read() -> None:  # shared between threads, as its connection pool is
        results.append(cache.get("k"))

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [{"n": 1}] * 4
    cache.delete_many(["k", "counter"])
    assert cache.get("k") is None


def test_a_redis_that_stops_answering_costs_a_call_its_timeout_not_the_thread(tmp_path) -> None:
    """A cache Redis that accepts and never answers (black-holed) fails each call within the
    settings' timeout, so a request thread is back in seconds, and the cache works again as soon
    as Redis does; redis-py's default waits for ever."""
    import time

    import redis

    from tests.inference import services_harness as harness

    options = _deployed_cache_options()
    assert options["socket_timeout"] and options["socket_connect_timeout"]
    with harness.proxied_redis(tmp_path) as proxy:
        cache = RedisCache(f"redis://127.0.0.1:{proxy.port}/0", {"OPTIONS": options})
        cache.set("k", "v")
        proxy.set("blackhole")
        started = time.monotonic()
        with pytest.raises(redis.RedisError):
            cache.get("k")
        took = time.monotonic() - started
        proxy.set("pass")
        cache._cache.get_client().connection_pool.disconnect()  # the black-holed socket
        assert cache.get("k") == "v"
    assert took <= options["socket_timeout"] + 0.5


def _deployed_cache_options() -> dict:
    """The cache's OPTIONS as the distributed deployment's settings build them (REDIS_URL set);
    the test settings use a local-memory cache."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps(s.CACHES['default']['OPTIONS']))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "radgame.settings.base",
        "REDIS_URL": "redis://cache:6379/0",
    }
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
