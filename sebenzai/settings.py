"""Django settings, all read from the environment with defaults that run on a bare machine.

Unset DATABASE_URL means a SQLite file; unset REDIS_URL means Celery runs tasks in-process.
"""

import dj_database_url
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured

from . import jobs
from .env import BASE_DIR, env_bool, env_float, env_int, env_list, env_str
from .object_store_settings import object_store_settings

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-" + "x" * 50  # noqa: S105 - only ever used with DEBUG on
elif not DEBUG and (
    len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
    or SECRET_KEY.startswith(("django-insecure-", "dev-only-", "change-me"))
):
    # Django's own deploy check (security.W009) only warns; a guessable key signs sessions.
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak: use 50 or more random characters (not a default)."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "sebenzai.common",
    "accounts",
    "annotations",
    "consensus",
    "workers",
    "predictions",
    "exports",
    "frontend",
    "devtools",  # the demo and the crowd simulator: development tools, imported by nothing else
]

MIDDLEWARE = [
    # First: every response (a redirect, a refusal) gets an id and is timed.
    "sebenzai.observability.middleware.RequestIdMiddleware",
    "sebenzai.metrics.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sebenzai.common.middleware.ContentSecurityPolicyMiddleware",
    "sebenzai.common.middleware.ApiJsonErrorsMiddleware",
    "sebenzai.common.middleware.ApiBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware (Django's documented order): the language comes
    # from the language cookie set by the switch, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sebenzai.urls"
WSGI_APPLICATION = "sebenzai.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.worker.i18n.js_catalog_context",  # the JS messages' catalog
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    # The embedded default: a SQLite file under var/, made here so that any first command
    # (migrate, runserver, a test) finds its folder.
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'sebenzai.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A stuck lock or query becomes a fast, retryable error rather than a hung request.
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": 5,
        "options": "-c statement_timeout=30000 -c lock_timeout=5000",
    }
else:
    # SQLite, the embedded default, with a handful of people labelling at once: WAL lets readers
    # run beside the one writer, and IMMEDIATE transactions take the write lock when they begin,
    # so a transaction that reads then writes waits its turn (busy timeout) instead of failing
    # at once with "database is locked" as a deferred one does when another writer got there first.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# --- Auth and sessions ------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
SESSION_COOKIE_AGE = 14 * 24 * 3600
SESSION_SAVE_EVERY_REQUEST = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
# Load balancers probe over plain HTTP inside the network: a redirect would read as a failure.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
# Cookies are Secure whenever DEBUG is off, so production is HTTPS already: tell browsers so
# (one year). Browsers ignore the header on plain HTTP; set 0 to turn it off.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
# Behind the buffering proxy (deploy/nginx), which terminates or forwards HTTPS: trust its
# X-Forwarded-Proto, and only then (a client could send the header itself).
if env_bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Files and limits -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static"))
STORAGES = {
    "default": object_store_settings(),  # the local disk (MEDIA_ROOT), or S3 when S3_BUCKET is set
    # Hashed names (ES module imports rewritten too), .gz and .br: sebenzai/storage.py. Built by
    # collectstatic (the Dockerfile runs it). With DEBUG on nothing needs building: the storage
    # gives plain names then, and whitenoise finds files in the apps and re-reads them on change.
    "staticfiles": {"BACKEND": "sebenzai.storage.StaticStorage"},
}
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"  # never served directly: images go through an authorising view
# With an object store, a permitted image or export download is a redirect to a short-lived
# presigned URL (the bytes go from the store to the client); "stream" sends them through this
# process instead, for a store the clients cannot reach.
MEDIA_DELIVERY = env_str("MEDIA_DELIVERY", "redirect")
if MEDIA_DELIVERY not in {"redirect", "stream"}:
    raise ImproperlyConfigured(
        f"MEDIA_DELIVERY must be redirect or stream, not {MEDIA_DELIVERY!r}."
    )
# Export zips; unset means "<MEDIA_ROOT>/exports", on the volume the web and worker share.
EXPORT_ROOT = env_str("EXPORT_ROOT")
# Lets webhooks reach loopback/private addresses: for tests and closed networks only.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", default=False)
DATA_UPLOAD_MAX_MEMORY_SIZE = 1_048_576  # JSON bodies; files are bounded by the intake service
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("UPLOAD_MAX_FILES", 50)
FILE_UPLOAD_PERMISSIONS = 0o640

