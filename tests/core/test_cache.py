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
