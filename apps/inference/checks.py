"""Deploy checks of the job path (``manage.py check --deploy``; RELIABILITY R09).

A Redis broker must never evict: with any other ``maxmemory-policy``, a Redis that fills up drops
queued job messages (and the unacknowledged ones it would redeliver), and the jobs then wait for
the sweeper's lease before they are re-sent. The check reads the policy from the broker itself
(``CONFIG GET maxmemory-policy``). Managed Redis services often disable ``CONFIG``; there the
check cannot read the policy and says so as a warning, and the deployer checks the provider's
setting by hand.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

REDIS_SCHEMES = ("redis", "rediss")
POLICY = "noeviction"
TIMEOUT_S = 2.0
HINT = "Start the broker's Redis with --maxmemory-policy noeviction (docs/deploy.md)."


def _where(url: str) -> str:
    """The broker's address without its credentials, for the message."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"


def broker_policy(url: str) -> str:
    """The broker's ``maxmemory-policy`` (raises redis errors as they come)."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
    try:
        reply = client.config_get("maxmemory-policy")
    finally:
        client.close()
    if "maxmemory-policy" not in reply:  # a renamed or filtered CONFIG answers an empty list
        raise redis.ResponseError("CONFIG GET maxmemory-policy returned nothing")
    return str(reply["maxmemory-policy"])


@checks.register(checks.Tags.caches, deploy=True)
def broker_never_evicts(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    import redis

    url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    if urlsplit(url).scheme not in REDIS_SCHEMES:
        return []  # RabbitMQ keeps what it accepts; the in-memory broker is for one process
    where = _where(url)
    try:
        policy = broker_policy(url)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        return [
            checks.Warning(
                f"Could not reach the broker at {where} to read its maxmemory-policy: {exc}",
                hint="Run the check again once the broker is up. " + HINT,
                id="inference.W002",
            )
        ]
    except redis.ResponseError as exc:  # CONFIG disabled, renamed or refused (ACL)
        return [
            checks.Warning(
                f"The broker at {where} does not allow CONFIG GET maxmemory-policy ({exc}); its "
                "eviction policy could not be checked.",
                hint="On a managed Redis, set the eviction policy to noeviction in the "
                "provider's settings (a policy that evicts drops queued jobs).",
                id="inference.W001",
            )
        ]
    if policy != POLICY:
        return [
            checks.Error(
                f"The broker at {where} has maxmemory-policy {policy!r}: a full Redis evicts "
                "queued job messages.",
                hint=HINT,
                id="inference.E001",
            )
        ]
    return []
