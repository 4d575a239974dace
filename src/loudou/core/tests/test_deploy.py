"""Deployment settings: LOUDOU_HTTPS makes `loudou check --deploy` clean and does what it says
(each case runs in a fresh process, since settings are read once from the environment)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

# The warnings LOUDOU_HTTPS answers: HSTS, HTTPS redirect, secure session and CSRF cookies.
HTTPS_WARNINGS = ("security.W004", "security.W008", "security.W012", "security.W016")


def run(tmp: Path, args: list[str], **env: str) -> subprocess.CompletedProcess:
    """Python with ``args`` in a fresh folder, with only the given LOUDOU_* variables."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOUDOU_")}
    base.update(DJANGO_SETTINGS_MODULE="loudou.settings", LOUDOU_HOME=str(tmp), **env)
    return subprocess.run(
        [sys.executable, *args], env=base, capture_output=True, text=True, cwd=tmp, timeout=120
    )


def check_deploy(tmp: Path, **env: str) -> subprocess.CompletedProcess:
    production = {"LOUDOU_SECRET_KEY": secrets.token_urlsafe(50), "LOUDOU_DEBUG": "0"}
    return run(
        tmp, ["-m", "loudou", "check", "--deploy", "--fail-level", "WARNING"], **production, **env
    )


def test_check_deploy_is_clean_with_https(tmp_path):
    result = check_deploy(tmp_path, LOUDOU_HTTPS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_names_what_https_would_fix(tmp_path):
    result = check_deploy(tmp_path)
    assert result.returncode != 0
    for warning in HTTPS_WARNINGS:
        assert warning in result.stderr


# Requests through the test client in a process started with the given environment: what a
# plain-HTTP request, a proxied HTTPS request and the health check get.
REQUESTS = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
plain = Client()
login = plain.get("/login/")
health = plain.get("/healthz")
secure = Client(headers={"x-forwarded-proto": "https"}).get("/login/")
cookie = secure.cookies.get("csrftoken")
print(json.dumps({
    "login": [login.status_code, login.get("Location")],
    "healthz": health.status_code,
    "secure": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security"),
    "csp": secure.get("Content-Security-Policy"),
    "cookie_secure": bool(cookie and cookie["secure"]),
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "proxies": settings.LOUDOU_PROXY_COUNT,
}))
"""


def requests(tmp: Path, **env: str) -> dict:
    result = run(tmp, ["-c", REQUESTS], LOUDOU_ALLOWED_HOSTS="testserver", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_https_switch(tmp_path):
    got = requests(tmp_path, LOUDOU_HTTPS="1")
    assert got["login"] == [301, "https://testserver/login/"]
    assert got["healthz"] == 200  # load balancers probe the backend over plain HTTP
    assert got["secure"] == 200  # the proxy says the client came over HTTPS
    assert got["hsts"] == "max-age=31536000; includeSubDomains"
    assert got["cookie_secure"] and got["session_secure"]
    assert "default-src 'self'" in got["csp"]
    assert got["proxies"] == 1


def test_hsts_preload_only_on_request(tmp_path):
    got = requests(tmp_path, LOUDOU_HTTPS="1", LOUDOU_HSTS_PRELOAD="1")
    assert got["hsts"] == "max-age=31536000; includeSubDomains; preload"
    result = check_deploy(tmp_path, LOUDOU_HTTPS="1", LOUDOU_HSTS_PRELOAD="1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_https_nothing_is_redirected(tmp_path):
    got = requests(tmp_path)
    assert got["login"] == [200, None]
    assert got["hsts"] is None
    assert not got["cookie_secure"] and not got["session_secure"]
    assert got["proxies"] == 0


def test_secure_cookies_alone_still_work(tmp_path):
    got = requests(tmp_path, LOUDOU_SECURE_COOKIES="1")
    assert got["login"] == [200, None]  # only the cookies, as before LOUDOU_HTTPS
    assert got["cookie_secure"] and got["session_secure"]
