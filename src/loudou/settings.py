"""Loudou settings: one module, driven by the environment.

Every knob an operator may turn is an ``LOUDOU_*`` environment variable; nothing here
needs editing for a deployment. See README.md for the list.
"""

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
# Data (the default SQLite file, uploads, the generated key) lives under the working
# directory, so `loudou demo` in a fresh folder is self-contained.
WORK_DIR = Path(os.environ.get("LOUDOU_HOME", Path.cwd())).resolve()
try:
    # A LOUDOU_HOME that does not exist yet (a fresh machine) is made, not a traceback.
    WORK_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ImproperlyConfigured(f"LOUDOU_HOME {WORK_DIR} cannot be created: {exc}") from exc


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable ("1", "true", "yes", "on" mean yes)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Read a whole-number environment variable; a clear error if it is not one."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}.")
    return number


DEBUG = env_bool("LOUDOU_DEBUG")

# `loudou demo` points this at loudou-demo.sqlite3 (see cli.py).
DEFAULT_SQLITE = WORK_DIR / os.environ.get("LOUDOU_SQLITE_FILE", "loudou.sqlite3")
DATABASE_URL = os.environ.get("LOUDOU_DATABASE_URL", "")
USING_LOCAL_DEFAULT = not DATABASE_URL
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL or f"sqlite:///{DEFAULT_SQLITE}", conn_max_age=60)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers proceed while one writer writes; IMMEDIATE makes a write
        # transaction take the lock up front so it waits (busy timeout) instead of failing.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("LOUDOU_TEST_DATABASE_NAME") or None}


def _inside_package(directory: Path) -> bool:
    """Whether ``directory`` is the installed package's folder or a folder within it."""
    return directory == PACKAGE_DIR or PACKAGE_DIR in directory.parents


