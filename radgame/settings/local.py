"""Local development and the embedded demo: DEBUG on, console email, this machine only.

DEBUG pages show settings, code and data to whoever triggers an error, so this overlay refuses a
host others could reach: ALLOWED_HOSTS here must be loopback, and ``python -m radgame.serve``
refuses to bind a non-loopback address while DEBUG is on.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS
from .env import is_loopback_host

DEBUG = True
_public = [host for host in ALLOWED_HOSTS if not is_loopback_host(host)]
if _public:
    raise ImproperlyConfigured(
        f"DEBUG is on in radgame.settings.local, which serves this machine only, but "
        f"ALLOWED_HOSTS names {', '.join(_public)}. For a server others reach, use "
        "DJANGO_SETTINGS_MODULE=radgame.settings.production (docs/deploy.md)."
    )
