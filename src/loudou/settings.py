"""Loudou settings: one module, driven by the environment.

Every knob an operator may turn is an ``LOUDOU_*`` environment variable; nothing here
needs editing for a deployment. See README.md for the list.
"""

import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
# Data (the default SQLite file, uploads, the generated key) lives under the working
# directory, so `loudou demo` in a fresh folder is self-contained.
WORK_DIR = Path(os.environ.get("LOUDOU_HOME", Path.cwd())).resolve()


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable ("1", "true", "yes", "on" mean yes)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


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
    "django_tasks",
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "loudou.urls"
WSGI_APPLICATION = "loudou.wsgi.application"
AUTH_USER_MODEL = "people.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "board"
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
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("LOUDOU_MEDIA_ROOT", WORK_DIR / "loudou-media"))
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
LOUDOU_MAX_ATTACHMENT_BYTES = int(os.environ.get("LOUDOU_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024))
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

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("LOUDOU_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOUDOU_LOG_LEVEL", "INFO")},
}