def _secret_key() -> str:
    """LOUDOU_SECRET_KEY; else, for local use, the key kept in the working directory
    (generated once); never a key file inside the package (see below)."""
    key = os.environ.get("LOUDOU_SECRET_KEY", "")
    if key:
        return key
    if USING_LOCAL_DEFAULT or DEBUG:
        if _inside_package(WORK_DIR):
            # A key file here would be packaged and shipped (one was committed once), and
            # one found here may be anybody's. Commands run from the package, such as
            # makemessages, need no lasting key: this process gets a throw-away one. Said
            # on stderr, because a server started here would log everyone out on restart.
            sys.stderr.write(
                f"loudou: {WORK_DIR} is inside the loudou package: using a throw-away "
                "secret key for this process (no key file is read or written there; set "
                "LOUDOU_HOME to another folder, or LOUDOU_SECRET_KEY, to keep one).\n"
            )
            return secrets.token_urlsafe(50)
        # Local single-machine use: generate once, keep it beside the data.
        path = WORK_DIR / ".loudou-secret-key"
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key
    raise ImproperlyConfigured(
        "LOUDOU_SECRET_KEY must be set when LOUDOU_DATABASE_URL is set and LOUDOU_DEBUG is off."
    )


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("LOUDOU_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("LOUDOU_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "django_tasks",
    "axes",
    "csp",
    "django_tasks_db",
    "loudou.core",
    "loudou.people",
    "loudou.pipelines",
    "loudou.accounts",
    "loudou.deals",
    "loudou.activities",
    "loudou.reports",
    "loudou.spreadsheets",
    "loudou.jobs",
    "loudou.notifications",
    "loudou.configure",
    "loudou.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "loudou.core.middleware.RefuseNulMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a throttled login into the lockout page, and the
    # middleware above (CSP, language) still see that page on its way out.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "loudou.urls"
WSGI_APPLICATION = "loudou.wsgi.application"
AUTH_USER_MODEL = "people.User"
LOGIN_URL = "login"
# A rep's home is their Today (issue 13); the board is one click away.
LOGIN_REDIRECT_URL = "today"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Internationalisation: zh-Hans and English are both first-class. The browser's
# Accept-Language decides; LOUDOU_LANGUAGE is used when it asks for neither.
LANGUAGE_CODE = os.environ.get("LOUDOU_LANGUAGE", "zh-hans").lower()
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
if LANGUAGE_CODE not in {code for code, _name in LANGUAGES}:
    raise ImproperlyConfigured("LOUDOU_LANGUAGE must be 'zh-hans' or 'en'.")
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
# How dates read on the pages, per language (DATE_FORMAT, SHORT_DATETIME_FORMAT).
FORMAT_MODULE_PATH = ["loudou.formats"]
USE_I18N = True
TIME_ZONE = os.environ.get("LOUDOU_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True
LOUDOU_CURRENCY = os.environ.get("LOUDOU_CURRENCY", "CNY").upper()

STATIC_URL = "static/"
# Only needed by `collectstatic` for a separate web server; whitenoise serves from finders.
STATIC_ROOT = os.environ.get("LOUDOU_STATIC_ROOT") or None
# Serve straight from the installed packages' static folders: no collectstatic step,
# nothing fetched from the internet.
WHITENOISE_USE_FINDERS = True
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js from the installed plotly package (reports/plotly_assets.py): no CDN.
    "loudou.reports.plotly_assets.PlotlyFinder",
]
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("LOUDOU_MEDIA_ROOT", WORK_DIR / "loudou-media"))
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
LOUDOU_MAX_ATTACHMENT_BYTES = int(os.environ.get("LOUDOU_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024))
# Web imports: the largest upload, and how long uploads and errors files are kept.
LOUDOU_IMPORT_MAX_UPLOAD_BYTES = int(
    os.environ.get("LOUDOU_IMPORT_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
)
LOUDOU_IMPORT_KEEP_HOURS = int(os.environ.get("LOUDOU_IMPORT_KEEP_HOURS", 24))
# Change records (core_change) are kept this long; a report cache entry older than half
# of it is reloaded rather than checked against records that may be gone.
LOUDOU_CHANGES_KEEP_HOURS = float(os.environ.get("LOUDOU_CHANGES_KEEP_HOURS", 24))
if not 1 <= LOUDOU_CHANGES_KEEP_HOURS <= 24 * 365:
    raise ImproperlyConfigured("LOUDOU_CHANGES_KEEP_HOURS must be between 1 and 8760.")
# The published report frames, memory-mapped by every process of this machine
# (reports/store.py); "off" keeps them in each process only.
_store = os.environ.get("LOUDOU_REPORT_STORE", str(WORK_DIR / "report-store"))
LOUDOU_REPORT_STORE = None if _store.lower() == "off" else Path(_store)
# Workbooks read by the import (docs/spreadsheets.md): beyond these, refused before reading.
LOUDOU_IMPORT_LIMITS = {
    "rows": int(os.environ.get("LOUDOU_IMPORT_MAX_ROWS", 1_048_576)),  # Excel's own limit
    "columns": int(os.environ.get("LOUDOU_IMPORT_MAX_COLUMNS", 256)),
    "cells": int(os.environ.get("LOUDOU_IMPORT_MAX_CELLS", 20_000_000)),
    "unpacked_bytes": int(os.environ.get("LOUDOU_IMPORT_MAX_UNPACKED_BYTES", 1 << 30)),
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work (loudou.jobs): django-tasks with its database backend, in the same
# database (no other service to run); `loudou worker` runs the tasks and the schedules.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
LOUDOU_TASK_RETENTION_DAYS = int(os.environ.get("LOUDOU_TASK_RETENTION_DAYS", 14))
# Chat notifications (notifications/): when the digests go out, in TIME_ZONE; the site's
# address for links in messages ("" leaves links out); the first retry's wait.
LOUDOU_DIGEST_CRON = os.environ.get("LOUDOU_DIGEST_CRON", "30 8 * * 1-5")
LOUDOU_WEEKLY_CRON = os.environ.get("LOUDOU_WEEKLY_CRON", "0 9 * * 1")
LOUDOU_SITE_URL = os.environ.get("LOUDOU_SITE_URL", "")
LOUDOU_NOTIFY_RETRY_SECONDS = int(os.environ.get("LOUDOU_NOTIFY_RETRY_SECONDS", 30))
LOUDOU_NOTIFY_KEEP_DAYS = int(os.environ.get("LOUDOU_NOTIFY_KEEP_DAYS", 90))  # the delivery log
# Channels and webhooks may point at this machine or the local network only when this is on
# (a manager could otherwise make the server probe internal addresses).
LOUDOU_NOTIFY_PRIVATE_ADDRESSES = env_bool("LOUDOU_NOTIFY_PRIVATE_ADDRESSES")

# HTTPS. `loudou serve` speaks plain HTTP; in production a reverse proxy terminates TLS in
# front of it. LOUDOU_HTTPS=1 says the site is served that way: secure cookies, HSTS, a
# redirect of plain-HTTP requests, and trust in the proxy's X-Forwarded-Proto header (the
# proxy must set it, overwriting what a client sent). /healthz stays reachable over plain
# HTTP for load balancers that probe the backend directly.
HTTPS = env_bool("LOUDOU_HTTPS")
SESSION_COOKIE_HTTPONLY = True
# LOUDOU_SECURE_COOKIES, the older and narrower switch, still turns on just the cookies.
SESSION_COOKIE_SECURE = HTTPS or env_bool("LOUDOU_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is a commitment for the whole domain that browsers keep for months after
    # it is withdrawn: only on request. Without it Django's deploy check warns (W021) that
    # the site could not be submitted to the preload list, which is then the intent.
    SECURE_HSTS_PRELOAD = env_bool("LOUDOU_HSTS_PRELOAD")
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Reverse proxies in front of Loudou that append the client's address to X-Forwarded-For
# (behind LOUDOU_HTTPS, one is assumed).
# Login throttling counts failures per client address; without this it would see only the
# proxy's address (core/throttle.py).
LOUDOU_PROXY_COUNT = env_int("LOUDOU_PROXY_COUNT", 1 if HTTPS else 0)

# Content-Security-Policy (django-csp): everything from this site only, and no inline
# script or style at all (behaviour lives in static JS files, looks in app.css; htmx is
# told not to inject its indicator <style>, see base.html). No framing, forms post here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # data: and blob: for the PNG download of a chart (plotly draws it through images).
        "img-src": ["'self'", "data:", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Login throttling (django-axes, core/throttle.py). Failures count per account and per
# client address within the cool-off window; at LOUDOU_LOGIN_FAILURE_LIMIT failures of one
# account, or LOUDOU_LOGIN_ADDRESS_FAILURE_LIMIT from one address (higher: an office's
# users share one address), logins for it are refused, the right password included, until
# the window has passed or an administrator unlocks it (`loudou axes_reset_username NAME`,
# `loudou axes_reset_ip ADDRESS`, `loudou axes_reset`).
AUTHENTICATION_BACKENDS = [
    # First: it refuses a throttled login before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "loudou.core.throttle.LoginThrottle"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env_int("LOUDOU_LOGIN_FAILURE_LIMIT", 10, minimum=1)
LOUDOU_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOUDOU_LOGIN_ADDRESS_FAILURE_LIMIT", 50, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOUDOU_LOGIN_COOLOFF_MINUTES", 60, minimum=1))
# A good login clears that account's failures (LoginThrottle says which ones).
AXES_RESET_ON_SUCCESS = True
# Attempts refused during a lockout are not counted: the time the page promises holds, and
# a user who keeps trying the right password from a locked address does not lock their own
# account too.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "loudou.core.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "loudou.core.views.locked_out"
# No start-up banner on every `loudou` command; failures and lockouts are still logged.
AXES_VERBOSE = False

# E-mail (password reset links). Without LOUDOU_EMAIL_HOST messages are printed on the
# console of the process that sends them (the background worker), which is enough on one
# machine and for trying Loudou out; with it, they go out over SMTP. LOUDOU_EMAIL_BACKEND
# names any other Django e-mail backend.
EMAIL_HOST = os.environ.get("LOUDOU_EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get("LOUDOU_EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_USE_TLS = env_bool("LOUDOU_EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("LOUDOU_EMAIL_USE_SSL")
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set LOUDOU_EMAIL_USE_TLS or LOUDOU_EMAIL_USE_SSL, not both.")
EMAIL_PORT = env_int("LOUDOU_EMAIL_PORT", 465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25)
EMAIL_HOST_USER = os.environ.get("LOUDOU_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("LOUDOU_EMAIL_PASSWORD", "")
EMAIL_TIMEOUT = env_int("LOUDOU_EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = os.environ.get("LOUDOU_EMAIL_FROM", "loudou@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Password reset (core/passwords.py): a link works once, for this many hours; requests
# are limited per e-mail address typed and per client address within a window, counting
# addresses that belong to nobody alike, so that a refusal reveals nothing either.
PASSWORD_RESET_TIMEOUT = env_int("LOUDOU_PASSWORD_RESET_HOURS", 24, minimum=1) * 60 * 60
LOUDOU_PASSWORD_RESET_LIMIT = env_int("LOUDOU_PASSWORD_RESET_LIMIT", 3, minimum=1)
LOUDOU_PASSWORD_RESET_ADDRESS_LIMIT = env_int("LOUDOU_PASSWORD_RESET_ADDRESS_LIMIT", 20, minimum=1)
LOUDOU_PASSWORD_RESET_WINDOW = timedelta(
    minutes=env_int("LOUDOU_PASSWORD_RESET_WINDOW_MINUTES", 60, minimum=1)
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOUDOU_LOG_LEVEL", "INFO")},
    # django-axes says several things at INFO on every login; failures and lockouts are
    # WARNINGs, and those are what an operator wants to see.
    "loggers": {"axes": {"level": "WARNING"}},
}
