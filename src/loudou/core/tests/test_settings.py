"""Settings come from the environment; the secret key rule; SQLite in WAL mode."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from django.db import connection
from django.test import TestCase

import loudou

PROBE = (
    "import json, django; from django.conf import settings as s; "
    "print(json.dumps({'tz': s.TIME_ZONE, 'lang': s.LANGUAGE_CODE, 'cur': s.LOUDOU_CURRENCY, "
    "'db': s.DATABASES['default']['NAME'].__str__(), "
    "'opts': s.DATABASES['default'].get('OPTIONS', {}), 'key': len(s.SECRET_KEY)}))"
)


def probe(tmp: Path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOUDOU_")}
    base.update(DJANGO_SETTINGS_MODULE="loudou.settings", LOUDOU_HOME=str(tmp), **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=base, capture_output=True, text=True, cwd=tmp
    )


def test_defaults(tmp_path):
    result = probe(tmp_path)
    values = json.loads(result.stdout)
    assert values["tz"] == "Asia/Shanghai"
    assert values["lang"] == "zh-hans"
    assert values["cur"] == "CNY"
    assert values["db"] == str(tmp_path / "loudou.sqlite3")
    assert "journal_mode=WAL" in values["opts"]["init_command"]
    assert values["opts"]["timeout"] > 0
    key_file = tmp_path / ".loudou-secret-key"
    assert key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600"
    again = json.loads(probe(tmp_path).stdout)
    assert again["key"] == values["key"]  # the stored key is reused


def test_a_new_home_folder_is_created(tmp_path):
    # LOUDOU_HOME=/some/new/folder on a fresh machine: created, not a traceback.
    home = tmp_path / "new" / "home"
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOUDOU_")}
    base.update(DJANGO_SETTINGS_MODULE="loudou.settings", LOUDOU_HOME=str(home))
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=base, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["db"] == str(home / "loudou.sqlite3")
    assert (home / ".loudou-secret-key").exists()


def test_environment_overrides(tmp_path):
    result = probe(
        tmp_path,
        LOUDOU_TIME_ZONE="Europe/Berlin",
        LOUDOU_LANGUAGE="en",
        LOUDOU_CURRENCY="usd",
        LOUDOU_DATABASE_URL="postgresql://u@127.0.0.1:5432/x",
        LOUDOU_SECRET_KEY="k" * 50,
    )
    values = json.loads(result.stdout)
    assert (values["tz"], values["lang"], values["cur"], values["db"]) == (
        "Europe/Berlin",
        "en",
        "USD",
        "x",
    )
    assert not (tmp_path / ".loudou-secret-key").exists()


KEY_PROBE = (
    "import hashlib, django; from django.conf import settings as s; "
    "print(hashlib.sha256(s.SECRET_KEY.encode()).hexdigest())"
)


def key_in(cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """A process's SECRET_KEY (hashed), run in ``cwd`` with LOUDOU_HOME unset unless given."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOUDOU_")}
    base.update(DJANGO_SETTINGS_MODULE="loudou.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", KEY_PROBE], env=base, capture_output=True, text=True, cwd=cwd
    )


def test_no_key_file_is_read_or_written_inside_the_package():
    """A key file in the package would ship with it (one was committed once). Run from
    the package (README: makemessages from src/loudou/), or with LOUDOU_HOME in it, a
    process uses a throw-away key, says so on stderr, and leaves no file behind."""
    package = Path(loudou.__file__).resolve().parent
    first = key_in(package)
    assert first.returncode == 0, first.stderr
    assert "throw-away secret key" in first.stderr
    assert not (package / ".loudou-secret-key").exists()
    second = key_in(package)
    assert second.stdout != first.stdout  # nothing kept between processes
    # A key file already there (an old checkout, a copy) is not read either.
    planted = package / "locale" / ".loudou-secret-key"
    planted.write_text("planted")
    try:
        result = key_in(package, LOUDOU_HOME=str(package / "locale"))
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() != hashlib.sha256(b"planted").hexdigest()
        assert planted.read_text() == "planted"
    finally:
        planted.unlink()
    assert not (package / "locale" / ".loudou-secret-key").exists()


def test_secret_key_required_for_a_configured_database(tmp_path):
    result = probe(tmp_path, LOUDOU_DATABASE_URL="postgresql://u@127.0.0.1:5432/x")
    assert result.returncode != 0
    assert "LOUDOU_SECRET_KEY must be set" in result.stderr


def test_bad_language_is_a_clear_error(tmp_path):
    result = probe(tmp_path, LOUDOU_LANGUAGE="fr")
    assert "LOUDOU_LANGUAGE must be 'zh-hans' or 'en'" in result.stderr


class SqliteModeTests(TestCase):
    def test_connection_is_in_wal_mode(self):
        if connection.vendor != "sqlite":
            self.skipTest("SQLite only")
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            self.assertEqual(cursor.fetchone()[0], "wal")
            cursor.execute("PRAGMA busy_timeout")
            self.assertGreater(cursor.fetchone()[0], 0)
