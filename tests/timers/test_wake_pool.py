"""The wake-up helpers end with their scheduler: a scheduler killed with SIGKILL (no stop, no shutdown of its pool)
leaves no helper process behind. A helper runs as its scheduler does (its garbage collector tuned)."""
from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.app import create_engine_app
from engine.core.config import GC_THRESHOLDS, REPO_ROOT
from timers.wake_pool import PARENT_CHECK_SECONDS, WakePool

START_TIMEOUT = 120  # seconds for the scheduler and its helper to start (a loaded machine imports slowly)
GONE_TIMEOUT = 10 * PARENT_CHECK_SECONDS  # the helper notices at once or at its next check; generous for a loaded machine

# A scheduler's pool of two waking processes (itself and one helper), started as `TimerScheduler.start` starts it;
# it prints the helper's pid once the helper has built its application, then waits to be killed.
SCHEDULER = """
import os, sys, time
from engine.app import create_engine_app
from timers.wake_pool import WakePool
pool = WakePool(create_engine_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1]}), 2)
pool.start()
print(pool._executor_started().submit(os.getpid).result(), flush=True)
time.sleep(600)
"""


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not ended (a zombie waiting to be reaped has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return state[0] != "Z"


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_a_helper_ends_soon_after_its_scheduler_is_killed(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FANGPIN_INSTANCE": str(tmp_path)}
    scheduler = subprocess.Popen([sys.executable, "-c", SCHEDULER, f"sqlite:///{tmp_path / 'fangpin.db'}"],
                                 cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    helper = None
    try:
        line = scheduler.stdout.readline()  # the helper keeps the pipe open: read its line only
        assert line.strip().isdigit(), scheduler.communicate(timeout=START_TIMEOUT)[1][-4000:]
        helper = int(line)
        assert _running(helper) and _parent(helper) == scheduler.pid

        scheduler.send_signal(signal.SIGKILL)
        scheduler.wait(timeout=START_TIMEOUT)
        deadline = time.monotonic() + GONE_TIMEOUT
        while _running(helper) and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting for the operating system to end the helper, not timing the code
        assert not _running(helper), f"helper {helper} still running {GONE_TIMEOUT} s after its scheduler was killed"
        _, errors = scheduler.communicate(timeout=START_TIMEOUT)  # ends: the helper no longer holds the pipes
        assert f"wake-up helper {helper}: its scheduler (process {scheduler.pid}) is gone" in errors
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.wait()
        if helper is not None and _running(helper):
            os.kill(helper, signal.SIGKILL)


def test_a_helper_whose_scheduler_died_before_its_watch_began_ends_at_once():
    """The watch compares its parent with the scheduler's pid as the scheduler read it, not as the helper finds it
    when it starts: here process 1 stands for a scheduler that is not (or no longer) the parent."""
    watched = subprocess.run([sys.executable, "-c", "from timers.wake_pool import _watch_parent; _watch_parent(1)"],
                             cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                             capture_output=True, text=True, timeout=START_TIMEOUT, check=False)
    assert watched.returncode == 1
    assert "its scheduler (process 1) is gone; stopping" in watched.stderr


@pytest.mark.slow
def test_a_helper_tunes_its_garbage_collector_as_the_scheduler_does(tmp_path):
    """A helper wakes cases as the scheduler does, so it collects garbage as rarely: with Python's defaults one
    process woke cases about half as fast, and a catch-up by two processes about a fifth slower."""
    pool = WakePool(create_engine_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fangpin.db'}"}), 2)
    try:
        assert pool._executor_started().submit(gc.get_threshold).result(timeout=START_TIMEOUT) == GC_THRESHOLDS
    finally:
        pool.close()
