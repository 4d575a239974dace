"""The `loudou` command against a database that is missing or not migrated: one line that
says which database, to run `loudou migrate` and how to reach the demo's database, a
non-zero exit, never a traceback; commands that need no database are unaffected."""

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def loudou(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run `loudou ARGS` in ``home`` (also its LOUDOU_HOME), as a user would."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOUDOU_")}
    base.pop("DJANGO_SETTINGS_MODULE", None)
    base.update(LOUDOU_HOME=str(home), **env)
    return subprocess.run(
        [sys.executable, "-m", "loudou", *args],
        cwd=home,
        env=base,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line_refusal(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_report_without_a_database_says_what_to_do(tmp_path: Path) -> None:
    line = one_line_refusal(loudou(tmp_path, "report", "funnel"))
    assert str(tmp_path / "loudou.sqlite3") in line
    assert "does not exist" in line
    assert "loudou migrate" in line
    assert "LOUDOU_SQLITE_FILE=loudou-demo.sqlite3" in line
    assert not (tmp_path / "loudou.sqlite3").exists()  # looking did not create it
    # Every command that reads the tables, not only reports.
    for args in (["export", "deals"], ["createuser", "x", "--role", "rep"]):
        assert "loudou migrate" in one_line_refusal(loudou(tmp_path, *args))


def test_an_unmigrated_database_is_named(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "loudou.sqlite3").close()  # an empty file
    line = one_line_refusal(loudou(tmp_path, "report", "funnel"))
    assert f"{tmp_path / 'loudou.sqlite3'} is not migrated" in line
    assert "loudou migrate" in line and "LOUDOU_SQLITE_FILE=loudou-demo.sqlite3" in line


def test_commands_that_need_no_database_are_unaffected(tmp_path: Path) -> None:
    for args in (["help"], ["help", "report"], ["report", "--help"], ["--version"]):
        result = loudou(tmp_path, *args)
        assert result.returncode == 0, (args, result.stderr)
        assert "loudou migrate" not in result.stderr
    assert not (tmp_path / "loudou.sqlite3").exists()


@pytest.mark.slow
def test_after_migrate_reports_run_and_a_missing_migration_is_named(tmp_path: Path) -> None:
    assert loudou(tmp_path, "migrate", "-v", "0").returncode == 0
    ran = loudou(tmp_path, "report", "funnel", "--format", "json")
    assert ran.returncode == 0, ran.stderr
    assert '"report": "funnel"' in ran.stdout
    # An upgrade whose migrations have not been applied yet (here: deals' later ones, undone).
    assert loudou(tmp_path, "migrate", "deals", "0006", "-v", "0").returncode == 0
    line = one_line_refusal(loudou(tmp_path, "report", "funnel"))
    assert re.search(r"is not fully migrated \(\d+ migrations? to apply\)", line), line
    assert "loudou migrate" in line


def test_a_postgresql_database_that_cannot_be_opened(tmp_path: Path) -> None:
    url = os.environ.get("LOUDOU_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("PostgreSQL runs only")
    missing = url.rsplit("/", 1)[0] + "/loudou_no_such_database"
    line = one_line_refusal(
        loudou(tmp_path, "report", "funnel", LOUDOU_DATABASE_URL=missing, LOUDOU_SECRET_KEY="x")
    )
    assert "loudou_no_such_database" in line and "cannot open" in line
    assert "loudou migrate" in line
