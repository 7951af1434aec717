"""ASGI entry point: HTTP through Django, websockets through Channels with origin and session checks."""

import os

from radgame.asgi_http import get_http_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "radgame.settings.local")
# Django must be set up before anything imports models (the consumers do).
django_http_app = get_http_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from radgame.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_http_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
