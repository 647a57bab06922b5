"""Settings for the invoice review portal, read from the environment.

DJANGO_ENV selects the mode: ``development`` (default: embedded SQLite, ORM broker,
console email), ``production`` (secrets required, hardened cookies and HTTPS).
Tests use ``invoiceportal.settings_test``, which builds on this module.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

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
    "reviews",
    "invoiceportal.notifications",
    "portal",
]

MIDDLEWARE = [
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
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
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
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))

# Login throttling (django-axes): lock a username *from one address* after repeated
# failures, and an address on its own only after far more (many users behind one
# office NAT). The lock lifts by itself after the cool-off, or with a password reset.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("LOGIN_ADDRESS_FAILURE_LIMIT", "50"))
AXES_COOLOFF_TIME = float(os.environ.get("LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "accounts.lockout.PortalAxesHandler"
AXES_CLIENT_IP_CALLABLE = "invoiceportal.common.middleware.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
AXES_VERBOSE = False

# Sessions: submitters keep theirs for SESSION_HOURS; staff roles (reviewers,
# supervisors, administrators) for STAFF_SESSION_HOURS, set at sign-in.
SESSION_COOKIE_AGE = int(float(os.environ.get("SESSION_HOURS", "72")) * 3600)
STAFF_SESSION_SECONDS = int(float(os.environ.get("STAFF_SESSION_HOURS", "9")) * 3600)

# API tokens (django-rest-knox): one per client, stored hashed, expiring; revoked on
# password change or reset, deactivation and "sign out everywhere".
API_TOKEN_TTL_HOURS = float(os.environ.get("API_TOKEN_TTL_HOURS", "24"))
API_TOKEN_LIMIT_PER_USER = int(os.environ.get("API_TOKEN_LIMIT_PER_USER", "10"))
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
MAX_UPLOAD_MB = int(os.environ.get("MAX_UPLOAD_MB", "20"))  # one file
MAX_REQUEST_MB = int(os.environ.get("MAX_REQUEST_MB", "100"))  # one request (batches)
# Extra memory one document's reading may take in the worker (photos, scans).
EXTRACTION_MEMORY_MB = int(os.environ.get("EXTRACTION_MEMORY_MB", "1536"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Email ------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
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
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": int(os.environ.get("Q_TIMEOUT", "120")),
    "retry": int(os.environ.get("Q_RETRY", "180")),
    "max_attempts": 5,
    # Outcomes live in our own tables (timeline, audit); failed tasks are still kept.
    "save_limit": int(os.environ.get("Q_SAVE_LIMIT", "-1")),
    "catch_up": False,
    "label": _("Background tasks"),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = float(os.environ.get("Q_POLL", "0.1"))

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
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

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
        "timeout": float(os.environ.get("VERIFIER_TIMEOUT", "5")),
    }

# --- Screening ------------------------------------------------------------------------
# An invoice still in received/screening after this long is re-queued by the sweep.
SCREENING_STUCK_MINUTES = int(os.environ.get("SCREENING_STUCK_MINUTES", "10"))
SCREENING_SWEEP_LIMIT = int(os.environ.get("SCREENING_SWEEP_LIMIT", "500"))

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