SEBENZAI = {
    "IMAGE_MAX_BYTES": env_int("IMAGE_MAX_BYTES", 20 * 1024 * 1024),
    "IMAGE_MAX_PIXELS": env_int("IMAGE_MAX_PIXELS", 40_000_000),
    "ARCHIVE_MAX_BYTES": env_int("ARCHIVE_MAX_BYTES", 2 * 1024**3),
    "ARCHIVE_MAX_ENTRIES": env_int("ARCHIVE_MAX_ENTRIES", 20_000),
    "ARCHIVE_MAX_RATIO": 100,
    "PROJECT_MAX_TASKS": env_int("PROJECT_MAX_TASKS", 1_000_000),  # a storage quota per project
    "REQUESTER_MAX_TASKS": env_int("REQUESTER_MAX_TASKS", 5_000_000),  # and per requester
    # Video uploads (annotations/video.py): bytes and duration per file, the video's own frame
    # rate, and frames (tasks) sampled from one video; a frame's pixels are IMAGE_MAX_PIXELS.
    "VIDEO_MAX_BYTES": env_int("VIDEO_MAX_BYTES", 2 * 1024**3),
    "VIDEO_MAX_SECONDS": env_int("VIDEO_MAX_SECONDS", 4 * 3600),
    "VIDEO_MAX_FPS": env_int("VIDEO_MAX_FPS", 240),
    "VIDEO_MAX_FRAMES": env_int("VIDEO_MAX_FRAMES", 20_000),
    "LEASE_SECONDS": env_int("LEASE_SECONDS", 600),
    # The labelling page holds the next task while the worker labels one (a second lease), but
    # only while at least this many tasks are open to the worker: not the last slots of a project.
    "PREFETCH_MIN_OPEN_TASKS": env_int("PREFETCH_MIN_OPEN_TASKS", 10),
    # A task image asked for without a size by a browser saving data (Save-Data: on) comes scaled
    # to this longest side (the labelling page asks for the size it needs, smaller on such links).
    "SAVE_DATA_IMAGE_PX": env_int("SAVE_DATA_IMAGE_PX", 1024),
    "MAX_OBJECTS_PER_ANSWER": 500,
    "MAX_POINTS_PER_POLYGON": 1000,
    "SCORE_MAX_ATTEMPTS": 5,
    "SCORE_SWEEP_AFTER_SECONDS": 60,
    "GOLD_PAY_DELAY_SECONDS": (300, 3600),
    # Pace limits against click-through spam and cherry-picking (docs/reliability.md C7).
    "MIN_ANSWER_MS": env_int("MIN_ANSWER_MS", 800),  # from lease to answer, measured by the server
    "MAX_SKIPS_IN_A_ROW": env_int("MAX_SKIPS_IN_A_ROW", 15),
    "SKIP_COOLDOWN_SECONDS": env_int("SKIP_COOLDOWN_SECONDS", 300),
    # Automatic suspension on gold (docs/reliability.md C8): after this many graded golds in a
    # project, a worker whose gold accuracy is confidently (Wilson bound) under the bar is blocked.
    "SUSPEND_MIN_GOLD": env_int("SUSPEND_MIN_GOLD", 10),
    "SUSPEND_GOLD_ACCURACY": env_float("SUSPEND_GOLD_ACCURACY", 0.5),
    # A model's votes count in consensus only once it has predicted this many gold tasks of the
    # project and its measured accuracy reaches the bar; a credible model lets a task it predicted
    # be decided with one person's answer when they agree (dynamic redundancy does the rest).
    "MODEL_MIN_GOLD": env_int("MODEL_MIN_GOLD", 10),
    "MODEL_MIN_ACCURACY": env_float("MODEL_MIN_ACCURACY", 0.75),
    "MODEL_MIN_SCORE": env_float("MODEL_MIN_SCORE", 0.5),  # shapes scored lower are not a vote
    # Each model version's figures in /progress/ (consensus keeps them; annotations names it).
    "MODEL_PROGRESS": "consensus.model_votes.model_versions_progress",
}

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["sebenzai.common.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "sebenzai.common.pagination.CursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "sebenzai.common.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login": env_str("THROTTLE_LOGIN", "10/min"),
        "register": env_str("THROTTLE_REGISTER", "10/hour"),
        "export": env_str("THROTTLE_EXPORT", "60/hour"),
        "upload": env_str("THROTTLE_UPLOAD", "120/hour"),
        # Per worker: far above a person's pace (one task a second), far below a script's.
        "work": env_str("THROTTLE_WORK", "120/min"),
        "submit": env_str("THROTTLE_SUBMIT", "120/min"),
    },
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sebenzai API",
    "DESCRIPTION": "Requester and worker API of the Sebenzai annotation platform.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Cache (throttle counters) ----------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CACHE_URL = env_str("CACHE_URL")
