"""Settings for the invoice review portal, read from the environment.

DJANGO_ENV selects the mode: ``development`` (default: embedded SQLite, ORM broker,
console email), ``production`` (secrets required, hardened cookies and HTTPS).
Tests use ``invoiceportal.settings_test``, which builds on this module.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ.get("DJANGO_ENV", "development").strip().lower()
PRODUCTION = ENV == "production"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


def env_number(name: str, default: float, kind: type = int) -> Any:
    """A number from the environment (``kind`` int or float); a value that is not
    one stops the start with the variable's name instead of a bare ValueError."""
    value = os.environ.get(name, "").strip()
    if not value:
        return kind(default)
    try:
        return kind(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a{'n integer' if kind is int else ' number'}, "
            f"not {value!r}."
        ) from None


# --- Core -------------------------------------------------------------------------
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production.")
    SECRET_KEY = "dev-only-insecure-key-never-used-in-production"  # noqa: S105

DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver"
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_q",
    "axes",
    "csp",
    "invoiceportal.common",
    "invoiceportal.audit",
    "accounts",
    "invoiceportal.invoices",
    "webhooks",
    "reviews",
    "reviews.workbench",
    "insight",
    "invoiceportal.notifications",
    "portal",
]

MIDDLEWARE = [
    # Request id, latency metric and access log around everything (issue 13, H5).
    "invoiceportal.common.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "invoiceportal.common.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "invoiceportal.common.not_found.PortalNotFoundMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "invoiceportal.urls"
WSGI_APPLICATION = "invoiceportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "csp.context_processors.nonce",
                "invoiceportal.common.observability.ops_status",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_number("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to the same file: WAL and IMMEDIATE
    # transactions avoid "database is locked" (stack-notes.md).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Reverse proxies in front of the portal that append to X-Forwarded-For. The client
# address (throttling, lockout, audit) is the PROXY_COUNT-th entry from the right;
# 0 means REMOTE_ADDR is the client (invoiceportal.common.middleware.client_address).
PROXY_COUNT = env_number("PROXY_COUNT", 0)

# Login throttling (django-axes): lock a username *from one address* after repeated
# failures, and an address on its own only after far more (many users behind one
# office NAT). The lock lifts by itself after the cool-off, or with a password reset.
AXES_FAILURE_LIMIT = env_number("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_number("LOGIN_ADDRESS_FAILURE_LIMIT", 50)
AXES_COOLOFF_TIME = env_number("LOGIN_COOLOFF_HOURS", 0.25, float)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "accounts.lockout.PortalAxesHandler"
AXES_CLIENT_IP_CALLABLE = "invoiceportal.common.middleware.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
AXES_VERBOSE = False

# Sessions: submitters keep theirs for SESSION_HOURS; staff roles (reviewers,
# supervisors, administrators) for STAFF_SESSION_HOURS, set at sign-in.
SESSION_COOKIE_AGE = int(env_number("SESSION_HOURS", 72, float) * 3600)
STAFF_SESSION_SECONDS = int(env_number("STAFF_SESSION_HOURS", 9, float) * 3600)

# API tokens (django-rest-knox): one per client, stored hashed, expiring; revoked on
# password change or reset, deactivation and "sign out everywhere".
API_TOKEN_TTL_HOURS = env_number("API_TOKEN_TTL_HOURS", 24, float)
API_TOKEN_LIMIT_PER_USER = env_number("API_TOKEN_LIMIT_PER_USER", 10)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MAX_UPLOAD_MB = env_number("MAX_UPLOAD_MB", 20)  # one file
MAX_REQUEST_MB = env_number("MAX_REQUEST_MB", 100)  # one request (batches)
# Files sent with an answer to a reviewer's question (PDF, JPEG, PNG; issue 11).
ANSWER_ATTACHMENT_MAX_BYTES = env_number(
    "ANSWER_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024
)
ANSWER_ATTACHMENT_MAX_FILES = env_number("ANSWER_ATTACHMENT_MAX_FILES", 5)
# Extra memory one document's reading may take in the worker (photos, scans).
EXTRACTION_MEMORY_MB = env_number("EXTRACTION_MEMORY_MB", 1536)
# onnxruntime threads per OCR call in a worker: one per worker process fills the cores
# (more spin-wait against the other workers; bench/bench_invoice_cost.py, photos).
OCR_THREADS = env_number("OCR_THREADS", 1)
# How much each django-q2 worker process lowers its CPU priority as it starts (nice;
# 0 leaves it): on a machine shared with the web processes, pages and uploads get a
# core first and screening takes what they leave (bench/bench_soak.py).
Q_WORKER_NICE = env_number("Q_WORKER_NICE", 10)
# Each worker process loads the QR decoder and the OCR models as it starts, not while
# reading its first photo (issue 15: that first photo cost every page a slow minute).
Q_PRELOAD_READERS = bool(env_number("Q_PRELOAD_READERS", 1))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Email ------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_number("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "invoices@localhost")
# The portal's public address, for links in emails.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://localhost:8000")
# SMS: a class with send(phone, text); the default only logs the message.
SMS_BACKEND = os.environ.get(
    "SMS_BACKEND", "invoiceportal.notifications.sms.LoggingSmsBackend"
)

# --- API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.TokenAuthentication",
        "accounts.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "invoiceportal.common.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "invoiceportal.common.api.exception_handler",
    # The browsable API is a development aid; production answers JSON only.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
    ],
    "NUM_PROXIES": PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("TOKEN_THROTTLE", "10/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Invoice review portal API",
    "DESCRIPTION": "Upload Chinese VAT e-invoices, follow their review, decide them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "invoiceportal.common.api.add_error_responses",
    ],
}
# The OpenAPI schema and its docs page: public in development, signed-in users only in
# production (accounts.access.SchemaAccess reads this per request).
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", not PRODUCTION)

# --- Forms --------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Background work (django-q2) ------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
Q_CLUSTER: dict = {
    "name": "invoiceportal",
    "workers": env_number("Q_WORKERS", 2),
    "timeout": env_number("Q_TIMEOUT", 120),
    "retry": env_number("Q_RETRY", 180),
    "max_attempts": 5,
    # Outcomes live in our own tables (timeline, audit); failed tasks are still kept.
    "save_limit": env_number("Q_SAVE_LIMIT", -1),
    # A worker process is replaced after this many tasks: the new one imports the
    # libraries and loads the OCR models again (about 2 s of CPU). django-q2's 500
    # meant a reload every 40 s per worker at 12/s; measured flat worker memory
    # without any recycling over 30 minutes (docs/scaling.md section 3).
    "recycle": env_number("Q_RECYCLE", 10_000),
    "catch_up": False,
    "label": _("Background tasks"),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = env_number("Q_POLL", 0.1, float)

# --- Shared cache (issue 14, H3) ------------------------------------------------------
# API throttles, cached permissions of the status poll and the SLA calendar's
# invalidation live in the cache: with REDIS_URL every web process and worker shares
# one (Redis); without it each process keeps its own in memory (development, tests).
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "invoiceportal")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "invoiceportal",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

# --- Security -----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"  # a document view that must be framed opts in per view
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts only from the portal itself or with the
# response's nonce; no inline event handlers; nothing framed from elsewhere. Inline
# style attributes stay allowed (Bootstrap layouts use them; they run no code).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    },
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_number("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Observability (issue 13, section 3, H5) -----------------------------------------
# Logs: one JSON object per line on stderr (LOG_FORMAT=json, the default) with the
# request id of the request or the worker task that wrote it; LOG_FORMAT=text for a
# human-readable console. Formatter: invoiceportal.common.logs.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json").strip().lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'text'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "invoiceportal.common.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "invoiceportal.common.logs.JsonFormatter"},
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # One line per request from RequestIdMiddleware; ACCESS_LOG_LEVEL=WARNING
        # silences it when the proxy already logs requests.
        "invoiceportal.access": {"level": os.environ.get("ACCESS_LOG_LEVEL", "INFO")},
    },
}
# The worker's heartbeat (invoiceportal.common.heartbeat): older than this, automatic
# checks count as delayed (banner for staff, "automatic checks are delayed" for
# submitters) and /readyz reports the worker; the worker beats about every minute.
WORKER_HEARTBEAT_STALE_SECONDS = int(
    os.environ.get("WORKER_HEARTBEAT_STALE_SECONDS", "300")
)
# A stale worker also makes /readyz answer 503 (off: reported, node stays ready).
READYZ_REQUIRE_WORKER = env_bool("READYZ_REQUIRE_WORKER", False)
# /metrics (Prometheus): allowed with "Authorization: Bearer <METRICS_TOKEN>" or from
# METRICS_ALLOWED_ADDRESSES (addresses or networks, "10.0.0.0/8,127.0.0.1"; the client
# address as resolved behind PROXY_COUNT proxies). Neither set: closed (403).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_ADDRESSES = env_list("METRICS_ALLOWED_ADDRESSES")
for _network in METRICS_ALLOWED_ADDRESSES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_ADDRESSES: {_network!r} is not an address or network."
        ) from _exc
