"""All settings, read from the environment with embedded defaults.

With nothing set, the service runs on SQLite with background work in-process, so a new user
needs no server. Each variable below names what it switches:

- `DATABASE_URL`        e.g. postgres://postgres@127.0.0.1:5432/registry (default: SQLite in var/)
- `DATABASE_CONN_MAX_AGE`  seconds a database connection is kept open (default 0: one per request)
- `CELERY_BROKER_URL`   e.g. redis://127.0.0.1:6379/0 (default: tasks run eagerly in-process)
- `CELERY_TASK_DEFAULT_QUEUE`  the queue tasks go to (default "celery")
- `CELERY_BROKER_VISIBILITY_TIMEOUT`  seconds before Redis gives a task taken by a worker that died
                        to another (default 3600; keep it above the longest task), and
                        `CELERY_BROKER_RESTORE_INTERVAL`, `CELERY_BROKER_RESTORE_THROTTLE`: a worker
                        looks for such tasks every interval x throttle seconds (defaults 10 and 10)
- `CACHE_URL`           e.g. redis://127.0.0.1:6379/1 (default: in-process memory; allauth's rate
                        limits count per process then, so production should share one)
- `SECRET_KEY` or `SECRET_KEY_FILE`  (default: a random key generated once into var/secret_key)
- `DEBUG`               off unless set to a true value
- `ALLOWED_HOSTS`, `CSRF_TRUSTED_ORIGINS`  comma-separated
- `SITE_URL`            the public address (default http://127.0.0.1:8000); its host names the
                        site in account emails (accounts migration 0002)
- `HTTPS`               set behind a TLS-terminating proxy: secure cookies, HSTS, redirect to https
- `EMAIL_URL`           e.g. smtp+tls://user:pass@mail.example.org:587 (default: console)
- `DEFAULT_FROM_EMAIL`
- `REGISTRY_VAR_DIR`    where local state lives (default: var/ in the checkout)
- `STATIC_ROOT`         where `collectstatic` writes (default: var/static)
- size limits: `REGISTRY_MAX_TEXT_BYTES`, `REGISTRY_MAX_FILE_BYTES`, `REGISTRY_MAX_ARCHIVE_BYTES`,
  `REGISTRY_MAX_ARCHIVE_UNPACKED_BYTES`, `REGISTRY_MAX_ARCHIVE_FILES`, `REGISTRY_MAX_ARCHIVE_RATIO`
- `REGISTRY_API_RATE_LIMIT_PER_MINUTE`  default request limit of a new API key (default 600)
- `REGISTRY_WEBHOOK_ALLOW_PRIVATE`  let scan webhooks go to loopback and private addresses
                        (default off: public addresses only, registry/scans/webhook_targets.py)
- `REGISTRY_RESUME_SCANS_SECONDS`, `REGISTRY_RESUME_SCANS_IDLE_SECONDS`  how often Celery beat
                        looks for scan jobs with no progress for the idle time, and re-sends their
                        pending chunks (defaults 300 and 600)

Settings are read through small helpers that fail loudly on a malformed value, and every secret
may come from a file named by `<NAME>_FILE` (for Docker and systemd credentials).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("REGISTRY_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()


def _secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from `NAME`, or from the file named by `NAME_FILE`."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise RuntimeError(f"{name}_FILE={path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def _local_secret_key() -> str:
    """A random key generated on first start and kept in var/, never in the repository.

    This is what lets `manage.py up` work with nothing configured; production sets SECRET_KEY.
    """
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret("SECRET_KEY") or _local_secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, no CDN
    "registry.accounts",
    "registry.preferences",
    "registry.works",
    "registry.apikeys",
    "registry.scans",
    "registry.filtering",
    "registry.snapshots",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "registry" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# The URL may hold a password, so it may come from DATABASE_URL_FILE too.
DATABASES = {
    "default": env.db_url_config(
        _secret("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'registry.sqlite3'}",
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A writer waits for the lock instead of failing at once when the in-process worker and a
    # request write together.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth and accounts (django-allauth) -----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "works:dashboard"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Registry] "
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Mail: console by default, SMTP when EMAIL_URL is set -----------------------------------
_email_url = _secret("EMAIL_URL")
if _email_url:
    vars().update(env.email_url_config(_email_url))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="registry@localhost")

# --- Cache: allauth's rate limits live here ------------------------------------------------
CACHES = {"default": env.cache_url_config(_secret("CACHE_URL") or "locmemcache://")}

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
# Under var/ (created above) rather than the checkout's top level: WhiteNoise warns about a missing
# STATIC_ROOT on every start, and our tests turn warnings into errors.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "registry" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Without a manifest, runserver and tests work before `collectstatic` has run.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders too, so `runserver` with DEBUG off (the default) still has
# its stylesheet before anyone ran `collectstatic`. Production runs collectstatic (deploy/).
WHITENOISE_USE_FINDERS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the browsable API and fetch() read it; the cookie alone is useless
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Production sits behind a proxy that terminates TLS (deploy/README.md); HTTPS=1 turns on what
# `manage.py check --deploy` asks for. Off by default so http://127.0.0.1:8000 works.
if env.bool("HTTPS", default=False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
    # Only the operator knows whether every subdomain is on HTTPS too; check --deploy names both.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

# --- Background work ------------------------------------------------------------------------
CELERY_BROKER_URL = _secret("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
# Without a broker, tasks run in the request's process: nothing else to start for a new user.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# One queue name per deployment: two deployments (or test runs) sharing a Redis stay apart.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis hands a message a dead worker had taken (acks_late) to another one only after this many
# seconds; keep it above the longest task. A worker looks for such messages at its start and then
# every interval x throttle seconds (kombu's 10 x 10). The worker-kill test (tests/registry/scans)
# lowers all three, so that a killed chunk comes back in seconds, not minutes.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_BROKER_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_BROKER_RESTORE_THROTTLE", default=10),
}

# Celery beat (one `celery -A registry beat` per deployment, deploy/) re-sends the chunks of scan
# jobs that stopped moving: a broker restart without persistence loses queued messages.
CELERY_BEAT_SCHEDULE = {
    "resume-stalled-scans": {
        "task": "registry.scans.tasks.resume_stalled_scans",
        "schedule": env.float("REGISTRY_RESUME_SCANS_SECONDS", default=300.0),
        "kwargs": {"idle_seconds": env.float("REGISTRY_RESUME_SCANS_IDLE_SECONDS", default=600.0)},
        "options": {"expires": 240},  # a resume still queued at the next one is redundant
    },
}

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Every API error is JSON {"code", "detail"}; the codes are listed in registry/api/errors.py.
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Training-data opt-out and attribution registry",
    "VERSION": "1.0.0",
    "DESCRIPTION": "Ask before you train: look works up and filter datasets by authors' preferences.",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs pages load their JavaScript from drf-spectacular-sidecar, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Two models have a "source" choice set; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "WorkSourceEnum": "registry.works.models.Work.Source",
        "ScanSourceEnum": "registry.scans.models.ScanJob.Source",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "registry.api.schema.postprocess",  # the error shape and codes on every operation
    ],
}

# --- The registry's own limits and engine settings ------------------------------------------
# Every limit is named in the error a user gets when they pass it.
REGISTRY = {
    "MAX_TEXT_BYTES": env.int("REGISTRY_MAX_TEXT_BYTES", default=2 * 1024 * 1024),
    "MAX_FILE_BYTES": env.int("REGISTRY_MAX_FILE_BYTES", default=5 * 1024 * 1024),
    "MAX_ARCHIVE_BYTES": env.int("REGISTRY_MAX_ARCHIVE_BYTES", default=50 * 1024 * 1024),
    "MAX_ARCHIVE_UNPACKED_BYTES": env.int("REGISTRY_MAX_ARCHIVE_UNPACKED_BYTES", default=200 * 1024 * 1024),
    "MAX_ARCHIVE_FILES": env.int("REGISTRY_MAX_ARCHIVE_FILES", default=5000),
    "MAX_ARCHIVE_RATIO": env.int("REGISTRY_MAX_ARCHIVE_RATIO", default=100),
    # Default per-minute request limit of a new API key (each key can have its own).
    "API_RATE_LIMIT_PER_MINUTE": env.int("REGISTRY_API_RATE_LIMIT_PER_MINUTE", default=600),
    # Batch scans (registry/scans): the upload's size, its number of samples, samples per chunk task.
    "MAX_SCAN_BYTES": env.int("REGISTRY_MAX_SCAN_BYTES", default=512 * 1024 * 1024),
    "MAX_SCAN_SAMPLES": env.int("REGISTRY_MAX_SCAN_SAMPLES", default=1_000_000),
    "SCAN_CHUNK_SIZE": env.int("REGISTRY_SCAN_CHUNK_SIZE", default=500),
    # Webhooks go to public addresses only (registry/scans/webhook_targets.py); a deployment whose
    # receivers are on its own private network turns this on.
    "WEBHOOK_ALLOW_PRIVATE": env.bool("REGISTRY_WEBHOOK_ALLOW_PRIVATE", default=False),
    # A scan job with no chunk finished for this long is re-sent by beat (CELERY_BEAT_SCHEDULE).
    "RESUME_SCANS_IDLE_SECONDS": env.float("REGISTRY_RESUME_SCANS_IDLE_SECONDS", default=600.0),
    # The filter and lookup APIs (registry/filtering): documents per filter call, items per
    # lookup call, and the largest request body either reads.
    "FILTER_MAX_BATCH": env.int("REGISTRY_FILTER_MAX_BATCH", default=1000),
    "LOOKUP_MAX_BATCH": env.int("REGISTRY_LOOKUP_MAX_BATCH", default=10000),
    "API_MAX_BODY_BYTES": env.int("REGISTRY_API_MAX_BODY_BYTES", default=64 * 1024 * 1024),
    # How often a process checks for newly fingerprinted documents (registry/engine.py).
    "MATCHER_CHECK_SECONDS": env.float("REGISTRY_MATCHER_CHECK_SECONDS", default=1.0),
}

# The engine's configuration, read in one place (registry/engine.py) into dedup's config object.
DEDUP = {
    "NUM_PERM": env.int("DEDUP_NUM_PERM", default=128),
    "SEED": env.int("DEDUP_SEED", default=1),
    "SHINGLE_SIZE": env.int("DEDUP_SHINGLE_SIZE", default=5),
    "THRESHOLD": env.float("DEDUP_THRESHOLD", default=0.7),
    "MIN_SNIPPET_CHARS": env.int("DEDUP_MIN_SNIPPET_CHARS", default=150),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
