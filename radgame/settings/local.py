"""Local development and the embedded demo: DEBUG on, console email."""

from .base import *  # noqa: F403

DEBUG = True