# Screening latency on /metrics: the screenings finished in the last this many minutes.
METRICS_SCREENING_WINDOW_MINUTES = int(
    os.environ.get("METRICS_SCREENING_WINDOW_MINUTES", "60")
)
# Request latency summed over gunicorn's processes: an empty directory shared by them
# (emptied before each start); read by prometheus-client itself from the environment.
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

# --- Verification (查验) ----------------------------------------------------------
# The local registry imported by admins is the default; for a provider's API set
# VERIFIER_URL (and VERIFIER_API_KEY).
VERIFIER_BACKEND = "reviews.verification.LocalRegistryVerifier"
VERIFIER_OPTIONS: dict = {}
if os.environ.get("VERIFIER_URL"):
    VERIFIER_BACKEND = "reviews.verification.HttpVerifier"
    VERIFIER_OPTIONS = {
        "url": os.environ["VERIFIER_URL"],
        "api_key": os.environ.get("VERIFIER_API_KEY", ""),
        "timeout": env_number("VERIFIER_TIMEOUT", 5, float),
    }

# --- Screening ------------------------------------------------------------------------
# An invoice still in received/screening after this long is re-queued by the sweep.
SCREENING_STUCK_MINUTES = env_number("SCREENING_STUCK_MINUTES", 10)
SCREENING_SWEEP_LIMIT = env_number("SCREENING_SWEEP_LIMIT", 500)

