"""`loudou demo` seeds and serves: started on a free port, it answers its login page, with
a background worker beside it that stops with it."""

import os
import select
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOUDOU_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["LOUDOU_HOME"] = str(tmp_path)
    return env


@pytest.mark.slow
def test_demo_serves_the_login_page(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "loudou", "demo", "--port", str(port), "--deals", "40"],
        cwd=tmp_path,
        env=clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = ""
    try:
        deadline = time.monotonic() + 180  # migrations and seeding on a busy machine
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as r:
                    status = r.status
                    body = r.read().decode()
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200, process.stdout.read() if process.poll() is not None else "timeout"
        # The worker starts after the web server: its own time, however long that took.
        # Read the pipe's descriptor, never the text wrapper: the wrapper would keep lines
        # in its own buffer, which communicate(timeout=...) below does not read.
        fd = process.stdout.fileno()
        worker_deadline = time.monotonic() + 120
        while "Loudou worker started" not in seen and time.monotonic() < worker_deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                seen += chunk.decode(errors="replace")
        assert "漏斗" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/loudou/app.css") as r:
            assert r.status == 200
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/static/django_htmx/htmx-2.min.js"
        ) as r:
            assert r.status == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        output = seen + output
    assert (tmp_path / "loudou-demo.sqlite3").exists()
    assert "demo-admin" in output
    assert "loudou-demo" in output  # the password is printed with the logins
    assert "Loudou worker started" in output
    assert "Loudou worker stopped" in output  # stopped by the server on its way out


@pytest.mark.slow
def test_demo_reuses_an_existing_organisation(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "loudou", "demo", "--no-serve", "--deals", "15"]
    first = subprocess.run(
        cmd, cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, check=True
    )
    assert "Seeded the demo organisation (15 deals)" in first.stdout
    second = subprocess.run(
        cmd, cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, check=True
    )
    assert "Reusing the demo organisation" in second.stdout


@pytest.mark.slow
def test_demo_never_uses_a_configured_database(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    env["LOUDOU_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/production"
    done = subprocess.run(
        [sys.executable, "-m", "loudou", "demo", "--no-serve", "--deals", "5"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "ignores LOUDOU_DATABASE_URL" in done.stderr
    assert (tmp_path / "loudou-demo.sqlite3").exists()
