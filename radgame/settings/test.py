"""Test overlay: fast hashing, in-process jobs unless a test starts real workers."""

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
RADGAME_JOBS = "inprocess"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "1000/minute", "user": "100000/minute"},
}
# Off unless a test turns it on (tests/cases/test_ocr_flag.py, which needs tesseract-ocr; .ci/run
# installs it): hundreds of tests store an image and would each pay a tesseract run.
RADGAME_OCR = "off"