CACHES = {
    "default": (
        {
            # While Redis is unreachable each process serves from a cache of its own, and the
            # rate limits loosen to per-process counts instead of failing every request.
            "BACKEND": "sebenzai.common.cache.FallbackRedisCache",
            "LOCATION": CACHE_URL,
            "BREAKER_SECONDS": env_float("CACHE_BREAKER_SECONDS", 5.0),  # between two tries
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Celery ---------------------------------------------------------------------------------
# Decided once, here: without a broker every task runs in-process (the embedded default).
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_IGNORE_RESULT = True
# The queue jobs are sent to and workers take them from, unless told otherwise (`celery -Q`).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
# Scoring, exports, webhooks and model runs each on a queue of their own (sebenzai/jobs.py).
CELERY_TASK_ROUTES = (jobs.route,)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.4}
CELERY_WORKER_MAX_TASKS_PER_CHILD = 200
CELERY_WORKER_MAX_MEMORY_PER_CHILD = 512_000
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Must exceed every time limit, countdown and ETA, or a running task is delivered twice.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 1800),
    "socket_timeout": 10,
    "socket_connect_timeout": 5,
    "health_check_interval": 25,
    "retry_on_timeout": True,
}
CELERY_BEAT_SCHEDULE = {
    "expire-leases": {"task": jobs.EXPIRE_LEASES, "schedule": 60.0},
    "sweep-unscored": {"task": jobs.SWEEP_UNSCORED, "schedule": 60.0},
    "sweep-exports": {"task": jobs.EXPORT_SWEEP, "schedule": 60.0},
    # Uploaded ONNX models run on tasks they have not predicted yet (predictions/runs.py).
    "sweep-models": {"task": jobs.SWEEP_MODELS, "schedule": 60.0},
    # Dawid–Skene over each active project and skills re-estimated (consensus/batch.py).
    "rescore-projects": {
        "task": jobs.RESCORE_ACTIVE,
        "schedule": float(env_int("RESCORE_EVERY_SECONDS", 3600)),
    },
}

# --- Languages --------------------------------------------------------------------------------
# The workers' pages speak these (catalogs in locale/; see the README's "Languages" section).
# URLs carry no language prefix: the switch's choice lives in Django's language cookie.
LANGUAGE_CODE = "en"
USE_I18N = True
LANGUAGES = [
    ("en", "English"),
    ("fr", "French"),
    ("pt", "Portuguese"),
    ("sw", "Swahili"),
    ("zu", "isiZulu"),
    ("ha", "Hausa"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switch's choice outlives the browser session (Django's default cookie ends with it). It
# says nothing private, so it is not limited to HTTPS: a phone that reached the site over a
# plain-HTTP local network keeps its language too.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Django ships no locale data for isiZulu and Hausa; without these get_language_info() fails
# and the switch could not show each language's own name. A plain dict: no settings read.
LANG_INFO.setdefault("zu", {"bidi": False, "code": "zu", "name": "Zulu", "name_local": "isiZulu"})
LANG_INFO.setdefault("ha", {"bidi": False, "code": "ha", "name": "Hausa", "name_local": "Hausa"})

# --- Misc -----------------------------------------------------------------------------------
TIME_ZONE = "UTC"
USE_TZ = True

# --- Metrics and logs -------------------------------------------------------------------------
# GET /metrics (sebenzai/metrics) answers staff, or a scraper sending
# "Authorization: Bearer <METRICS_TOKEN>"; unset, only staff sessions.
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN is too short: use 32 or more random characters.")
# gunicorn's workers share the latency histogram through files in this folder (prometheus_client's
# multiprocess mode; deploy/gunicorn.conf.py empties it at start). Unset: one process's own.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
# One JSON object per line on stderr in production, readable text while developing.
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json").lower()
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT[:40]!r}.")
LOG_LEVEL = env_str("LOG_LEVEL", "WARNING").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL[:40]!r}."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "sebenzai.observability.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "sebenzai.observability.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "sebenzai.observability.logs.StderrHandler",  # Python's warnings too
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