# --- Review queue (issue 14 / issue 11, H2) ----------------------------------------
# A claim left untouched this long goes back to the queue; the SLA sweep handles at
# most REVIEW_SWEEP_LIMIT tasks per run; a reviewer holds at most
# REVIEW_MAX_OPEN_CLAIMS claimed tasks at once (claim-next and "claim this task").
REVIEW_LEASE_MINUTES = env_number("REVIEW_LEASE_MINUTES", 30)
REVIEW_SWEEP_LIMIT = env_number("REVIEW_SWEEP_LIMIT", 500)
REVIEW_MAX_OPEN_CLAIMS = env_number("REVIEW_MAX_OPEN_CLAIMS", 1)
# The queue table and the supervisor board refresh themselves (htmx) this often.
QUEUE_REFRESH_SECONDS = env_number("QUEUE_REFRESH_SECONDS", 15)
# The review queue's recent throughput and handling time (every ETA reads them: the
# invoice page, its live panel, My invoices, the forecast) are computed at most once
# per this many seconds and shared through the cache; 0 computes them every time.
QUEUE_STATS_CACHE_SECONDS = env_number("QUEUE_STATS_CACHE_SECONDS", 60)

# --- Review workbench (issue 11, H4) ----------------------------------------------
# Rendered document pages (PNG/SVG) and text layouts are cached in the default storage
# under this prefix, keyed by the document's SHA-256, the page and the scale; the
# scales a page may be asked for (1 = 72 dpi); the largest bitmap one page may become.
WORKBENCH_CACHE_PREFIX = os.environ.get("WORKBENCH_CACHE_PREFIX", "workbench-cache")
WORKBENCH_RENDER_SCALES = (1.0, 2.0, 3.0)
WORKBENCH_DEFAULT_SCALE = 2.0
WORKBENCH_MAX_RENDER_PIXELS = int(
    os.environ.get("WORKBENCH_MAX_RENDER_PIXELS", "12000000")
)
WORKBENCH_MAX_PAGES = 20  # pages of one document shown (intake refuses more)
WORKBENCH_CACHE_SECONDS = 86400  # page sizes and field boxes in Django's cache

