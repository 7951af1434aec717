"""Start the ASGI server (uvicorn) the one way the project runs it: ``python -m radgame.serve``.

It refuses to serve with DEBUG on (the demo's settings) on an address other machines can reach.

``make demo``, the Docker image and docker-compose all start the web process through here, so the
server trusts X-Forwarded-For from exactly the proxies in the ``TRUSTED_PROXIES`` setting, the
same list the login lockout uses (``apps.core.net.client_ip``). uvicorn's own default trusts
loopback, which lets anything on the same host (or any client, when nothing sits in front)
choose the address it is locked out by; here an empty list turns proxy headers off.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

APP = "radgame.asgi:application"


def server_options(*, host: str, port: int, workers: int) -> dict[str, Any]:
    """uvicorn's keyword arguments, with proxy trust taken from the Django settings."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from radgame.settings.env import is_loopback_host

    if settings.DEBUG and not is_loopback_host(host):
        raise ImproperlyConfigured(
            f"DEBUG is on ({os.environ.get('DJANGO_SETTINGS_MODULE', 'the settings')}) and --host {host} can be "
            "reached from other machines: DEBUG pages show settings, code and data to anyone. "
            "Serve the demo on 127.0.0.1 (the default), or run a shared server with "
            "DJANGO_SETTINGS_MODULE=radgame.settings.production (docs/deploy.md)."
        )
    trusted = list(settings.TRUSTED_PROXIES)
    return {
        "host": host,
        "port": port,
        "workers": workers,
        "proxy_headers": bool(trusted),
        # Always explicit: uvicorn would otherwise fall back to FORWARDED_ALLOW_IPS or loopback.
        "forwarded_allow_ips": trusted,
        # On SIGTERM, requests in flight get this long; then open connections (websockets
        # included) are closed and the process exits. Unbounded, a deploy waited on sockets.
        "timeout_graceful_shutdown": settings.WEB_SHUTDOWN_TIMEOUT_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m radgame.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "radgame.settings.local")
    from django.core.exceptions import ImproperlyConfigured

    try:
        options = server_options(host=args.host, port=args.port, workers=args.workers)
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"radgame.serve: {exc}\n")
        return 2
    import uvicorn

    uvicorn.run(APP, log_level=args.log_level, access_log=not args.no_access_log, **options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
