"""`loudou worker` runs until SIGTERM or SIGINT, then stops cleanly (status 0); it stops
by itself when the process that started it is gone."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOUDOU_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["LOUDOU_HOME"] = str(home)
    return env


def wait_for(process: subprocess.Popen, text: str, timeout: float = 60) -> str:
    """Read the process's output until ``text`` appears."""
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen += line
        if text in seen:
            return seen
    raise AssertionError(f"{text!r} never came; output: {seen}")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("worker")
    migrate = [sys.executable, "-m", "loudou", "migrate", "-v", "0"]
    subprocess.run(migrate, cwd=home, env=environment(home), check=True, timeout=300)
    return home


def start(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "loudou", "worker", "--interval", "0.2", *args],
        cwd=home,
        env=environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_stops_cleanly_on_a_signal(home: Path, signum: int) -> None:
    process = start(home)
    try:
        started = wait_for(process, "Loudou worker started")
        assert "schedule jobs.prune_finished_tasks: 17 3 * * *" in started
        time.sleep(0.5)  # idle, sleeping between polls of the queue
        process.send_signal(signum)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "Loudou worker stopped" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_the_worker_stops_when_its_parent_is_gone(home: Path) -> None:
    # Its parent is this test process's pid... as seen by a worker whose real parent is
    # this process: give another pid, as if `loudou serve` had died.
    process = start(home, "--parent-pid", str(os.getpid() + 999_999))
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert "is gone: stopping" in output
    assert process.returncode == 0