# --- Audit log ------------------------------------------------------------------------
# The audit chain is keyed (HMAC) with a key kept outside the database: AUDIT_HMAC_KEY
# is required in production (elsewhere it is derived from SECRET_KEY, so rotating
# SECRET_KEY would make the keyed entries fail verification). Never change it once
# entries exist. Signed checkpoints of the chain's head are appended to a file in
# AUDIT_CHECKPOINT_DIR (ship it off the host) and logged, every few minutes.
AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY", "")
if PRODUCTION and not AUDIT_HMAC_KEY:
    raise ImproperlyConfigured("AUDIT_HMAC_KEY must be set when DJANGO_ENV=production.")
if not AUDIT_HMAC_KEY:
    import hashlib as _hashlib

    AUDIT_HMAC_KEY = _hashlib.sha256(b"audit-hmac:" + SECRET_KEY.encode()).hexdigest()
AUDIT_CHECKPOINT_DIR = Path(
    os.environ.get("AUDIT_CHECKPOINT_DIR", BASE_DIR / "var" / "audit")
)

# --- Performance pages and breach forecast (issue 13, H7: insight/) ----
# The daily rollup is refreshed every INSIGHT_ROLLUP_REFRESH_MINUTES for the last
# INSIGHT_ROLLUP_DAYS_BACK local days (older days: ``manage.py insight_rollup``); the
# page reads it for past days and queries today live. Supervisors are notified once
# when the forecast of tasks breaching within the next business day reaches
# INSIGHT_FORECAST_ALERT_THRESHOLD (checked every INSIGHT_FORECAST_CHECK_MINUTES).
# Reviewers count as on shift when they decided or claimed a task within the last
# INSIGHT_ON_SHIFT_MINUTES.
INSIGHT_ROLLUP_REFRESH_MINUTES = int(
    os.environ.get("INSIGHT_ROLLUP_REFRESH_MINUTES", "15")
)
INSIGHT_ROLLUP_DAYS_BACK = env_number("INSIGHT_ROLLUP_DAYS_BACK", 3)
INSIGHT_FORECAST_ALERT_THRESHOLD = int(
    os.environ.get("INSIGHT_FORECAST_ALERT_THRESHOLD", "5")
)
INSIGHT_FORECAST_CHECK_MINUTES = int(
    os.environ.get("INSIGHT_FORECAST_CHECK_MINUTES", "5")
)
INSIGHT_ON_SHIFT_MINUTES = env_number("INSIGHT_ON_SHIFT_MINUTES", 90)

# --- Webhooks (issue 13, section 4; app ``webhooks``) ----
# Requests to private, loopback and link-local addresses, and plain http://, only when
# this is on (tests and on-premises ERPs). Off, every resolved address must be public.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)
# Exponential backoff between attempts: base, doubled per failure, capped; after
# WEBHOOKS_RETRY_HOURS of failures the endpoint is paused and its admins notified.
WEBHOOKS_RETRY_BASE_SECONDS = env_number("WEBHOOKS_RETRY_BASE_SECONDS", 60)
WEBHOOKS_RETRY_MAX_SECONDS = env_number("WEBHOOKS_RETRY_MAX_SECONDS", 3600)
WEBHOOKS_RETRY_HOURS = env_number("WEBHOOKS_RETRY_HOURS", 24, float)

