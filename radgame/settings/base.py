"""Base settings, driven by the environment.

With no environment variables set this is the embedded default: SQLite, an in-memory channel layer and
jobs executed in-process. ``DATABASE_URL`` switches to Postgres; ``REDIS_URL`` switches the channel
layer, the cache and the Celery broker to Redis and sends jobs to workers.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_float, env_int, env_list, env_networks, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("RADGAME_VAR_DIR", str(BASE_DIR / "var")))

# ---------------------------------------------------------------- core
DEBUG = False
# A development-only key; the production overlay refuses to start without SECRET_KEY.
SECRET_KEY = env_secret(
    "SECRET_KEY", default="dev-only-insecure-key-never-use-in-production-0123456789"
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "channels",
    "axes",
    "csp",
    "apps.core",
    "apps.accounts",
    "apps.cohorts",
    "apps.cases",
    "apps.inference",
    "apps.progress",
    "apps.exercises",
    "apps.localization",
    "apps.reporting",
    "apps.game",
    "apps.analytics",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything reads the body: an oversized one is a 413 with a message (JSON for the API).
    "apps.core.middleware.BodySizeLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.sessions.SessionMaxAgeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes must come last so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "radgame.urls"
WSGI_APPLICATION = "radgame.wsgi.application"
ASGI_APPLICATION = "radgame.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.site",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# ---------------------------------------------------------------- data
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        # Under ASGI each request runs in its own thread: persistent per-thread connections pile
        # up until Postgres refuses more. Close them per request, or pool them (DB_POOL).
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_POOL", False):
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured(
            "DB_POOL needs DB_CONN_MAX_AGE=0: the pool keeps the connections"
        )
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN", 2, minimum=0),
        "max_size": env_int("DB_POOL_MAX", 20, minimum=1),
        "timeout": env_float("DB_POOL_TIMEOUT", 10.0),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves ASGI requests and in-process jobs from one file: WAL lets reads
    # run beside a write, IMMEDIATE transactions queue writers instead of failing with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # The attempt indexes' INCLUDE columns make them covering on Postgres; SQLite builds the same
    # index without them (slower reads, same answers), so its warning on every command is noise.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Requests that run Django code at once in one web process (radgame.asgi_http: each runs on one
# pooled thread); more wait in the event loop. Python runs one thread at a time per process, so
# more threads than it takes to overlap database waits only contend for the lock: the submit bench
# (bench/localize.py --section load, 2 processes) answered 91 a second at 50 connections with 4
# threads and 53 with 20, at 14 and 24 ms of server CPU per submit. Never more than the database
# pool's size, so a request that has a thread never waits for a connection.
_db_pool = DATABASES["default"].get("OPTIONS", {}).get("pool")
WEB_THREADS = env_int(
    "WEB_THREADS", min(4, _db_pool["max_size"]) if isinstance(_db_pool, dict) else 4, minimum=1
)

# Seconds the web server gives requests in flight after SIGTERM before it closes what is open
# (radgame.serve); docker-compose's stop_grace_period for web stays above it.
WEB_SHUTDOWN_TIMEOUT_S = env_int("WEB_SHUTDOWN_TIMEOUT_S", 20, minimum=1)

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's backend with one client per pool (apps.core.cache says why).
            "BACKEND": "apps.core.cache.RedisCache",
            "LOCATION": env_str("CACHE_URL", REDIS_URL),
            # redis-py waits for ever by default: a Redis that stops answering held every request
            # thread (sessions are read on each) until it came back, /healthz/ included. Bounded,
            # such a request fails in seconds and the threads serve again when Redis does.
            "OPTIONS": {
                "socket_connect_timeout": env_float("CACHE_CONNECT_TIMEOUT_S", 1.0),
                "socket_timeout": env_float("CACHE_TIMEOUT_S", 2.0),
            },
        }
    }
    # Every request reads its session: from Redis, not Postgres. The database stays the source of
    # truth (cached_db writes through and falls back to it on a miss).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": env_str("CHANNEL_LAYER_URL", REDIS_URL),
                        # redis-py's default read timeout (5 s) equals channels_redis's blocking
                        # pop (5 s): an idle socket's pop raced it and the consumer crashed with
                        # a TimeoutError. The read waits longer than the pop can block.
                        "socket_timeout": 30,
                        # redis-py refuses (not queues) a connection past the pool's size; 200
                        # sockets opening at once took more than its default 100 per process.
                        "max_connections": env_int(
                            "CHANNEL_LAYER_MAX_CONNECTIONS", 1000, minimum=10
                        ),
                    }
                ]
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# "inprocess": the dispatch function runs the job in this process after commit (embedded default).
# "celery": the job is published to the broker and a worker runs it.
RADGAME_JOBS = env_str("RADGAME_JOBS", "celery" if REDIS_URL else "inprocess")
if RADGAME_JOBS not in {"inprocess", "celery"}:
    raise ImproperlyConfigured(
        f"RADGAME_JOBS must be 'inprocess' or 'celery', got {RADGAME_JOBS!r}"
    )
# A job not finished this long after it was last sent is re-sent by the sweeper.
RADGAME_JOB_LEASE_SECONDS = env_int("RADGAME_JOB_LEASE_SECONDS", 360, minimum=5)
RADGAME_JOB_MAX_ATTEMPTS = env_int("RADGAME_JOB_MAX_ATTEMPTS", 3, minimum=1)

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Media is never served as static files: images go through views that check who may see them.
MEDIA_URL = "/media-not-served/"
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

# Uploads: FILE_UPLOAD_MAX_MEMORY_SIZE is only the spill-to-disk threshold; the real caps are
# enforced by the upload views (RADGAME_MAX_UPLOAD_BYTES) and by the reverse proxy.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("DATA_UPLOAD_MAX_NUMBER_FILES", 50, minimum=1)
RADGAME_MAX_UPLOAD_BYTES = env_int("RADGAME_MAX_UPLOAD_BYTES", 64 * 1024 * 1024, minimum=1024)
# Malware scanner for uploads and imports (apps/cases/services/scanning.py, docs/deploy.md):
# empty = not scanned; "module:function"; or a command such as "clamdscan --no-summary --stdout -".
RADGAME_UPLOAD_SCANNER = env_str("RADGAME_UPLOAD_SCANNER", "")
# The optional OCR flag for burned-in text (RELIABILITY S21, apps/cases/imaging/ocr.py): "auto"
# reads each new view with Debian's tesseract-ocr when it is installed, "on" requires it (a
# missing binary stops the start here), "off" never reads. A view with text waits for an
# educator's check of the whole image before publishing.
RADGAME_OCR = env_str("RADGAME_OCR", "auto")
if RADGAME_OCR not in {"auto", "on", "off"}:
    raise ImproperlyConfigured(f"RADGAME_OCR must be 'auto', 'on' or 'off', got {RADGAME_OCR!r}")
if RADGAME_OCR == "on" and shutil.which("tesseract") is None:
    raise ImproperlyConfigured(
        "RADGAME_OCR is 'on' but the tesseract binary is not on PATH: "
        "apt-get install tesseract-ocr, or set RADGAME_OCR=auto"
    )
RADGAME_OCR_TIMEOUT_S = env_float("RADGAME_OCR_TIMEOUT_S", 20.0)

# ---------------------------------------------------------------- auth
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
# However much it is used, a login lasts at most this long (apps/accounts/sessions.py).
RADGAME_SESSION_MAX_AGE = env_int("RADGAME_SESSION_MAX_AGE", 24 * 3600, minimum=60)
CSRF_COOKIE_HTTPONLY = True

# Lock by username AND address, with a cool-off: locking by address alone locks out a whole
# hospital behind one NAT, and a lock without cool-off needs an administrator to lift it.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_RESET_ON_SUCCESS = True
# Whose X-Forwarded-For to believe: the one setting for the ASGI server (radgame.serve passes it
# to uvicorn as forwarded_allow_ips) and for the address axes and the throttles see
# (apps.core.net.client_ip). Empty, the default, trusts no one: a client's own header is ignored.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
for _retired in ("NUM_PROXIES", "AXES_IPWARE_PROXY_COUNT"):
    if os.environ.get(_retired):
        raise ImproperlyConfigured(
            f"{_retired} is no longer read: list your reverse proxies' addresses in "
            "TRUSTED_PROXIES instead (docs/deploy.md)."
        )
AXES_CLIENT_IP_CALLABLE = "apps.core.net.client_ip"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "radgame@localhost")

# ---------------------------------------------------------------- security headers
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# ---------------------------------------------------------------- API
REST_FRAMEWORK = {
    # Session auth only: no Basic auth, which would be a second, unthrottled login path.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON through the one bounded loader (size and nesting), never a bare json.load.
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.api.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.api.AnonRateThrottle",
        "apps.core.api.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/minute"),
        "user": env_str("API_THROTTLE_USER", "2000/minute"),
    },
    # The client address comes from apps.core.net.client_ip (TRUSTED_PROXIES), never from DRF
    # reading X-Forwarded-For itself.
    "NUM_PROXIES": 0,
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "STRICT_JSON": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RadGame API",
    "DESCRIPTION": "Chest X-ray reading practice: cases, localize and report attempts, jobs, progress.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# ---------------------------------------------------------------- Celery (see docs/deploy.md)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env_float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", 30.0)
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECTION_TIMEOUT", 2.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish (in the request, after the commit) gives up within about (max_retries + 2) x the
# socket timeout (1.5 s measured against a black-holed broker; RELIABILITY R08): the job stays
# pending and the sweeper re-sends it. Without a socket timeout, a publish on a connection the
# broker stopped answering waits for ever (kombu's default).
CELERY_BROKER_SOCKET_TIMEOUT = env_float("CELERY_BROKER_SOCKET_TIMEOUT", 0.5)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 900, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "max_retries": 2,
    "socket_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
    "socket_connect_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10, minimum=1),
    "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10, minimum=1),
}
CELERY_TASK_DEFAULT_QUEUE = "web"
CELERY_BEAT_SCHEDULE = {
    "sweep-jobs": {
        "task": "radgame.inference.sweep",
        "schedule": env_int("RADGAME_SWEEP_SECONDS", 60, minimum=1),
        "options": {"queue": "web"},
    },
}

# ---------------------------------------------------------------- product
RADGAME_DEFAULT_IOU_THRESHOLD = env_float("RADGAME_DEFAULT_IOU_THRESHOLD", 0.3)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
