"""Django's Redis cache backend, with one Redis client per connection pool.

Django builds a ``redis.Redis`` for every cache call (each session read, each throttle read and
write); its constructor fills a few hundred response callbacks, which the submit profile
(bench/localize.py --section profile) showed costing about a millisecond of CPU per request. A
client holds nothing of its own beyond its connection pool and is safe to share between threads,
so one per pool does the same work.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class PooledRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient
