"""Test settings: the real settings, with a fixed key, fast hashing and in-process tasks unless a
test asks for the broker. DATABASE_URL and REDIS_URL come from the environment (scripts/test)."""

import os

os.environ.setdefault("SECRET_KEY", "test-" + "k" * 60)

from sebenzai.settings import *  # noqa: E402,F403
from sebenzai.settings import BASE_DIR, REST_FRAMEWORK, SEBENZAI  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303 - tests only
CELERY_TASK_ALWAYS_EAGER = True
MEDIA_ROOT = os.environ.get("TEST_MEDIA_ROOT", str(BASE_DIR / "var" / "test-media"))
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        "login": "1000/min",
        "register": "1000/min",
        "export": "1000/min",
        "upload": "1000/min",
        "work": "100000/min",
        "submit": "100000/min",
    },
}
# Tests answer the instant they lease; the pace limits have tests of their own.
SEBENZAI = {**SEBENZAI, "MIN_ANSWER_MS": 0}
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# On SQLite the test database is a file, like the embedded default's, not Django's in-memory
# database in shared-cache mode: there the live server's threads (the browser tests) meet table
# locks that fail at once ("database table is locked") or wait for ever, where a file in WAL mode
# with its busy timeout lets one writer and many readers take turns. One file per test process.
from sebenzai.settings import DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": str(BASE_DIR / "var" / f"test-sebenzai-{os.getpid()}.sqlite3")
    }
