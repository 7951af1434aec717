"""The client's address, believing X-Forwarded-For only from the proxies in TRUSTED_PROXIES.

Under ``radgame.serve`` uvicorn has already replaced a trusted proxy's address by the client's, so
REMOTE_ADDR is usually the answer. This also resolves the header itself (the same rule: the
right-most address that is not a trusted proxy) so the lockout holds under any server, and so it
holds when uvicorn was started without proxy headers. A client that is not a trusted proxy cannot
choose its address by sending the header: rotating it no longer defeats the login lockout.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _is_trusted(address: str | None, networks: tuple[Network, ...]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: Any) -> str | None:
    """AXES_CLIENT_IP_CALLABLE and the API throttles' notion of who is asking."""
    remote = request.META.get("REMOTE_ADDR") or None
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _is_trusted(remote, networks):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop
    return hops[0] if hops else remote