# --- Scale-out (issue 15, H9): pool, storage, audit sealing ----
# Bounded PostgreSQL connections: Django's psycopg pool, per process, when
# DB_POOL_MAX_SIZE is set (off when unset: one connection per thread, as before; the
# test suite runs without it). A request that waits DB_POOL_TIMEOUT seconds for a
# connection gets a 503 with Retry-After (common/api.py), never a 500.
DB_POOL_MIN_SIZE = env_number("DB_POOL_MIN_SIZE", 2)
DB_POOL_MAX_SIZE = env_number("DB_POOL_MAX_SIZE", 0)
DB_POOL_TIMEOUT = env_number("DB_POOL_TIMEOUT", 5, float)
if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    and DB_POOL_MAX_SIZE
):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(DB_POOL_MIN_SIZE, DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": DB_POOL_TIMEOUT,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
# Documents (uploads) go through Django's storage API: "filesystem" (MEDIA_ROOT) or
# "s3" (any S3-compatible store: AWS, MinIO, Alibaba OSS) with the AWS_* settings.
DOCUMENT_STORAGE_BACKEND = os.environ.get("DOCUMENT_STORAGE_BACKEND", "filesystem")
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or None
AWS_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID") or None
AWS_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY") or None
AWS_S3_ADDRESSING_STYLE = os.environ.get("AWS_S3_ADDRESSING_STYLE") or None
AWS_LOCATION = os.environ.get("AWS_LOCATION", "documents")
AWS_DEFAULT_ACL = None
AWS_S3_FILE_OVERWRITE = False
AWS_QUERYSTRING_AUTH = True  # documents are private: served through the portal
if DOCUMENT_STORAGE_BACKEND == "s3":
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured(
            "DOCUMENT_STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME."
        )
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
elif DOCUMENT_STORAGE_BACKEND != "filesystem":
    raise ImproperlyConfigured(
        "DOCUMENT_STORAGE_BACKEND must be 'filesystem' or 's3', not "
        f"{DOCUMENT_STORAGE_BACKEND!r}."
    )
# Audit entries are sealed into the chain after the commit (audit.services.audit_seal),
# so no lock is held across a caller's transaction. Inline sealing (under the head
# lock, inside the caller's transaction) on SQLite, whose writers are serialised by
# IMMEDIATE transactions anyway; settable for PostgreSQL too. An entry still unsealed
# after AUDIT_SEAL_MAX_DELAY_SECONDS fails verify_audit_chain.
AUDIT_SEAL_INLINE = env_bool(
    "AUDIT_SEAL_INLINE", DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
)
AUDIT_SEAL_MAX_DELAY_SECONDS = env_number("AUDIT_SEAL_MAX_DELAY_SECONDS", 120)
# After a commit, a process seals at most once per this many seconds (0: after every
# commit); the sealer process and the "audit-seal" schedule link the rest. Under load
# one pass per process and second replaces one locked pass and one more commit per
# transaction (bench/bench_claims.py, bench/bench_screening.py).
AUDIT_SEAL_INTERVAL_SECONDS = env_number("AUDIT_SEAL_INTERVAL_SECONDS", 1.0, float)

# Receipt PDF font (issue 12, H8): an OpenType/TrueType CJK font to subset and embed
# (empty: Noto Sans CJK SC from the mplfonts package), and where the converted
# subsets are cached.
RECEIPT_FONT_SOURCE = os.environ.get("RECEIPT_FONT_SOURCE", "")
RECEIPT_FONT_CACHE = Path(
    os.environ.get("RECEIPT_FONT_CACHE", BASE_DIR / "var" / "fonts")
)
