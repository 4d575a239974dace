"""A worker beside the web server: `loudou serve` and `loudou demo` start one child
process running `loudou worker`, and stop it when they stop."""

import os
import subprocess
import sys


def start_worker() -> subprocess.Popen:
    """Start `loudou worker` as a child process with this process's environment (so the
    same database); it exits by itself if this process dies without stopping it.

    It runs in its own session: Ctrl+C in the terminal reaches the server only, which
    then stops the worker with one SIGTERM (a second signal would cut a task short)."""
    return subprocess.Popen(
        [sys.executable, "-m", "loudou", "worker", "--parent-pid", str(os.getpid())],
        env=os.environ.copy(),
        start_new_session=True,
    )


def stop_worker(process: subprocess.Popen, timeout: float = 30.0) -> int | None:
    """Ask the worker to finish its task and exit (SIGTERM); kill it if it does not
    within ``timeout`` seconds. Return its exit status."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
