"""Child processes of the tests (servers, schedulers): stopped as a service manager would."""
from __future__ import annotations

import subprocess

STOP_SECONDS = 30  # a stopping server finishes its requests and its scheduler's sweep within this


def stop(process: subprocess.Popen, timeout: float = STOP_SECONDS) -> None:
    """SIGTERM, then SIGKILL if it has not ended after ``timeout`` seconds; always reaped."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
